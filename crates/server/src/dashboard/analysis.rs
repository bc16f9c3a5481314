//! New analysis: pick a pipeline, drop a file (the page's script sends it
//! straight to storage through the presign routes), fill the parameter form
//! generated from the pipeline's schema, submit. A refusal shows the form
//! again with each message next to its field, the upload kept.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kinoflow_engine::InputKind;
use maud::{html, Markup};
use serde::Deserialize;

use crate::routes::jobs::{submit_job, CreateJob};
use crate::state::AppState;

use super::browser::SignedIn;
use super::form::SignedInForm;
use super::page;
use super::schema_form;

#[derive(Deserialize)]
pub struct Choice {
    pipeline: Option<String>,
}

/// What the form shows again after a refusal.
#[derive(Default)]
struct Posted {
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    upload_id: Option<String>,
    general: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(choice): Query<Choice>,
) -> Response {
    analysis_page(
        &state,
        &signed_in,
        choice.pipeline.as_deref(),
        Posted::default(),
        StatusCode::OK,
    )
    .await
}

async fn analysis_page(
    state: &AppState,
    signed_in: &SignedIn,
    chosen: Option<&str>,
    posted: Posted,
    status: StatusCode,
) -> Response {
    let pipelines = &state.engine.pipelines;
    let chosen = chosen.and_then(|name| pipelines.get(name));
    let upload_name = match &posted.upload_id {
        Some(id) => state
            .engine
            .upload(id)
            .await
            .ok()
            .flatten()
            .filter(|upload| upload.owner_id == signed_in.user.id)
            .map(|upload| upload.filename),
        None => None,
    };
    let body = html! {
        // Once one is chosen the others shrink to their names, so the form comes first.
        nav.pipelines.compact[chosen.is_some()] aria-label="Pipelines" {
            ul {
                @for pipeline in pipelines.iter() {
                    li {
                        a href={"/new?pipeline=" (pipeline.name())}
                            aria-current=[chosen.as_ref().filter(|c| c.name() == pipeline.name()).map(|_| "page")] {
                            strong { (pipeline.name()) }
                            @if chosen.is_none() {
                                span { (pipeline.description()) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(pipeline) = &chosen {
            @let fields = schema_form::fields(&pipeline.params_schema());
            form.card #analysis method="post" action="/new" novalidate {
                h2 { (pipeline.name()) }
                p.help { (pipeline.description()) }
                @if let Some(message) = &posted.general {
                    p.error role="alert" { (message) }
                }
                (page::csrf_field(&signed_in.csrf))
                input type="hidden" name="pipeline" value=(pipeline.name());
                @if pipeline.input() != InputKind::None {
                    (file_drop(pipeline.input(), posted.upload_id.as_deref(), upload_name.as_deref(),
                               posted.errors.get("upload_id")))
                }
                @if let Some(description) = pipeline.params_schema().get("description").and_then(|d| d.as_str()) {
                    p.help { (description) }
                }
                fieldset {
                    legend { "Parameters" }
                    (schema_form::inputs(&fields, &posted.values, &posted.errors))
                }
                button #submit type="submit" { "Run " (pipeline.name()) }
            }
        } @else {
            p { "Choose what to run." }
        }
    };
    page::respond(status, "New analysis", Some(signed_in), body)
}

/// The drop zone: the script uploads the file and fills `upload_id`.
fn file_drop(
    input: InputKind,
    upload_id: Option<&str>,
    upload_name: Option<&str>,
    error: Option<&String>,
) -> Markup {
    let accept = match input {
        InputKind::Csv => ".csv,text/csv",
        _ => "video/*,.avi,.mkv,.mov,.mp4,.webm",
    };
    html! {
        div.field.drop data-upload="" {
            label for="file" { "File (" (input.as_str()) ")" }
            input #file type="file" accept=(accept) aria-describedby="upload-status";
            input #upload_id type="hidden" name="upload_id" value=[upload_id];
            progress #upload-progress max="100" value="0" hidden {}
            p #upload-status.help role="status" aria-live="polite" {
                @if let Some(name) = upload_name { "Uploaded: " (name) }
                @else { "Drop a file here or choose one; it is sent before you run." }
            }
            button #upload-retry.secondary type="button" hidden { "Try the upload again" }
            @if let Some(message) = error {
                p.field-error { (message) }
            }
        }
    }
}

pub async fn submit(
    State(state): State<AppState>,
    SignedInForm { signed_in, fields }: SignedInForm,
) -> Response {
    let name = fields.get("pipeline").unwrap_or_default().to_owned();
    let Some(pipeline) = state.engine.pipelines.get(&name) else {
        return page::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("There is no pipeline {name:?}."),
        );
    };
    let schema_fields = schema_form::fields(&pipeline.params_schema());
    let upload_id = fields
        .get("upload_id")
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    // What the form shows again: each input's last value (a checkbox posts
    // its hidden default first).
    let mut posted = Posted {
        values: schema_fields
            .iter()
            .filter_map(|field| {
                let value = fields.get(&field.input_name())?;
                Some((field.input_name(), value.to_owned()))
            })
            .collect(),
        upload_id: upload_id.clone(),
        ..Posted::default()
    };
    let params = match schema_form::params(&schema_fields, &fields) {
        Ok(params) => params,
        Err(errors) => {
            posted.errors = errors;
            posted.general = Some("Some parameters need fixing.".to_owned());
            return analysis_page(
                &state,
                &signed_in,
                Some(&name),
                posted,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let job = CreateJob {
        pipeline: name.clone(),
        upload_id,
        params: Some(params),
        callback_url: None,
        notify_email: None,
    };
    match submit_job(&state, &signed_in.user, job, None).await {
        Ok(job) => Redirect::to(&format!("/jobs/{}", job.id)).into_response(),
        Err(error) => {
            let field_errors = error.field_errors();
            if field_errors.is_empty() {
                posted.general = Some(error.describe());
            } else {
                posted.general = Some(error.message().to_owned());
            }
            for (field, message) in field_errors {
                posted.errors.insert(input_of(&field), message);
            }
            analysis_page(&state, &signed_in, Some(&name), posted, error.status()).await
        }
    }
}

/// The input an error's field names: `params.scenes.0.image` is in the
/// `params.scenes` input.
fn input_of(field: &str) -> String {
    match field.strip_prefix("params.") {
        Some(rest) => format!("params.{}", rest.split('.').next().unwrap_or(rest)),
        None => field.to_owned(),
    }
}
