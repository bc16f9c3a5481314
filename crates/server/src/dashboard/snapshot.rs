//! Live pages: a Server-Sent Events stream that reads a snapshot from the
//! store every interval and sends it when it changed. Read from the store,
//! not from this node's memory, so a page sees jobs that any node runs.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde_json::Value;

use crate::state::AppState;

/// What a snapshot read says.
pub enum Snapshot {
    /// Send this (when it differs from the last one sent).
    Now(Value),
    /// Send this and end the stream: nothing will change any more.
    Last(Value),
}

/// A stream of `snapshot` events, read by `read` every `every`.
pub fn stream<F, Fut>(
    state: AppState,
    every: Duration,
    read: F,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>>
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: Future<Output = Option<Snapshot>> + Send,
{
    struct Cursor<F> {
        state: AppState,
        read: F,
        last: Option<Value>,
        ended: bool,
        first: bool,
    }
    let cursor = Cursor {
        state,
        read,
        last: None,
        ended: false,
        first: true,
    };
    let events = futures::stream::unfold(cursor, move |mut cursor| async move {
        loop {
            if cursor.ended || cursor.state.shutdown.is_cancelled() {
                return None;
            }
            if !cursor.first {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = cursor.state.shutdown.cancelled() => return None,
                }
            }
            cursor.first = false;
            // A failed read (the database away a moment) is tried again next time.
            let (value, last) = match (cursor.read)(cursor.state.clone()).await {
                Some(Snapshot::Now(value)) => (value, false),
                Some(Snapshot::Last(value)) => (value, true),
                None => continue,
            };
            cursor.ended = last;
            if cursor.last.as_ref() == Some(&value) && !last {
                continue;
            }
            let event = Event::default()
                .event(if last { "last" } else { "snapshot" })
                .data(value.to_string());
            cursor.last = Some(value);
            return Some((Ok(event), cursor));
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
