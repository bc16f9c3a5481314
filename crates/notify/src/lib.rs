//! kinoflow's notifications: the delivery of what the outbox holds. The
//! store writes a delivery in the same transaction as the state change it
//! announces; any node's [`Notifier`] sends it — a webhook signed the
//! Standard Webhooks way, or an e-mail with a download link — and records
//! every attempt, retrying with exponential backoff until the delivery's
//! window (24 h) closes.

pub mod address;
pub mod mail;
mod outbox;
pub mod signature;
mod webhook;

pub use mail::{DownloadLink, DownloadLinks, MailSettings};
pub use outbox::{Notifier, NotifierConfig};
