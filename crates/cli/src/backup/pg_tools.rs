//! PostgreSQL's own tools, run as child processes: `pg_dump` (custom
//! format), `pg_restore --list` and `pg_restore`. Each runs without a
//! terminal and without prompting; its exit status is checked and what it
//! wrote to stderr is the error. The password goes to the child in
//! `PGPASSWORD`, never on its command line, where other users could read it.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;

use anyhow::{bail, Context};

/// Dumps the database at `url` into `target`, in the custom format.
pub async fn dump(url: &str, target: &Path) -> anyhow::Result<()> {
    let args = ["--format=custom".into(), "--file".into(), target.into()];
    run_on("pg_dump", url, &args).await
}

/// Reads the table of contents of the dump at `path`.
pub async fn list(path: &Path) -> anyhow::Result<()> {
    run("pg_restore", &["--list".into(), path.into()], None).await
}

/// Restores the dump at `path` into the database at `url`, replacing what
/// it holds, in one transaction: on an error nothing is changed.
pub async fn restore(url: &str, path: &Path) -> anyhow::Result<()> {
    let args = [
        OsString::from("--clean"),
        "--if-exists".into(),
        "--no-owner".into(),
        "--no-privileges".into(),
        "--single-transaction".into(),
        "--exit-on-error".into(),
        path.into(),
    ];
    run_on("pg_restore", url, &args).await
}

/// Runs `tool` with `args` on the database at `url`.
async fn run_on(tool: &str, url: &str, args: &[OsString]) -> anyhow::Result<()> {
    let connection = Connection::parse(url)?;
    let mut args = args.to_vec();
    args.extend([
        "--no-password".into(),
        "--dbname".into(),
        connection.url.into(),
    ]);
    run(tool, &args, connection.password.as_deref()).await
}

/// A PostgreSQL URL split for libpq: the URL without its password, and the
/// password.
struct Connection {
    url: String,
    password: Option<String>,
}

impl Connection {
    fn parse(url: &str) -> anyhow::Result<Self> {
        let mut parsed = url::Url::parse(url).context("the database URL is not a valid URL")?;
        let password = match parsed.password() {
            Some(encoded) => Some(
                percent_encoding::percent_decode_str(encoded)
                    .decode_utf8()
                    .context("the database password is not UTF-8")?
                    .into_owned(),
            ),
            None => None,
        };
        if parsed.set_password(None).is_err() {
            bail!("the database URL has no host");
        }
        Ok(Self {
            url: parsed.into(),
            password,
        })
    }
}

async fn run(tool: &str, args: &[OsString], password: Option<&str>) -> anyhow::Result<()> {
    let mut command = tokio::process::Command::new(tool);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = match command.output().await {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{tool} is not installed: backups of PostgreSQL need its client tools \
             (Debian package postgresql-client; scripts/install-deps installs it)"
        ),
        Err(e) => return Err(e).with_context(|| format!("could not run {tool}")),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("{tool} failed ({}): {}", output.status, stderr.trim());
    }
    Ok(())
}
