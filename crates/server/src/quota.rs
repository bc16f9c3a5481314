//! The per-user storage quota (off unless configured): what a user keeps —
//! their uploads and their jobs' artifacts — may not grow past it through
//! uploads. Jobs still store their results; a user past the quota makes room
//! by deleting uploads or jobs.

use crate::error::{code, ApiError};
use crate::state::AppState;

/// The most bytes one upload of this user may hold now.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimit {
    pub bytes: u64,
    /// The user's quota, when it is what sets the limit.
    quota: Option<u64>,
}

impl UploadLimit {
    /// The upload size limit, lowered to the room left in the user's quota.
    pub async fn for_user(state: &AppState, user_id: &str) -> Result<Self, ApiError> {
        let largest = Self {
            bytes: state.max_upload_bytes,
            quota: None,
        };
        let Some(quota) = state.user_quota_bytes else {
            return Ok(largest);
        };
        let used = state.engine.storage_used(user_id).await?;
        let room = quota.saturating_sub(u64::try_from(used).unwrap_or(0));
        Ok(if room < largest.bytes {
            Self {
                bytes: room,
                quota: Some(quota),
            }
        } else {
            largest
        })
    }

    /// Refuses a size known in advance that is over the limit.
    pub fn check(&self, size: u64) -> Result<(), ApiError> {
        if size > self.bytes {
            Err(self.refusal())
        } else {
            Ok(())
        }
    }

    /// The answer to an upload over the limit: 413, and which limit it was.
    pub fn refusal(&self) -> ApiError {
        match self.quota {
            Some(quota) => ApiError::new(
                code::QUOTA_EXCEEDED,
                format!(
                    "the upload does not fit in your storage quota of {quota} bytes \
                     ({} bytes left); delete uploads or jobs you no longer need",
                    self.bytes
                ),
            ),
            None => ApiError::too_large(self.bytes),
        }
    }
}
