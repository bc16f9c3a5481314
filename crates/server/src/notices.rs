//! What a submission asks to be told of its job's end — a callback URL, an
//! address to mail — checked before the job is queued.

use kinoflow_engine::store::JobNotices;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

/// The notices as given, or a 422 that says what is wrong with them. A job
/// that names no address is mailed to its owner when they asked for that.
pub async fn check_notices(
    state: &AppState,
    user: &AuthUser,
    callback_url: Option<String>,
    notify_email: Option<String>,
) -> Result<JobNotices, ApiError> {
    let callback_url = callback_url.map(|url| url.trim().to_owned());
    if let Some(url) = &callback_url {
        kinoflow_notify::address::check_url(url, state.webhook_allow_private)
            .await
            .map_err(|reason| ApiError::unprocessable(format!("callback_url: {reason}")))?;
    }
    let email = match notify_email.map(|address| address.trim().to_owned()) {
        Some(address) => {
            require_mail(state, "notify_email")?;
            kinoflow_notify::mail::check_address(&address)
                .map_err(|reason| ApiError::unprocessable(format!("notify_email: {reason}")))?;
            Some(address)
        }
        None => owner_notices(state, user).email,
    };
    Ok(JobNotices {
        callback_url,
        email,
    })
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
