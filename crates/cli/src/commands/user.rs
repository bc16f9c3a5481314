//! `kinoflow user create`: accounts made by the operator, admins included.

use std::io::Read;

use anyhow::{bail, Context};
use kinoflow_engine::store::Role;
use kinoflow_server::{check_new_account, hash_password, normalise_email};

use kinoflow::config::Config;
use kinoflow::runtime::open_database;

/// Creates a user whose password is read from standard input, which
/// `password_stdin` (the `--password-stdin` flag) must say: a password is
/// never taken from the command line, where other users could read it.
pub async fn create(
    config: Config,
    email: &str,
    admin: bool,
    password_stdin: bool,
) -> anyhow::Result<()> {
    if !password_stdin {
        bail!("give the password on standard input with --password-stdin (e.g. `echo 'a long password' | kinoflow user create --email {email} --password-stdin`)");
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("could not read the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    let email = normalise_email(email);
    if let Err(e) = check_new_account(&email, &password) {
        bail!("{}", e.describe());
    }
    let store = open_database(&config).await?;
    let hash = hash_password(password)
        .await
        .map_err(|e| anyhow::anyhow!(e.describe()))?;
    let role = if admin { Role::Admin } else { Role::User };
    let user = store.create_user(&email, &hash, role).await?;
    println!(
        "created {} user {} ({})",
        role.as_str(),
        user.email,
        user.id
    );
    Ok(())
}
