//! Argon2id password hashes. Hashing is deliberately slow and takes 19 MiB,
//! so the server hashes on a few threads of its own, one per core, off the
//! async workers, and each thread keeps its 19 MiB from one hash to the
//! next: a flood of registrations or logins waits its turn instead of taking
//! memory without bound. (Measured: with a fresh allocation for each hash,
//! as the argon2 crate makes, the allocator's heap grew by some 18 MiB a
//! hash, to 470 MiB after 30; on the blocking pool, with ever new threads,
//! faster still.)

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, Output, ParamsString, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use tokio::sync::{oneshot, OnceCell};

use crate::error::ApiError;

/// Argon2's working memory, kept by a hashing thread for all its hashes.
type Workspace = Vec<Block>;

/// Hashes a password with Argon2id and a random salt (PHC string format),
/// for a one-off such as the command line's `user create`.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_in(&password, &mut Workspace::new()))
        .await
        .map_err(ApiError::internal)?
}

/// A new hash of `password`, as the argon2 crate's `PasswordHasher` makes
/// it, computed in `memory`.
fn hash_in(password: &str, memory: &mut Workspace) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    let argon2 = Argon2::default();
    let output =
        argon2_output(&argon2, password, salt.as_salt(), memory).map_err(ApiError::internal)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::default().into()),
        params: ParamsString::try_from(argon2.params()).map_err(ApiError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `stored`, computed in `memory`.
fn verify_in(password: &str, stored: &str, memory: &mut Workspace) -> bool {
    matches(password, stored, memory).unwrap_or(false)
}

fn matches(password: &str, stored: &str, memory: &mut Workspace) -> password_hash::Result<bool> {
    let stored = PasswordHash::new(stored)?;
    let version = stored.version.map(Version::try_from).transpose()?;
    let argon2 = Argon2::new(
        Algorithm::try_from(stored.algorithm)?,
        version.unwrap_or_default(),
        Params::try_from(&stored)?,
    );
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return Ok(false);
    };
    // `Output`'s comparison takes constant time.
    Ok(argon2_output(&argon2, password, salt, memory)? == expected)
}

/// Argon2 of `password` and `salt` with `argon2`'s settings, in `memory`.
fn argon2_output(
    argon2: &Argon2,
    password: &str,
    salt: Salt,
    memory: &mut Workspace,
) -> password_hash::Result<Output> {
    let blocks = argon2.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    let length = argon2
        .params()
        .output_len()
        .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    Output::init_with(length, |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..blocks])
            .map_err(Into::into)
    })
}

/// Work for the hashing threads.
type Work = Box<dyn FnOnce(&mut Workspace) + Send>;

/// The server's password hashing and checking, on its own threads.
pub struct PasswordHashing {
    queue: mpsc::Sender<Work>,
    /// Checked against when the account does not exist, so that an unknown
    /// e-mail address costs as much as a wrong password and login times do
    /// not tell which accounts exist. Made on first use.
    unknown_account_hash: OnceCell<String>,
}

impl PasswordHashing {
    /// Starts `threads` hashing threads (at least one); they end when this
    /// is dropped.
    pub fn new(threads: usize) -> Self {
        let (queue, jobs) = mpsc::channel::<Work>();
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads.max(1) {
            let jobs = Arc::clone(&jobs);
            std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || work_through(&jobs))
                .expect("the system gives the server its password-hashing threads");
        }
        Self {
            queue,
            unknown_account_hash: OnceCell::new(),
        }
    }

    /// One hashing thread per core.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Hashes a new password.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move |memory| hash_in(&password, memory)).await?
    }

    /// Whether `password` matches the account's `stored` hash. With no
    /// account, or one without a password (the anonymous one), a check as
    /// costly that fails.
    pub async fn verify(&self, password: String, stored: Option<String>) -> bool {
        let (hash, can_match) = match stored.filter(|hash| PasswordHash::new(hash).is_ok()) {
            Some(hash) => (hash, true),
            None => match self.unknown_account_hash().await {
                Ok(hash) => (hash, false),
                Err(_) => return false,
            },
        };
        let matches = self
            .run(move |memory| verify_in(&password, &hash, memory))
            .await
            .unwrap_or(false);
        matches && can_match
    }

    async fn unknown_account_hash(&self) -> Result<String, ApiError> {
        self.unknown_account_hash
            .get_or_try_init(|| self.hash("no account has this password".to_owned()))
            .await
            .cloned()
    }

    /// Runs `work` on a hashing thread, once one is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Workspace) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (done, result) = oneshot::channel();
        self.queue
            .send(Box::new(move |memory: &mut Workspace| {
                // A caller that hung up while waiting needs no hash.
                if !done.is_closed() {
                    let _ = done.send(work(memory));
                }
            }))
            .map_err(ApiError::internal)?;
        result.await.map_err(ApiError::internal)
    }
}

/// A hashing thread: does the queue's work, in memory of its own, until the
/// queue is dropped.
fn work_through(jobs: &Mutex<mpsc::Receiver<Work>>) {
    let mut memory = Workspace::new();
    loop {
        let next = match jobs.lock() {
            Ok(jobs) => jobs.recv(),
            Err(_) => return,
        };
        match next {
            Ok(work) => work(&mut memory),
            Err(mpsc::RecvError) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn hashes_are_those_of_the_argon2_crate() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let mut memory = Workspace::new();
        let ours = hash_in("a good password", &mut memory).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"a good password", &parsed)
            .is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"a good password", &salt)
            .unwrap()
            .to_string();
        assert!(verify_in("a good password", &theirs, &mut memory));
        assert!(!verify_in("a bad password", &theirs, &mut memory));
        assert!(!verify_in("a good password", "!", &mut memory));
        assert_eq!(memory.len(), Params::default().block_count());
    }

    #[tokio::test]
    async fn an_unknown_account_waits_for_a_real_check_like_any_other() {
        let hashing = Arc::new(PasswordHashing::new(1));
        let stored = hashing.hash("a good password".to_owned()).await.unwrap();
        assert!(
            hashing
                .verify("a good password".to_owned(), Some(stored.clone()))
                .await
        );
        assert!(!hashing.verify("wrong".to_owned(), Some(stored)).await);

        // While the only thread is busy, a check for an unknown account
        // cannot end: it hashes like the others.
        let (release, busy) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::spawn({
            let hashing = Arc::clone(&hashing);
            async move { hashing.run(move |_| busy.recv()).await }
        });
        let check = tokio::spawn({
            let hashing = Arc::clone(&hashing);
            async move { hashing.verify("a good password".to_owned(), None).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!check.is_finished());
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap().unwrap();
        assert!(!check.await.unwrap());
        assert!(hashing.unknown_account_hash.initialized());
    }
}
