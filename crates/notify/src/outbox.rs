//! The notifier: takes due deliveries from the outbox, sends them, records
//! each attempt and schedules the next one with exponential backoff. Every
//! node runs one; the store hands each delivery to one node at a time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kinoflow_store::{now_ms, AfterAttempt, Channel, Delivery, DeliveryAttempt, Store, StoreError};
use tokio_util::sync::CancellationToken;

use crate::mail::{DownloadLinks, MailSettings, Mailer};
use crate::signature::new_secret;
use crate::webhook;

/// Deliveries taken from the outbox at a time.
const BATCH: i64 = 16;
/// How long a node holds the deliveries it took: well over the longest
/// attempt, so that another node takes them only when this one died.
const HOLD: Duration = Duration::from_secs(120);
/// The longest one attempt may take, all of it (name lookup, connection,
/// the SMTP conversation): well under [`HOLD`], so that no other node takes
/// a delivery that is still being sent.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(60);
/// The longest wait between two attempts.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// How the notifier works.
#[derive(Clone)]
pub struct NotifierConfig {
    /// Call URLs that resolve to internal addresses too.
    pub allow_private: bool,
    /// The wait after the first failed attempt; it doubles after each one, up to an hour.
    pub retry_base: Duration,
    /// How often the outbox is looked at while it has nothing due.
    pub poll_interval: Duration,
    /// The SMTP server, when mail is to be sent.
    pub mail: Option<MailSettings>,
}

/// Sends what the outbox holds.
pub struct Notifier {
    store: Arc<dyn Store>,
    config: NotifierConfig,
    mailer: Option<Mailer>,
    links: Arc<dyn DownloadLinks>,
}

/// How one attempt went.
pub(crate) struct Tried {
    /// The receiver's HTTP status, for webhooks that got an answer.
    pub status_code: Option<u16>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Trying again cannot help (the endpoint is gone).
    pub hopeless: bool,
}

impl Tried {
    pub fn succeeded() -> Self {
        Self {
            status_code: None,
            error: None,
            hopeless: false,
        }
    }

    pub fn failed(error: String) -> Self {
        Self {
            error: Some(error),
            ..Self::succeeded()
        }
    }
}

impl Notifier {
    /// Fails when the mail settings are not usable.
    pub fn new(
        store: Arc<dyn Store>,
        config: NotifierConfig,
        links: Arc<dyn DownloadLinks>,
    ) -> Result<Self, String> {
        let mailer = config.mail.as_ref().map(Mailer::new).transpose()?;
        Ok(Self {
            store,
            config,
            mailer,
            links,
        })
    }

    /// Delivers until `shutdown` fires; attempts under way finish first.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let hold_until = now_ms() + HOLD.as_millis() as i64;
            // A node that cannot send mail leaves the mail to nodes that can.
            let with_email = self.mailer.is_some();
            let due = match self
                .store
                .claim_deliveries(BATCH, hold_until, with_email)
                .await
            {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the outbox");
                    Vec::new()
                }
            };
            if due.is_empty() {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(self.config.poll_interval) => continue,
                }
            }
            futures::future::join_all(due.iter().map(|delivery| self.deliver(delivery))).await;
            if shutdown.is_cancelled() {
                return;
            }
        }
    }

    async fn deliver(&self, delivery: &Delivery) {
        let started_at = now_ms();
        let clock = Instant::now();
        let tried = self.attempt(delivery).await;
        let succeeded = tried.error.is_none();
        let after = if succeeded {
            AfterAttempt::Delivered
        } else if tried.hopeless {
            AfterAttempt::GiveUp
        } else {
            next_attempt(delivery, self.config.retry_base, now_ms())
        };
        let attempt = DeliveryAttempt {
            delivery_id: delivery.id.clone(),
            attempt: delivery.attempts,
            started_at,
            duration_ms: clock.elapsed().as_millis() as i64,
            status_code: tried.status_code.map(i64::from),
            error: tried.error.clone(),
            succeeded,
        };
        let recorded = match self.store.record_attempt(&attempt, after).await {
            Ok(recorded) => recorded,
            Err(e) => {
                tracing::warn!(delivery = %delivery.id, error = %e, "could not record a delivery attempt");
                return;
            }
        };
        log_attempt(delivery, tried.error.as_deref(), after, recorded);
    }

    /// One try at sending `delivery`, cut off after [`ATTEMPT_LIMIT`].
    async fn attempt(&self, delivery: &Delivery) -> Tried {
        let sending = async {
            match delivery.channel {
                Channel::Webhook => self.send_webhook(delivery).await,
                Channel::Email => self.send_mail(delivery).await,
            }
        };
        tokio::time::timeout(ATTEMPT_LIMIT, sending)
            .await
            .unwrap_or_else(|_| {
                Tried::failed(format!(
                    "the attempt took longer than {} s",
                    ATTEMPT_LIMIT.as_secs()
                ))
            })
    }

    async fn send_webhook(&self, delivery: &Delivery) -> Tried {
        let secret = match self.signing_secret(delivery).await {
            Ok(Some(secret)) => secret,
            Ok(None) => {
                return Tried {
                    hopeless: true,
                    ..Tried::failed("the webhook endpoint was deleted".to_owned())
                }
            }
            Err(e) => return Tried::failed(format!("could not read the signing secret: {e}")),
        };
        webhook::send(delivery, &secret, self.config.allow_private).await
    }

    /// The endpoint's secret, or for a job's own callback URL its owner's
    /// callback secret (made on first use); `None` when the endpoint is gone.
    async fn signing_secret(&self, delivery: &Delivery) -> Result<Option<String>, StoreError> {
        match &delivery.endpoint_id {
            Some(id) => Ok(self.store.get_webhook(id).await?.map(|e| e.secret)),
            None => self
                .store
                .callback_secret(&delivery.owner_id, &new_secret())
                .await
                .map(Some),
        }
    }

    async fn send_mail(&self, delivery: &Delivery) -> Tried {
        let Some(mailer) = &self.mailer else {
            return Tried::failed("this node has no SMTP server configured".to_owned());
        };
        match mailer
            .send_job_end(&delivery.target, &delivery.payload, self.links.as_ref())
            .await
        {
            Ok(()) => Tried::succeeded(),
            Err(error) => Tried::failed(error),
        }
    }
}

/// Logs how an attempt went; `recorded` is false when another node had
/// taken the delivery over by the time it ended.
fn log_attempt(delivery: &Delivery, error: Option<&str>, after: AfterAttempt, recorded: bool) {
    match (error, recorded) {
        (_, false) => tracing::warn!(delivery = %delivery.id, job_id = %delivery.job_id,
            attempt = delivery.attempts,
            "a delivery attempt ended after another node took the delivery over"),
        (None, true) => tracing::info!(delivery = %delivery.id, job_id = %delivery.job_id,
            event = %delivery.event, channel = delivery.channel.as_str(), "delivered"),
        (Some(error), true) => tracing::warn!(delivery = %delivery.id, job_id = %delivery.job_id,
            event = %delivery.event, attempt = delivery.attempts, error = %error,
            next = ?after, "delivery failed"),
    }
}

/// After the n-th failed attempt: wait `base` × 2^(n-1) (at most an hour,
/// plus up to 10 % so that nodes spread out), never past the delivery's
/// window; give up once the window has closed.
fn next_attempt(delivery: &Delivery, base: Duration, now: i64) -> AfterAttempt {
    if now >= delivery.give_up_at {
        return AfterAttempt::GiveUp;
    }
    let doublings = delivery.attempts.saturating_sub(1).clamp(0, 30) as u32;
    let delay = base
        .saturating_mul(1 << doublings)
        .min(MAX_RETRY_DELAY)
        .as_millis() as i64;
    let jitter = rand::random::<f64>() * 0.1 * delay as f64;
    AfterAttempt::RetryAt((now + delay + jitter as i64).min(delivery.give_up_at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinoflow_store::DeliveryState;

    fn delivery(attempts: i64, give_up_at: i64) -> Delivery {
        Delivery {
            id: "d".into(),
            job_id: "j".into(),
            owner_id: "o".into(),
            channel: Channel::Webhook,
            target: "https://example.com".into(),
            endpoint_id: None,
            event: "job.succeeded".into(),
            payload: "{}".into(),
            state: DeliveryState::Pending,
            attempts,
            next_attempt_at: 0,
            give_up_at,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn delay_after(attempts: i64) -> i64 {
        match next_attempt(&delivery(attempts, i64::MAX), Duration::from_secs(5), 0) {
            AfterAttempt::RetryAt(at) => at,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn waits_double_up_to_an_hour() {
        assert!((5000..=5500).contains(&delay_after(1)));
        assert!((10000..=11000).contains(&delay_after(2)));
        assert!((3_600_000..=3_960_000).contains(&delay_after(20)));
    }

    #[test]
    fn the_window_ends_the_retries() {
        let base = Duration::from_secs(5);
        assert_eq!(
            next_attempt(&delivery(3, 1000), base, 500),
            AfterAttempt::RetryAt(1000)
        );
        assert_eq!(
            next_attempt(&delivery(4, 1000), base, 1000),
            AfterAttempt::GiveUp
        );
    }
}
