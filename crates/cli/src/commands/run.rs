//! `kinoflow run`: one job in this process, no server, artifacts to a folder.
//! It uses the real engine on a throw-away SQLite database and blob directory.
//! A pipeline that takes no input file is given its parameters as a file
//! instead (a render spec), whose local file paths are uploaded first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use kinoflow_engine::blobs::LocalBlobs;
use kinoflow_engine::store::{JobState, Role, SqliteStore, Store};
use kinoflow_engine::{
    Engine, EngineConfig, InputKind, NewUpload, Submission, SubmitError, UploadError, WorkerPool,
};
use kinoflow_pipelines::PipelineOptions;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::params::parse_params;
use crate::progress_bar;

const POLL: Duration = Duration::from_millis(200);

pub async fn run(
    pipeline: &str,
    input: Option<&Path>,
    params: &[String],
    out: &Path,
    options: PipelineOptions,
) -> anyhow::Result<()> {
    let workspace = tempfile::tempdir().context("could not make a temporary directory")?;
    let (store, engine) = local_engine(workspace.path(), options).await?;
    let user = store.create_user("cli@localhost", "!", Role::User).await?;
    let takes_input = engine
        .pipelines
        .get(pipeline)
        .is_some_and(|p| p.input() != InputKind::None);
    let (upload_id, params) = match input {
        Some(path) if takes_input => (
            Some(upload(&engine, &user.id, path).await?),
            parse_params(params)?,
        ),
        Some(spec) => {
            let mut params = read_spec(spec, params).await?;
            let base = spec.parent().unwrap_or(Path::new("."));
            upload_named_files(&engine, &user.id, pipeline, &mut params, base).await?;
            (None, params)
        }
        None => (None, parse_params(params)?),
    };
    let (job, _) = engine
        .submit(Submission {
            owner_id: user.id,
            pipeline: pipeline.to_owned(),
            upload_id,
            params,
            idempotency_key: None,
            notices: Default::default(),
        })
        .await
        .map_err(explain)?;
    let pool = WorkerPool::start(engine.clone(), 1);
    let finished = follow(&engine, &job.id).await;
    pool.shutdown(Duration::ZERO).await;
    let job = finished?;
    for warning in &job.warnings {
        eprintln!("warning: {warning}");
    }
    if job.state != JobState::Succeeded {
        bail!(
            "the job {}: {}",
            job.state.as_str(),
            job.error.as_deref().unwrap_or("no reason given")
        );
    }
    save_artifacts(&engine, &job.id, out).await
}

/// The throw-away database, and the engine over it.
async fn local_engine(
    dir: &Path,
    options: PipelineOptions,
) -> anyhow::Result<(Arc<SqliteStore>, Engine)> {
    let store = Arc::new(SqliteStore::open(&dir.join("kinoflow.db")).await?);
    let blobs = LocalBlobs::open(dir.join("blobs")).await?;
    let mut config = EngineConfig::new(dir.join("scratch"));
    // The user waits for this one run at the terminal and can stop it.
    config.max_run_time = Duration::MAX;
    let engine = Engine::new(
        store.clone(),
        Arc::new(blobs),
        kinoflow_pipelines::all(options),
        config,
    );
    Ok((store, engine))
}

async fn upload(engine: &Engine, owner_id: &str, path: &Path) -> anyhow::Result<String> {
    let mut file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("could not read {}", path.display()))?;
    let new = NewUpload {
        owner_id: owner_id.to_owned(),
        filename: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "input".to_owned()),
        content_type: mime_guess::from_path(path)
            .first_or_octet_stream()
            .essence_str()
            .to_owned(),
    };
    match engine.put_upload(new, &mut file, None).await {
        Ok(upload) => Ok(upload.id),
        Err(UploadError::Empty) => bail!("{} is empty", path.display()),
        Err(e) => Err(e).with_context(|| format!("could not store {}", path.display())),
    }
}

/// The parameters of a pipeline that takes no input file, from the file
/// given instead (a JSON document such as a render spec), with the
/// `--param`s laid over it.
async fn read_spec(spec: &Path, pairs: &[String]) -> anyhow::Result<Value> {
    let text = tokio::fs::read_to_string(spec)
        .await
        .with_context(|| format!("could not read {}", spec.display()))?;
    let mut params: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON parameters document", spec.display()))?;
    let Value::Object(fields) = &mut params else {
        bail!("{} must hold a JSON object of parameters", spec.display());
    };
    if let Value::Object(overrides) = parse_params(pairs)? {
        fields.extend(overrides);
    }
    Ok(params)
}

/// Uploads the local files that the parameters name where the pipeline
/// expects upload ids (a render's scene images), and puts their ids there.
/// Paths are relative to `base`, the spec's folder; a value that is no
/// file is left for the submission's checks to judge.
async fn upload_named_files(
    engine: &Engine,
    owner_id: &str,
    pipeline: &str,
    params: &mut Value,
    base: &Path,
) -> anyhow::Result<()> {
    let Some(pipeline) = engine.pipelines.get(pipeline) else {
        return Ok(());
    };
    let mut uploaded: HashMap<PathBuf, String> = HashMap::new();
    for reference in pipeline.referenced_uploads(params) {
        let path = base.join(&reference.upload_id);
        if !path.is_file() {
            continue;
        }
        let id = match uploaded.get(&path) {
            Some(id) => id.clone(),
            None => {
                let id = upload(engine, owner_id, &path).await?;
                uploaded.insert(path, id.clone());
                id
            }
        };
        if let Some(slot) = params.pointer_mut(&reference.pointer) {
            *slot = Value::String(id);
        }
    }
    Ok(())
}

/// Shows the job's progress until it ends (Ctrl-C cancels it).
async fn follow(
    engine: &Engine,
    job_id: &str,
) -> anyhow::Result<kinoflow_engine::store::JobRecord> {
    let bar = progress_bar::job_bar();
    let mut interrupted = false;
    loop {
        let job = engine.job(job_id).await?.context("the job disappeared")?;
        progress_bar::update(&bar, job.progress, job.state.as_str(), job.stage.as_deref());
        if job.state.is_terminal() {
            bar.finish();
            return Ok(job);
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                engine.cancel(job_id).await?;
            }
        }
    }
}

async fn save_artifacts(engine: &Engine, job_id: &str, out: &Path) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(out)
        .await
        .with_context(|| format!("could not create {}", out.display()))?;
    for artifact in engine.artifacts(job_id).await? {
        let target: PathBuf = out.join(&artifact.name);
        let mut reader = engine.read_artifact(&artifact, None).await?;
        let mut file = tokio::fs::File::create(&target)
            .await
            .with_context(|| format!("could not write {}", target.display()))?;
        tokio::io::copy(&mut reader, &mut file).await?;
        file.flush().await?;
        println!("{}", target.display());
    }
    Ok(())
}

/// Submission errors as the CLI user needs them.
fn explain(error: SubmitError) -> anyhow::Error {
    match error {
        SubmitError::InvalidParams(fields) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|f| format!("  {}: {}", f.field, f.message))
                .collect();
            anyhow::anyhow!("invalid parameters:\n{}", lines.join("\n"))
        }
        other => other.into(),
    }
}
