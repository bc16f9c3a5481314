//! `kinoflow user create`: accounts made by the operator, admins included.

use std::io::Read;

use anyhow::{bail, Context};
use kinoflow_engine::store::Role;
use kinoflow_server::{check_new_account, hash_password, normalise_email};

use crate::runtime::open_engine;
use crate::settings::Settings;

/// Creates a user whose password is read from standard input.
pub async fn create(settings: Settings, email: &str, admin: bool) -> anyhow::Result<()> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("could not read the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    let email = normalise_email(email);
    if let Err(e) = check_new_account(&email, &password) {
        let reasons: Vec<String> = e
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect();
        bail!("{}", reasons.join("; "));
    }
    let engine = open_engine(&settings).await?;
    let hash = hash_password(password)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let role = if admin { Role::Admin } else { Role::User };
    let user = engine.store.create_user(&email, &hash, role).await?;
    println!(
        "created {} user {} ({})",
        role.as_str(),
        user.email,
        user.id
    );
    Ok(())
}
