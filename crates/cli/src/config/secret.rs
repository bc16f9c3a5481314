//! A configuration value that must not reach a log or a terminal whole.

use serde::{Serialize, Serializer};

const MASK: &str = "********";

/// A secret setting: `Debug` prints `[redacted]`, and the effective
/// configuration shows it masked ([`Secret::masked`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What may be shown: a URL with only its password masked
    /// (`postgres://user:********@host/db`), anything else masked whole.
    pub fn masked(&self) -> String {
        match self.0.split_once("://") {
            Some((scheme, rest)) => mask_url_password(scheme, rest),
            None => MASK.to_owned(),
        }
    }
}

/// `user:secret@host/db` after `scheme://` → `user:********@host/db`; a URL
/// without a password is shown as it is.
fn mask_url_password(scheme: &str, rest: &str) -> String {
    // The last '@': a password may hold one; masking too much is harmless.
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return format!("{scheme}://{rest}");
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:{MASK}@{host}"),
        None => format!("{scheme}://{rest}"),
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2hunter2".into());
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(secret.masked(), MASK);
    }

    #[test]
    fn urls_keep_all_but_their_password() {
        let url = |s: &str| Secret::new(s.into()).masked();
        assert_eq!(
            url("postgres://kino:pw@db/kino"),
            "postgres://kino:********@db/kino"
        );
        assert_eq!(
            url("smtps://mailer:p@ss@mail.example.com"),
            "smtps://mailer:********@mail.example.com"
        );
        assert_eq!(
            url("sqlite://data/kinoflow.db"),
            "sqlite://data/kinoflow.db"
        );
        assert_eq!(url("smtp://relay@mail:25"), "smtp://relay@mail:25");
    }
}
