//! Signing up, in and out. The sign-in forms are posted before there is a
//! session, so their CSRF token is bound to a cookie of their own that the
//! form page sets: another site can neither read it nor post it.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use rand::RngCore;

use crate::auth::{session, ClientNetwork};
use crate::error::ApiError;
use crate::routes::auth::{create_account, log_in, Credentials};
use crate::state::AppState;

use super::browser::Visitor;
use super::form::{CsrfRefused, Fields, SignedInForm};
use super::page;

const FORM_COOKIE: &str = "kinoflow_form";

/// Which of the two account forms.
#[derive(Clone, Copy, PartialEq)]
enum Door {
    SignIn,
    SignUp,
}

impl Door {
    fn title(self) -> &'static str {
        match self {
            Door::SignIn => "Sign in",
            Door::SignUp => "Sign up",
        }
    }

    fn action(self) -> &'static str {
        match self {
            Door::SignIn => "/signin",
            Door::SignUp => "/signup",
        }
    }
}

pub async fn sign_in_page(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
) -> Response {
    door_page(&state, visitor, &headers, Door::SignIn)
}

pub async fn sign_up_page(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
) -> Response {
    door_page(&state, visitor, &headers, Door::SignUp)
}

/// The form, with the pre-session cookie set when the browser has none.
fn door_page(state: &AppState, visitor: Visitor, headers: &HeaderMap, door: Door) -> Response {
    if visitor.0.is_some() {
        return Redirect::to("/jobs").into_response();
    }
    let (binding, new_cookie) = match form_cookie(headers) {
        Some(value) => (value.to_owned(), None),
        None => {
            let value = random_hex();
            let cookie = format!("{FORM_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict");
            (value, HeaderValue::from_str(&cookie).ok())
        }
    };
    let csrf = session::csrf_token(state, &form_binding(&binding));
    let mut response = door_form(door, &csrf, "", &[], StatusCode::OK);
    if let Some(cookie) = new_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn door_form(
    door: Door,
    csrf: &str,
    email: &str,
    errors: &[(String, String)],
    status: StatusCode,
) -> Response {
    let error_of = |field: &str| -> Option<&str> {
        errors
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, message)| message.as_str())
    };
    let general = error_of("");
    let body = html! {
        form.card.narrow method="post" action=(door.action()) novalidate {
            (page::csrf_field(csrf))
            @if let Some(message) = general {
                p.error role="alert" { (message) }
            }
            (account_field("email", "E-mail", "email", email, error_of("email"), "username"))
            (account_field("password", "Password", "password", "", error_of("password"),
                if door == Door::SignUp { "new-password" } else { "current-password" }))
            button type="submit" { (door.title()) }
            @match door {
                Door::SignIn => p { "No account yet? " a href="/signup" { "Sign up" } },
                Door::SignUp => p { "Have an account? " a href="/signin" { "Sign in" } },
            }
        }
    };
    page::respond(status, door.title(), None, body)
}

fn account_field(
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    error: Option<&str>,
    autocomplete: &str,
) -> Markup {
    let error_id = format!("{name}-error");
    html! {
        div.field {
            label for=(name) { (label) }
            input #(name) name=(name) type=(kind) value=(value) required
                autocomplete=(autocomplete)
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| error_id.as_str())];
            @if let Some(message) = error {
                p.field-error id=(error_id) { (message) }
            }
        }
    }
}

pub async fn sign_in(
    State(state): State<AppState>,
    client: ClientNetwork,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    enter(&state, &client, &headers, fields, Door::SignIn).await
}

pub async fn sign_up(
    State(state): State<AppState>,
    client: ClientNetwork,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    enter(&state, &client, &headers, fields, Door::SignUp).await
}

/// Checks the form's token, makes the account (sign-up) or checks the
/// password (sign-in), and starts a session; a refusal shows the form again
/// with the reason next to the field.
async fn enter(
    state: &AppState,
    client: &ClientNetwork,
    headers: &HeaderMap,
    fields: Fields,
    door: Door,
) -> Response {
    // Without the form's own cookie there is nothing the token could be bound to.
    let Some(cookie) = form_cookie(headers) else {
        return CsrfRefused.into_response();
    };
    let binding = form_binding(cookie);
    if let Err(refused) = fields.check_csrf(state, &binding) {
        return refused.into_response();
    }
    let credentials = Credentials {
        email: fields.get("email").unwrap_or_default().to_owned(),
        password: fields
            .0
            .iter()
            .rev()
            .find(|(name, _)| name == "password")
            .map(|(_, value)| value.clone())
            .unwrap_or_default(),
    };
    let email = credentials.email.clone();
    let user = match door {
        Door::SignIn => match state.auth_limits.check_login_from(client) {
            Ok(()) => log_in(state, credentials).await,
            Err(e) => Err(e),
        },
        Door::SignUp => match state.auth_limits.check_registration_from(client) {
            Ok(()) => create_account(state, credentials).await,
            Err(e) => Err(e),
        },
    };
    let user = match user {
        Ok(user) => user,
        Err(error) => {
            let csrf = session::csrf_token(state, &binding);
            return door_form(door, &csrf, &email, &field_errors(&error), error.status());
        }
    };
    match session::start(state, &user.id).await {
        Ok(started) => {
            let mut response = Redirect::to("/jobs").into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, started.set_cookie);
            response
        }
        Err(e) => page::api_error(&e),
    }
}

/// An API error as messages by field; `""` for the error as a whole.
fn field_errors(error: &ApiError) -> Vec<(String, String)> {
    let fields = error.field_errors();
    if fields.is_empty() {
        vec![(String::new(), error.describe())]
    } else {
        fields
    }
}

/// Ends the session everywhere and forgets the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    SignedInForm { signed_in, .. }: SignedInForm,
) -> Response {
    if let Err(e) = session::end(&state, &signed_in.session_id).await {
        return page::api_error(&e);
    }
    let mut response = Redirect::to("/signin").into_response();
    if let Ok(cookie) = session::cleared_cookie(&state) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn form_cookie(headers: &HeaderMap) -> Option<&str> {
    session::cookie_value(headers, FORM_COOKIE)
}

/// What a sign-in form's token is bound to: never a session id.
fn form_binding(cookie: &str) -> String {
    format!("form:{cookie}")
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
