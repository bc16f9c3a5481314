//! What a submission asks to be told of its job's end — a callback URL, an
//! address to mail — checked before the job is queued.

use std::collections::HashSet;

use kinoflow_engine::store::JobNotices;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// Checks the notices of the jobs of one request. A callback URL that several
/// jobs of a batch name is looked up once (each lookup may take seconds).
pub struct NoticeChecks<'a> {
    state: &'a AppState,
    user: &'a AuthUser,
    checked_urls: HashSet<String>,
}

impl<'a> NoticeChecks<'a> {
    pub fn new(state: &'a AppState, user: &'a AuthUser) -> Self {
        Self {
            state,
            user,
            checked_urls: HashSet::new(),
        }
    }

    /// The notices as given, or a 422 that says what is wrong with them. A
    /// job that names no address is mailed to its owner when they asked for that.
    pub async fn check(
        &mut self,
        callback_url: Option<String>,
        notify_email: Option<String>,
    ) -> Result<JobNotices, ApiError> {
        let callback_url = match callback_url {
            Some(url) if self.checked_urls.contains(url.trim()) => Some(url.trim().to_owned()),
            Some(url) => {
                let url = checked_url(self.state, "callback_url", &url).await?;
                self.checked_urls.insert(url.clone());
                Some(url)
            }
            None => None,
        };
        let email = match notify_email.map(|address| address.trim().to_owned()) {
            Some(address) => {
                require_mail(self.state, "notify_email")?;
                kinoflow_notify::mail::check_address(&address)
                    .map_err(|reason| ApiError::unprocessable(format!("notify_email: {reason}")))?;
                Some(address)
            }
            None => owner_notices(self.state, self.user).email,
        };
        Ok(JobNotices {
            callback_url,
            email,
        })
    }
}

/// `url` trimmed, once it is known to be one kinoflow may call (see
/// [`kinoflow_notify::address::check_url`]); a 422 naming `field` otherwise.
pub async fn checked_url(state: &AppState, field: &str, url: &str) -> Result<String, ApiError> {
    let url = url.trim();
    kinoflow_notify::address::check_url(url, state.webhook_allow_private)
        .await
        .map_err(|reason| ApiError::unprocessable(format!("{field}: {reason}")))?;
    Ok(url.to_owned())
}

/// What the owner's own settings ask for: their address mailed, when they
/// turned that on and this server sends mail.
pub fn owner_notices(state: &AppState, user: &AuthUser) -> JobNotices {
    if user.notify_by_email {
        mail_owner(state, user)
    } else {
        JobNotices::default()
    }
}

/// The owner's address mailed, whatever their setting, when this server
/// sends mail (the frame-extraction service always mailed its users).
pub fn mail_owner(state: &AppState, user: &AuthUser) -> JobNotices {
    JobNotices {
        callback_url: None,
        email: state.mail_enabled.then(|| user.email.clone()),
    }
}

/// A 422 naming `field` when this server has no SMTP server to send mail through.
pub fn require_mail(state: &AppState, field: &str) -> Result<(), ApiError> {
    if state.mail_enabled {
        Ok(())
    } else {
        Err(ApiError::unprocessable(format!(
            "{field}: this server sends no e-mail (its operator has not set KINOFLOW_SMTP_URL)"
        )))
    }
}
