//! Accounts, access tokens and API keys.

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::{Form, Json};
use kinoflow_engine::store::{Role, UserRecord};
use kinoflow_engine::FieldError;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;

use crate::auth::{new_api_key, AuthUser, ClientNetwork, LoggedInUser, TOKEN_TYPE};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::notices::require_mail;
use crate::state::AppState;
use crate::views::{ApiKeyView, UserView};

const MIN_PASSWORD_LEN: usize = 8;
/// The longest e-mail address accepted (RFC 5321's limit on a path); a
/// longer one is refused before anything is kept.
const MAX_EMAIL_BYTES: usize = 254;
/// The longest password accepted; a longer one is refused before it is hashed.
const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Deserialize, ToSchema)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// The OAuth2 password grant's form.
#[derive(Deserialize, ToSchema)]
pub struct PasswordForm {
    pub username: String,
    pub password: String,
    pub grant_type: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateApiKey {
    /// A name to recognise the key by.
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub view: ApiKeyView,
    /// The key itself. It is shown only this once.
    pub key: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    pub api_keys: Vec<ApiKeyView>,
}

/// E-mail addresses are compared in one form: compatibility-composed
/// (NFKC) and in lower case, so that `josé` typed with a combining accent,
/// or in capitals, is the same account.
pub fn normalise_email(email: &str) -> String {
    email.trim().nfkc().collect::<String>().to_lowercase()
}

/// Refuses (422) an e-mail address or password longer than any real one,
/// before it is normalised, counted or hashed.
pub fn refuse_oversized(credentials: &Credentials) -> Result<(), ApiError> {
    invalid_unless_empty(oversized_fields(&credentials.email, &credentials.password))
}

fn oversized_fields(email: &str, password: &str) -> Vec<FieldError> {
    let mut fields = Vec::new();
    if email.len() > MAX_EMAIL_BYTES {
        fields.push(FieldError::new(
            "email",
            format!("must be at most {MAX_EMAIL_BYTES} bytes"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        fields.push(FieldError::new(
            "password",
            format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    fields
}

fn invalid_unless_empty(fields: Vec<FieldError>) -> Result<(), ApiError> {
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unprocessable("invalid account details").with_fields(fields))
    }
}

/// Checks an e-mail address and password before an account is made.
pub fn check_new_account(email: &str, password: &str) -> Result<(), ApiError> {
    let mut fields = oversized_fields(email, password);
    let plausible = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.contains(char::is_whitespace)
        // `.invalid` (RFC 2606) names kinoflow's own accounts, such as the
        // anonymous one; no person has such an address.
        && !email.ends_with(".invalid");
    if !plausible {
        fields.push(FieldError::new("email", "not a valid e-mail address"));
    }
    if password.chars().count() < MIN_PASSWORD_LEN {
        fields.push(FieldError::new(
            "password",
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    invalid_unless_empty(fields)
}

/// Creates an account with the `user` role.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = Credentials,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    client: ClientNetwork,
    ApiJson(credentials): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    state.auth_limits.check_registration_from(&client)?;
    let user = create_account(&state, credentials).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user.into()))))
}

/// Makes an account with the `user` role once its details pass; 409 when
/// the address has one. The caller has checked the client's registration rate.
pub async fn create_account(
    state: &AppState,
    credentials: Credentials,
) -> Result<UserRecord, ApiError> {
    refuse_oversized(&credentials)?;
    let email = normalise_email(&credentials.email);
    check_new_account(&email, &credentials.password)?;
    let store = &state.store;
    // A taken address is refused before the costly hash.
    if store.user_by_email(&email).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "a user with e-mail {email} already exists"
        )));
    }
    let hash = state.passwords.hash(credentials.password).await?;
    Ok(store.create_user(&email, &hash, Role::User).await?)
}

/// Exchanges e-mail and password for an access token. Takes JSON
/// `{email, password}` or the OAuth2 password form (`username`, `password`).
#[utoipa::path(post, path = "/v1/auth/token", tag = "auth",
    request_body(content(
        (Credentials = "application/json"),
        (PasswordForm = "application/x-www-form-urlencoded"))),
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn token(
    State(state): State<AppState>,
    client: ClientNetwork,
    request: Request,
) -> Result<Json<TokenResponse>, ApiError> {
    state.auth_limits.check_login_from(&client)?;
    let credentials = read_credentials(request).await?;
    let user = log_in(&state, credentials).await?;
    Ok(Json(TokenResponse {
        access_token: state.tokens.issue(&user.id)?,
        token_type: TOKEN_TYPE.to_owned(),
        expires_in: state.tokens.ttl.as_secs(),
    }))
}

/// The account of an e-mail address and password; 401 when they do not
/// match (the same answer, and as slow, whether or not the address has an
/// account). The caller has checked the client's login rate.
pub async fn log_in(state: &AppState, credentials: Credentials) -> Result<UserRecord, ApiError> {
    refuse_oversized(&credentials)?;
    let email = normalise_email(&credentials.email);
    state.auth_limits.check_login_to(&email)?;
    let user = state.store.user_by_email(&email).await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let valid = state
        .passwords
        .verify(credentials.password, stored_hash)
        .await;
    user.filter(|_| valid)
        .ok_or_else(|| ApiError::unauthorized("wrong e-mail or password"))
}

/// Reads login credentials from either JSON or an OAuth2 password form.
pub async fn read_credentials(request: Request) -> Result<Credentials, ApiError> {
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let Form(form) = Form::<PasswordForm>::from_request(request, &())
            .await
            .map_err(|e| ApiError::bad_request(format!("invalid form: {}", e.body_text())))?;
        if form.grant_type.as_deref().is_some_and(|g| g != "password") {
            return Err(ApiError::bad_request("grant_type must be password"));
        }
        return Ok(Credentials {
            email: form.username,
            password: form.password,
        });
    }
    let ApiJson(credentials) = ApiJson::<Credentials>::from_request(request, &()).await?;
    Ok(credentials)
}

/// The caller's account.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn me(user: AuthUser) -> Json<UserView> {
    Json(UserView::from(&user))
}

/// The settings a user may change on their account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// Mail me at the end of each of my jobs (success with a download link,
    /// or failure) unless the job names its own `notify_email`.
    pub notify_by_email: Option<bool>,
}

/// Changes the caller's settings; fields left out stay as they are.
#[utoipa::path(patch, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    request_body = AccountSettings,
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn update_me(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(settings): ApiJson<AccountSettings>,
) -> Result<Json<UserView>, ApiError> {
    let Some(on) = settings.notify_by_email else {
        return Ok(Json(UserView::from(&user)));
    };
    let updated = set_notify_by_email(&state, &user, on).await?;
    Ok(Json(UserView::from(&updated)))
}

/// Turns the mail at the end of each of the user's jobs on or off; on needs
/// a mail server (422 without one).
pub async fn set_notify_by_email(
    state: &AppState,
    user: &AuthUser,
    on: bool,
) -> Result<AuthUser, ApiError> {
    if on {
        require_mail(state, "notify_by_email")?;
    }
    let updated = state
        .store
        .set_notify_by_email(&user.id, on)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the user no longer exists"))?;
    Ok(updated.into())
}

/// Creates an API key for scripts; the answer holds the key, shown only once.
/// Needs an access token: an API key cannot make keys.
#[utoipa::path(post, path = "/v1/api-keys", tag = "auth", security(("bearer" = [])),
    request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn create_api_key(
    State(state): State<AppState>,
    LoggedInUser(user): LoggedInUser,
    ApiJson(request): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    let created = make_api_key(&state, &user, &request.name).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Makes a key named `name` (1 to 100 characters) for the user.
pub async fn make_api_key(
    state: &AppState,
    user: &AuthUser,
    name: &str,
) -> Result<CreatedApiKey, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::unprocessable("name must be 1 to 100 characters")
            .with_fields(vec![FieldError::new("name", "must be 1 to 100 characters")]));
    }
    let (key, prefix, hash) = new_api_key();
    let record = state
        .store
        .create_api_key(&user.id, name, &prefix, &hash)
        .await?;
    Ok(CreatedApiKey {
        view: record.into(),
        key,
    })
}

/// The caller's API keys (without the keys themselves).
#[utoipa::path(get, path = "/v1/api-keys", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = ApiKeyList), (status = 401, body = ErrorBody)))]
pub async fn list_api_keys(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<ApiKeyList>, ApiError> {
    let keys = state.store.list_api_keys(&user.id).await?;
    Ok(Json(ApiKeyList {
        api_keys: keys.into_iter().map(ApiKeyView::from).collect(),
    }))
}

/// Revokes one of the caller's API keys.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "API key id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
pub async fn revoke_api_key(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.revoke_api_key(&user.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("API key"))
    }
}
