//! An uploaded file as the submission checks see it: its path, and what the
//! checks have learned about it so far, so that a batch of jobs on one upload
//! probes it once however many pipelines and parameter sets look at it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};

use tokio::sync::Mutex;

/// One fetched upload during submission checks.
pub struct InputFile {
    path: PathBuf,
    /// One answer per type of fact (a probe, say); the lock is held while a
    /// fact is learned, so that a second check waits for the first's answer
    /// instead of asking again.
    facts: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl InputFile {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            facts: Mutex::default(),
        }
    }

    /// Where the file is on this node.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The fact of type `T` about this file: `learn` runs the first time a
    /// check asks for it, and every later check gets that first answer (an
    /// error too, when `T` is a `Result`).
    pub async fn fact<T, F, Fut>(&self, learn: F) -> T
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce(&Path) -> Fut,
        Fut: Future<Output = T>,
    {
        let mut facts = self.facts.lock().await;
        if let Some(known) = facts
            .get(&TypeId::of::<T>())
            .and_then(|f| f.downcast_ref::<T>())
        {
            return known.clone();
        }
        let fact = learn(&self.path).await;
        facts.insert(TypeId::of::<T>(), Box::new(fact.clone()));
        fact
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Clone, PartialEq, Debug)]
    struct Size(u64);

    #[derive(Clone, PartialEq, Debug)]
    struct Name(String);

    #[tokio::test]
    async fn each_fact_is_learned_once_and_kinds_are_apart() {
        let file = InputFile::new(PathBuf::from("/uploads/a.mp4"));
        let learned = AtomicUsize::new(0);
        let size = || async {
            learned.fetch_add(1, Ordering::SeqCst);
            Size(42)
        };
        assert_eq!(file.fact(|_| size()).await, Size(42));
        assert_eq!(file.fact(|_| size()).await, Size(42));
        assert_eq!(learned.load(Ordering::SeqCst), 1);

        let name = file
            .fact(|path| {
                let name = Name(path.display().to_string());
                async move { name }
            })
            .await;
        assert_eq!(name, Name("/uploads/a.mp4".into()));
    }

    #[tokio::test]
    async fn a_failed_answer_is_kept_too() {
        let file = InputFile::new(PathBuf::from("x"));
        let first: Result<u8, String> = file.fact(|_| async { Err("unreadable".into()) }).await;
        let second: Result<u8, String> = file.fact(|_| async { Ok(1) }).await;
        assert_eq!(first, second);
    }
}
