//! The command line: `run` without a server, `jobs` against one, `--print-config`.

use std::process::{Command, Output};

use serde_json::Value;

use crate::harness::{fixture, refused_start, succeeded, Server, BIN};

fn kinoflow(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("KINOFLOW_JWT_SECRET")
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn run_probes_a_file_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let video = fixture("vtest.avi");
    let output = kinoflow(
        &[
            "run",
            "probe",
            video.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    succeeded(&output);
    let probe: Value =
        serde_json::from_slice(&std::fs::read(out.join("probe.json")).unwrap()).unwrap();
    assert_eq!(probe["width"], 768);

    let output = kinoflow(
        &["run", "sleep", "--param", "seconds=-3"],
        &[("KINOFLOW_TEST_PIPELINES", "true")],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("params.seconds"), "{stderr}");
}

#[test]
fn a_node_without_ffmpeg_refuses_to_start_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    for command in ["serve", "worker"] {
        let stderr = refused_start(
            &[command, "--bind", "127.0.0.1:0", "--data-dir", data],
            &[("PATH", dir.path().as_os_str())],
        );
        assert!(stderr.contains("could not run ffmpeg"), "{stderr}");
    }
}

#[test]
fn a_node_told_to_use_onnxruntime_without_its_library_refuses_to_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let library = dir.path().join("missing/libonnxruntime.so");
    for command in ["serve", "worker"] {
        let stderr = refused_start(
            &[command, "--bind", "127.0.0.1:0", "--data-dir", data],
            &[
                ("KINOFLOW_INFERENCE", "ort".as_ref()),
                ("KINOFLOW_ORT_LIBRARY", library.as_os_str()),
            ],
        );
        assert!(stderr.contains(library.to_str().unwrap()), "{stderr}");
    }
    let stderr = refused_start(
        &["serve", "--data-dir", data],
        &[("KINOFLOW_INFERENCE", "gpu".as_ref())],
    );
    assert!(stderr.contains("use auto, ort or tract"), "{stderr}");
}

#[test]
fn print_config_masks_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kinoflow.toml");
    std::fs::write(&config, "workers = 7\nlease_ttl_s = 12.5\n").unwrap();
    let stdout = succeeded(&kinoflow(
        &[
            "serve",
            "--print-config",
            "--config",
            config.to_str().unwrap(),
            "--bind",
            "0.0.0.0:9999",
        ],
        &[("KINOFLOW_JWT_SECRET", "a-very-secret-signing-key")],
    ));
    assert!(stdout.contains("workers = 7"), "{stdout}");
    assert!(stdout.contains("lease_ttl_s = 12.5"), "{stdout}");
    assert!(stdout.contains("bind = \"0.0.0.0:9999\""), "{stdout}");
    assert!(stdout.contains("jwt_secret = \"********\""), "{stdout}");
    assert!(!stdout.contains("a-very-secret"), "{stdout}");
}

#[test]
fn with_no_configuration_a_node_runs_on_the_documented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    // In an empty folder, so that no ./kinoflow.toml is read.
    let output = Command::new(BIN)
        .args(["serve", "--print-config"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    let printed = succeeded(&output);
    let config: toml::Table = toml::from_str(&printed).unwrap();
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(
        config["max_upload_bytes"].as_integer(),
        Some(2 << 30),
        "{printed}"
    );
    assert_eq!(
        config["workers"].as_integer(),
        Some(cores as i64),
        "{printed}"
    );
    assert_eq!(config["lease_ttl_s"].as_float(), Some(30.0), "{printed}");
    assert_eq!(config["token_ttl_s"].as_integer(), Some(3600), "{printed}");
    assert_eq!(config["bind"].as_str(), Some("127.0.0.1:8080"), "{printed}");
    assert_eq!(config["test_pipelines"].as_bool(), Some(false), "{printed}");
    assert!(!config.contains_key("jwt_secret"), "{printed}");
}

#[test]
fn user_create_takes_the_password_only_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let output = kinoflow(
        &[
            "user",
            "create",
            "--email",
            "op@example.com",
            "--data-dir",
            data,
        ],
        &[],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--password-stdin"), "{stderr}");
}

#[tokio::test]
async fn jobs_commands_talk_to_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--workers", "1"]);
    let client = server.user("pat@example.com").await;
    let token = client.token.clone().unwrap();
    let envs = [
        ("KINOFLOW_TOKEN", token.as_str()),
        ("KINOFLOW_SERVER", server.base.as_str()),
    ];
    let video = fixture("vtest.avi");
    let stdout = succeeded(&kinoflow(
        &["jobs", "submit", "probe", video.to_str().unwrap(), "--wait"],
        &envs,
    ));
    let job: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(job["state"], "succeeded");
    let id = job["id"].as_str().unwrap();
    let status: Value =
        serde_json::from_str(&succeeded(&kinoflow(&["jobs", "status", id], &envs))).unwrap();
    assert_eq!(status["id"], id);
    let out = dir.path().join("download");
    succeeded(&kinoflow(
        &["jobs", "download", id, "--out", out.to_str().unwrap()],
        &envs,
    ));
    assert!(out.join("probe.json").exists());

    let output = kinoflow(
        &["jobs", "status", id],
        &[("KINOFLOW_TOKEN", "nonsense"), envs[1]],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("refused the token"));
}
