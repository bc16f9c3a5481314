//! Why a provider could not do a task, sorted by what to do about it: wait
//! and try again, or tell the user.

/// A provider's failure.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// No AI provider is configured for this task.
    #[error("no AI provider is configured: set {0}")]
    NotConfigured(&'static str),
    /// The key is missing, wrong or revoked.
    #[error("API key missing or refused by the AI provider: {0}")]
    KeyRefused(String),
    /// The account's quota or credit is used up.
    #[error("Quota hit at the AI provider: {0}")]
    Quota(String),
    /// The model would not do it (a content policy).
    #[error("Model refusal: {0}")]
    Refusal(String),
    /// Busy or failing for now: a timeout, a 429 rate limit, a 5xx.
    #[error("the AI provider is unavailable: {0}")]
    Unavailable(String),
    /// It refused the request for another reason (an unknown model, say).
    #[error("the AI provider refused the request: {0}")]
    Rejected(String),
    /// It answered with something that cannot be used.
    #[error("the AI provider's answer cannot be used: {0}")]
    BadAnswer(String),
}

impl ProviderError {
    /// Whether trying again later may work.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}
