//! Backups: `kinoflow backup create|list|verify|restore` as real processes
//! on real SQLite and PostgreSQL databases and blob folders, and the backups
//! `serve` writes on a schedule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::harness::{eventually, succeeded, Client, Server, TestDatabase, BIN};

/// `kinoflow backup <args>` on the node whose data is in `data`.
fn backup(args: &[&str], data: &Path) -> Output {
    Command::new(BIN)
        .arg("backup")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("KINOFLOW_JWT_SECRET")
        .output()
        .unwrap()
}

fn stderr_of_failure(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "it succeeded; stderr:\n{stderr}");
    stderr
}

/// The backup archive `backup create` printed the path of.
fn created_archive(output: &Output) -> PathBuf {
    let stdout = succeeded(output);
    let path = stdout.split(" (").next().unwrap();
    PathBuf::from(path)
}

/// Every file under `root` but the writes in progress, with its sha256.
fn blob_files(root: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            if path.is_dir() && name != ".tmp" {
                folders.push(path);
            } else if path.is_file() {
                files.insert(
                    name,
                    hex::encode(Sha256::digest(std::fs::read(&path).unwrap())),
                );
            }
        }
    }
    files
}

/// The file names in `dir`.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What a user sees of their jobs, uploads and artifacts, artifact bytes
/// by their sha256.
async fn user_records(client: &Client, jobs: &[String]) -> Value {
    let mut records = Vec::new();
    for id in jobs {
        let job = client.job(id).await;
        let artifacts: Value = client
            .get(&format!("/v1/jobs/{id}/artifacts"))
            .await
            .json()
            .await
            .unwrap();
        let mut bytes = Vec::new();
        for artifact in artifacts["artifacts"].as_array().unwrap() {
            let name = artifact["name"].as_str().unwrap();
            let content = client.artifact_bytes(id, name).await;
            bytes.push(json!({"name": name, "sha256": hex::encode(Sha256::digest(&content))}));
        }
        let upload = match job["upload_id"].as_str() {
            Some(upload) => client
                .get(&format!("/v1/uploads/{upload}"))
                .await
                .json::<Value>()
                .await
                .unwrap(),
            None => Value::Null,
        };
        records.push(json!({"job": job, "artifacts": artifacts, "bytes": bytes, "upload": upload}));
    }
    Value::Array(records)
}

/// Runs jobs on a node, backs it up with `backup create` while sleep jobs
/// run, destroys the database (with `destroy`) and the blob folder,
/// restores, and finds every record and blob as it was.
async fn round_trip(settings: &[&str], destroy: impl AsyncFnOnce(&Path)) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let node_args = [settings, &["--workers", "2", "--lease-ttl-s", "2"]].concat();
    let mut server = Server::start_in(&data, &node_args);
    let client = server.user("ada@example.com").await;
    let done = vec![client.probed_job().await, client.probed_job().await];
    let mut running = Vec::new();
    for _ in 0..2 {
        let job = client
            .submit(json!({"pipeline": "sleep", "params": {"seconds": 30}}))
            .await;
        running.push(job["id"].as_str().unwrap().to_owned());
    }
    for id in &running {
        client
            .wait_until(id, Duration::from_secs(30), |job| job["state"] == "running")
            .await;
    }
    let blobs = data.join("blobs");
    let blobs_before = blob_files(&blobs);
    let records_before = user_records(&client, &done).await;

    let backups = dir.path().join("backups");
    let create = [
        &["create", "--backup-dir", backups.to_str().unwrap()],
        settings,
    ]
    .concat();
    let archive = created_archive(&backup(&create, &data));
    for id in &running {
        assert_eq!(
            client.job(id).await["state"],
            "running",
            "the backup stopped no job"
        );
    }
    server.kill();
    destroy(&data).await;
    std::fs::remove_dir_all(&blobs).unwrap();

    let restore = [&["restore", archive.to_str().unwrap()], settings].concat();
    succeeded(&backup(&restore, &data));
    assert_eq!(blob_files(&blobs), blobs_before);

    let server = Server::start_in(&data, &node_args);
    let client = Client {
        base: server.base.clone(),
        ..client
    };
    assert_eq!(user_records(&client, &done).await, records_before);
    // The jobs that ran during the backup lost their node: they run again.
    for id in &running {
        let job = client.wait_ended(id).await;
        assert_eq!(job["state"], "succeeded", "{job:#}");
    }
    let listed: Value = client.get("/v1/jobs").await.json().await.unwrap();
    assert_eq!(
        listed["jobs"].as_array().unwrap().len(),
        done.len() + running.len()
    );
}

#[tokio::test]
async fn backup_of_sqlite_while_jobs_run_restores_every_job_upload_and_artifact() {
    round_trip(&[], async |data: &Path| {
        for name in ["kinoflow.db", "kinoflow.db-wal", "kinoflow.db-shm"] {
            let _ = std::fs::remove_file(data.join(name));
        }
        assert!(!data.join("kinoflow.db").exists());
    })
    .await;
}

#[tokio::test]
async fn backup_of_postgres_while_jobs_run_restores_every_job_upload_and_artifact() {
    let database = TestDatabase::create().await;
    let url = database.url.clone();
    round_trip(&["--database-url", &url], async |_: &Path| {
        let admin = TestDatabase::admin(&url).await;
        admin.execute("DROP SCHEMA public CASCADE").await;
        admin.execute("CREATE SCHEMA public").await;
    })
    .await;
    database.drop().await;
}

/// The archive names in `dir` (no temporary files: those start with a dot).
fn archives_in(dir: &Path) -> Vec<String> {
    names_in(dir)
        .into_iter()
        .filter(|name| name.starts_with("kinoflow-backup-2"))
        .collect()
}

/// A node's data folder with a database and a job's upload and artifact in
/// it, the node stopped.
async fn data_with_a_job(root: &Path) -> PathBuf {
    let data = root.join("data");
    let server = Server::start_in(&data, &["--workers", "1"]);
    let client = server.user("ada@example.com").await;
    client.probed_job().await;
    data
}

#[tokio::test]
async fn backup_to_an_unwritable_folder_fails_naming_it_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_a_job(dir.path()).await;
    let not_a_folder = dir.path().join("not-a-folder");
    std::fs::write(&not_a_folder, "a file").unwrap();
    let target = not_a_folder.join("backups");
    let stderr = stderr_of_failure(&backup(
        &["create", "--backup-dir", target.to_str().unwrap()],
        &data,
    ));
    assert!(stderr.contains(&*target.to_string_lossy()), "{stderr}");

    // A failure half-way (the blob folder holds something that is no
    // file) leaves neither an archive nor its temporary files.
    let backups = dir.path().join("backups");
    let fifo = data.join("blobs/a-fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let stderr = stderr_of_failure(&backup(
        &["create", "--backup-dir", backups.to_str().unwrap()],
        &data,
    ));
    assert!(stderr.contains("a-fifo"), "{stderr}");
    assert_eq!(names_in(&backups), Vec::<String>::new());
}

#[tokio::test]
async fn backup_of_postgres_that_pg_dump_refuses_fails_with_its_message_and_leaves_nothing() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    // sqlx ignores the parameter, libpq (pg_dump) refuses it.
    let url = format!("{}?kinoflow_unknown_parameter=1", database.url);
    let backups = dir.path().join("backups");
    let stderr = stderr_of_failure(&backup(
        &[
            "create",
            "--database-url",
            &url,
            "--backup-dir",
            backups.to_str().unwrap(),
        ],
        &dir.path().join("data"),
    ));
    assert!(stderr.contains("pg_dump failed"), "{stderr}");
    assert!(stderr.contains("kinoflow_unknown_parameter"), "{stderr}");
    assert_eq!(names_in(&backups), Vec::<String>::new());
    database.drop().await;
}

/// The value of a metric without labels in a `/metrics` answer.
async fn metric(client: &Client, name: &str) -> Option<f64> {
    let text = client.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .map(|value| value.trim().parse().unwrap())
}

#[tokio::test]
async fn backup_schedule_in_serve_rotates_keeping_the_newest_and_reports_success() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    // Not backups of this kinoflow's: rotation leaves them alone.
    for other in ["notes.txt", "kinoflow-backup-manual.tar.gz"] {
        std::fs::write(backups.join(other), other).unwrap();
    }
    let started = chrono::Utc::now().timestamp() as f64;
    let mut server = Server::start(
        dir.path(),
        &[
            "--backup-every",
            "1s",
            "--backup-keep",
            "2",
            "--backup-dir",
            backups.to_str().unwrap(),
        ],
    );
    let client = server.client();
    eventually(Duration::from_secs(60), async || {
        let written = server.log_text().matches("backup written").count();
        (written >= 4)
            .then_some(())
            .ok_or(format!("{written} backups written"))
    })
    .await;
    let last_success = metric(&client, "kinoflow_backup_last_success_timestamp").await;
    assert!(last_success.unwrap() >= started, "{last_success:?}");
    assert!(server.terminate());

    let kept = archives_in(&backups);
    assert_eq!(kept.len(), 2, "{:?}", names_in(&backups));
    assert_eq!(names_in(&backups).len(), 4, "{:?}", names_in(&backups));
    let listed = succeeded(&backup(
        &["list", "--backup-dir", backups.to_str().unwrap()],
        &dir.path().join("data"),
    ));
    let listed: Vec<&str> = listed
        .lines()
        .map(|line| line.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(listed, [kept[1].as_str(), kept[0].as_str()], "newest first");
}

#[tokio::test]
async fn backup_schedule_that_fails_logs_the_error_and_never_reports_success() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_folder = dir.path().join("not-a-folder");
    std::fs::write(&not_a_folder, "a file").unwrap();
    let target = not_a_folder.join("backups");
    let server = Server::start(
        dir.path(),
        &[
            "--backup-every",
            "1s",
            "--backup-dir",
            target.to_str().unwrap(),
        ],
    );
    eventually(Duration::from_secs(30), async || {
        let log = server.log_text();
        (log.contains("the scheduled backup failed") && log.contains(&*target.to_string_lossy()))
            .then_some(())
            .ok_or(log)
    })
    .await;
    let last_success = metric(&server.client(), "kinoflow_backup_last_success_timestamp").await;
    assert_eq!(last_success, Some(0.0));
}

/// Rewrites the archive at `from` into `to` with one byte of `entry`
/// changed, the manifest and the compression left whole.
fn with_entry_changed(from: &Path, to: &Path, entry: &str) {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(from).unwrap(),
    ));
    let out = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::fast(),
    );
    let mut builder = tar::Builder::new(out);
    for item in archive.entries().unwrap() {
        let mut item = item.unwrap();
        let mut header = item.header().clone();
        let name = item.path().unwrap().to_str().unwrap().to_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut item, &mut bytes).unwrap();
        if name == entry {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
        }
        builder
            .append_data(&mut header, &name, bytes.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}

#[tokio::test]
async fn backup_verify_finds_a_damaged_archive_and_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_a_job(dir.path()).await;
    let backups = dir.path().join("backups");
    let archive = created_archive(&backup(
        &["create", "--backup-dir", backups.to_str().unwrap()],
        &data,
    ));
    // `verify` needs no node's settings: the archive is all it reads.
    let verify = |path: &Path| {
        Command::new(BIN)
            .args(["backup", "verify"])
            .arg(path)
            .output()
            .unwrap()
    };
    assert!(succeeded(&verify(&archive)).contains("is sound"));

    // A damaged copy named `name` of the archive is refused, naming it and
    // one of `what`.
    let refused = |name: &str, bytes: &[u8], what: [&str; 2]| {
        let copy = dir.path().join(name);
        std::fs::write(&copy, bytes).unwrap();
        let stderr = stderr_of_failure(&verify(&copy));
        assert!(stderr.contains(name), "{stderr}");
        assert!(what.iter().any(|w| stderr.contains(w)), "{stderr}");
    };
    let bytes = std::fs::read(&archive).unwrap();
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x20;
    refused("flipped.tar.gz", &flipped, ["damaged", "does not match"]);
    refused(
        "cut.tar.gz",
        &bytes[..bytes.len() * 2 / 3],
        ["damaged", "cut short"],
    );

    let changed = dir.path().join("changed.tar.gz");
    with_entry_changed(&archive, &changed, "database/kinoflow.db");
    let stderr = stderr_of_failure(&verify(&changed));
    assert!(
        stderr.contains("database/kinoflow.db: its content does not match the manifest"),
        "{stderr}"
    );
}

#[tokio::test]
async fn backup_restore_refuses_while_a_node_runs_and_goes_ahead_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start_in(&data, &["--workers", "1"]);
    let client = server.user("ada@example.com").await;
    let kept = client.probed_job().await;
    let backups = dir.path().join("backups");
    let archive = created_archive(&backup(
        &["create", "--backup-dir", backups.to_str().unwrap()],
        &data,
    ));
    let later = client.probed_job().await;

    let restore = |force: &[&str]| {
        let args = [&["restore", archive.to_str().unwrap()], force].concat();
        backup(&args, &data)
    };
    let stderr = stderr_of_failure(&restore(&[]));
    assert!(stderr.contains("a kinoflow node is running"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(server.is_alive());
    assert_eq!(client.job(&later).await["state"], "succeeded");

    // A node that serves the API alone uses the database too.
    server.kill();
    let mut api_only = Server::start_in(&data, &["--workers", "0"]);
    let stderr = stderr_of_failure(&restore(&[]));
    assert!(stderr.contains("a kinoflow node is running"), "{stderr}");

    succeeded(&restore(&["--force"]));
    api_only.kill();
    let server = Server::start_in(&data, &["--workers", "1"]);
    let client = Client {
        base: server.base.clone(),
        ..client
    };
    assert_eq!(client.job(&kept).await["state"], "succeeded");
    let response = client.get(&format!("/v1/jobs/{later}")).await;
    assert_eq!(response.status(), reqwest::StatusCode::NOT_FOUND);
}
