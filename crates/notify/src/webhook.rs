//! Sending one webhook: the delivery's payload, POSTed with the Standard
//! Webhooks headers to the addresses its URL was checked to resolve to.

use std::time::Duration;

use kinoflow_store::Delivery;

use crate::address::check_url;
use crate::outbox::Tried;
use crate::signature::sign;

/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// POSTs `delivery` signed with `secret`; any 2xx answer is success.
pub(crate) async fn send(delivery: &Delivery, secret: &str, allow_private: bool) -> Tried {
    let target = match check_url(&delivery.target, allow_private).await {
        Ok(target) => target,
        Err(reason) => return Tried::failed(reason),
    };
    let timestamp = chrono::Utc::now().timestamp();
    let signature = match sign(secret, &delivery.id, timestamp, &delivery.payload) {
        Ok(signature) => signature,
        Err(reason) => return Tried::failed(reason),
    };
    // Redirects are not followed and no proxy is used: either could lead to
    // an address nobody checked (a proxy resolves the name again itself).
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .resolve_to_addrs(&target.host, &target.addresses)
        .user_agent(concat!("kinoflow/", env!("CARGO_PKG_VERSION")))
        .build();
    let client = match client {
        Ok(client) => client,
        Err(e) => return Tried::failed(format!("could not prepare the request: {e}")),
    };
    let response = client
        .post(target.url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.payload.clone())
        .send()
        .await;
    match response {
        Ok(response) if response.status().is_success() => Tried {
            status_code: Some(response.status().as_u16()),
            ..Tried::succeeded()
        },
        Ok(response) => Tried {
            status_code: Some(response.status().as_u16()),
            ..Tried::failed(format!("the receiver answered {}", response.status()))
        },
        Err(e) if e.is_timeout() => Tried::failed(format!(
            "the receiver did not answer within {} s",
            TIMEOUT.as_secs()
        )),
        Err(e) => Tried::failed(format!("could not reach the receiver: {}", describe(e))),
    }
}

/// The error and its causes, without the URL reqwest puts in front (it is
/// the delivery's target, shown beside it already).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
