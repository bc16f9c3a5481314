//! `kinoflow jobs …`: talk to a running server over its `/v1` API.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::params::parse_params;
use crate::progress_bar;

const POLL: Duration = Duration::from_millis(500);

/// A `/v1` client with a bearer token.
pub struct Client {
    http: reqwest::Client,
    server: String,
    token: String,
}

impl Client {
    pub fn new(server: &str, token: Option<String>) -> anyhow::Result<Self> {
        let token = token
            .filter(|t| !t.is_empty())
            .context("set KINOFLOW_TOKEN (or --token) to an access token or API key")?;
        Ok(Self {
            http: reqwest::Client::new(),
            server: server.trim_end_matches('/').to_owned(),
            token,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("could not reach {}", self.server))?;
        Ok(checked(response).await?.json().await?)
    }

    /// Submits a job, uploading `file` in the same request when given.
    pub async fn submit(
        &self,
        pipeline: &str,
        file: Option<&Path>,
        params: &[String],
    ) -> anyhow::Result<Value> {
        let params = parse_params(params)?;
        let mut form = Form::new()
            .text("pipeline", pipeline.to_owned())
            .text("params", params.to_string());
        if let Some(path) = file {
            let handle = tokio::fs::File::open(path)
                .await
                .with_context(|| format!("could not open {}", path.display()))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "input".to_owned());
            let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(handle));
            form = form.part("file", Part::stream(body).file_name(name));
        }
        let response = self
            .http
            .post(self.url("/v1/jobs"))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .with_context(|| format!("could not reach {}", self.server))?;
        Ok(checked(response).await?.json().await?)
    }

    pub async fn status(&self, job_id: &str) -> anyhow::Result<Value> {
        self.get_json(&format!("/v1/jobs/{job_id}")).await
    }

    /// Polls the job with a progress bar until it ends.
    pub async fn wait(&self, job_id: &str) -> anyhow::Result<Value> {
        let bar = progress_bar::job_bar();
        loop {
            let job = self.status(job_id).await?;
            let state = job["state"].as_str().unwrap_or("unknown");
            progress_bar::update(
                &bar,
                job["progress"].as_f64().unwrap_or(0.0),
                state,
                job["stage"].as_str(),
            );
            if matches!(state, "succeeded" | "failed" | "cancelled") {
                bar.finish();
                return Ok(job);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Saves every artifact of the job into `out`.
    pub async fn download(&self, job_id: &str, out: &Path) -> anyhow::Result<()> {
        let listing = self
            .get_json(&format!("/v1/jobs/{job_id}/artifacts"))
            .await?;
        tokio::fs::create_dir_all(out)
            .await
            .with_context(|| format!("could not create {}", out.display()))?;
        for artifact in listing["artifacts"].as_array().into_iter().flatten() {
            let (Some(name), Some(url)) = (artifact["name"].as_str(), artifact["url"].as_str())
            else {
                continue;
            };
            let mut response = checked(
                self.http
                    .get(self.url(url))
                    .bearer_auth(&self.token)
                    .send()
                    .await?,
            )
            .await?;
            let target = out.join(Path::new(name).file_name().context("bad artifact name")?);
            let mut file = tokio::fs::File::create(&target)
                .await
                .with_context(|| format!("could not write {}", target.display()))?;
            while let Some(chunk) = response.chunk().await? {
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            println!("{}", target.display());
        }
        Ok(())
    }
}

/// Turns an error answer into an error that says what the server said.
async fn checked(response: Response) -> anyhow::Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let message = body["error"]["message"].as_str().unwrap_or("no details");
    let fields: Vec<String> = body["error"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "\n  {}: {}",
                f["field"].as_str().unwrap_or("?"),
                f["message"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if status == StatusCode::UNAUTHORIZED {
        bail!("the server refused the token: {message}");
    }
    bail!("the server answered {status}: {message}{}", fields.concat())
}

/// Prints a job the way `status` and `wait` show it.
pub fn print_job(job: &Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(job)?);
    Ok(())
}
