//! The settings page: API keys for scripts (made, listed, revoked) and the
//! e-mail at the end of each job.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};

use crate::routes::auth::{make_api_key, set_notify_by_email};
use crate::state::AppState;

use super::browser::SignedIn;
use super::form::SignedInForm;
use super::page;

pub async fn page(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    settings_page(&state, &signed_in, None, None, StatusCode::OK).await
}

/// The page, with a key just made (shown this once) or an error.
async fn settings_page(
    state: &AppState,
    signed_in: &SignedIn,
    new_key: Option<&str>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let keys = match state.store.list_api_keys(&signed_in.user.id).await {
        Ok(keys) => keys,
        Err(e) => return page::api_error(&e.into()),
    };
    let body = html! {
        @if let Some(message) = error {
            p.error role="alert" { (message) }
        }
        section.card aria-labelledby="keys-heading" {
            h2 #keys-heading { "API keys" }
            p { "Scripts and the CLI send a key as " code { "Authorization: Bearer <key>" } "." }
            @if let Some(key) = new_key {
                div.notice role="status" {
                    p { "Your new key. Copy it now: it is not shown again." }
                    input.key readonly aria-label="New API key" value=(key);
                }
            }
            @if keys.is_empty() {
                p { "No keys yet." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Starts with" }
                                 th scope="col" { "Made" } th scope="col" { "State" } th { span.sr { "Action" } } } }
                    tbody {
                        @for key in &keys {
                            tr {
                                td { (key.name) }
                                td { code { (key.prefix) "…" } }
                                td { (page::time(key.created_at)) }
                                td { @if key.revoked_at.is_some() { "revoked" } @else { "active" } }
                                td {
                                    @if key.revoked_at.is_none() {
                                        form.inline method="post" action={"/settings/keys/" (key.id) "/revoke"} {
                                            (page::csrf_field(&signed_in.csrf))
                                            button.danger type="submit" aria-label={"Revoke " (key.name)} { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action="/settings/keys" {
                (page::csrf_field(&signed_in.csrf))
                div.field {
                    label for="key-name" { "Name of a new key" }
                    input #key-name name="name" required maxlength="100" placeholder="laptop script";
                }
                button type="submit" { "Make a key" }
            }
        }
        (email_setting(state, signed_in))
    };
    page::respond(status, "Settings", Some(signed_in), body)
}

fn email_setting(state: &AppState, signed_in: &SignedIn) -> Markup {
    html! {
        section.card aria-labelledby="mail-heading" {
            h2 #mail-heading { "E-mail" }
            form method="post" action="/settings/email" {
                (page::csrf_field(&signed_in.csrf))
                input type="hidden" name="notify_by_email" value="false";
                div.check {
                    input #notify type="checkbox" name="notify_by_email" value="true"
                        checked[signed_in.user.notify_by_email] disabled[!state.mail_enabled];
                    label for="notify" { "Mail me at " (signed_in.user.email) " when each of my jobs ends" }
                }
                @if !state.mail_enabled {
                    p.help { "This server sends no e-mail: its operator has not set up a mail server." }
                }
                button type="submit" disabled[!state.mail_enabled] { "Save" }
            }
        }
    }
}

pub async fn create_key(
    State(state): State<AppState>,
    SignedInForm { signed_in, fields }: SignedInForm,
) -> Response {
    let name = fields.get("name").unwrap_or_default();
    match make_api_key(&state, &signed_in.user, name).await {
        Ok(created) => {
            settings_page(
                &state,
                &signed_in,
                Some(&created.key),
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) => settings_page(&state, &signed_in, None, Some(&e.describe()), e.status()).await,
    }
}

pub async fn revoke_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedInForm { signed_in, .. }: SignedInForm,
) -> Response {
    match state.store.revoke_api_key(&signed_in.user.id, &id).await {
        Ok(true) => Redirect::to("/settings").into_response(),
        Ok(false) => page::error_page(StatusCode::NOT_FOUND, "You have no such API key."),
        Err(e) => page::api_error(&e.into()),
    }
}

pub async fn set_email(
    State(state): State<AppState>,
    SignedInForm { signed_in, fields }: SignedInForm,
) -> Response {
    let on = fields.get("notify_by_email") == Some("true");
    match set_notify_by_email(&state, &signed_in.user, on).await {
        Ok(_) => Redirect::to("/settings").into_response(),
        Err(e) => settings_page(&state, &signed_in, None, Some(&e.describe()), e.status()).await,
    }
}
