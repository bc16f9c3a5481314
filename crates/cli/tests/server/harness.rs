//! kinoflow servers on random ports — real `kinoflow serve` processes, or
//! the same node started in the test's own process — and a small HTTP client
//! for talking to them.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_kinoflow");

/// The repository's test fixtures (real footage).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

/// The value of `key` in a URL's query.
pub fn query_value<'a>(url: &'a str, key: &str) -> &'a str {
    url.split(['?', '&'])
        .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {url}"))
}

/// Makes a video with ffmpeg from a lavfi graph.
pub fn make_video(path: &Path, graph: &str, extra: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", graph])
        .args(extra)
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg could not make {}", path.display());
}

/// The ffmpeg processes whose parent is `pid` (zombies included).
pub fn ffmpeg_children(pid: u32) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = &stat[stat.find('(').unwrap_or(0) + 1..close];
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        if comm == "ffmpeg" && fields.get(1) == Some(&pid.to_string().as_str()) {
            found.push(stat);
        }
    }
    found
}

/// Waits up to 10 s for `pid` to have no ffmpeg child left; fails naming
/// those still there.
pub async fn no_ffmpeg_left(pid: u32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ffmpeg_children(pid).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "left behind: {:?}",
            ffmpeg_children(pid)
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A 640×360 H.264 video of `seconds` at 30 frames a second: extracting
/// every frame of it as PNG takes long enough to act while ffmpeg runs.
pub fn long_video(dir: &Path, seconds: u32) -> PathBuf {
    let video = dir.join("long.mp4");
    make_video(
        &video,
        &format!("testsrc=s=640x360:r=30:d={seconds}"),
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    video
}

/// The names in a `GET /v1/pipelines` answer.
pub fn pipeline_names(pipelines: &Value) -> Vec<&str> {
    pipelines["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

/// Sleeps until a second past a signed link's `expires`.
pub async fn sleep_past_expiry(link: &str) {
    let expires: i64 = query_value(link, "expires").parse().unwrap();
    let left = expires + 1 - chrono::Utc::now().timestamp();
    tokio::time::sleep(Duration::from_secs(left.max(0) as u64)).await;
}

/// Where the S3 tests keep their objects: the bucket of `scripts/seaweedfs`
/// (or `KINOFLOW_TEST_S3_URL`), under a prefix of their own.
pub fn s3_storage_url(test: &str) -> String {
    static KEYS: std::sync::Once = std::sync::Once::new();
    KEYS.call_once(|| {
        // The keys `scripts/seaweedfs` gives its server; nodes inherit them.
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            std::env::set_var("AWS_ACCESS_KEY_ID", "kinoflow-test");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "kinoflow-test-secret");
        }
    });
    let url = std::env::var("KINOFLOW_TEST_S3_URL")
        .unwrap_or_else(|_| "s3://kinoflow-test?endpoint=http://127.0.0.1:8333".to_owned());
    let (bucket, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let prefix = format!("{test}-{}", uuid::Uuid::new_v4().simple());
    format!("{bucket}/{prefix}?{query}")
}

/// The bucket of `storage_url` (a URL from [`s3_storage_url`]) and the key
/// prefix its objects live under.
pub fn s3_bucket(storage_url: &str) -> (object_store::aws::AmazonS3, object_store::path::Path) {
    let parsed = url::Url::parse(storage_url).unwrap();
    let endpoint = parsed
        .query_pairs()
        .find(|(name, _)| name == "endpoint")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    let bucket = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(parsed.host_str().unwrap())
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_region("us-east-1")
        .build()
        .unwrap();
    let prefix = object_store::path::Path::from(parsed.path().trim_matches('/'));
    (bucket, prefix)
}

/// Every key under `storage_url`'s prefix (a URL from [`s3_storage_url`]).
pub async fn s3_keys(storage_url: &str) -> Vec<String> {
    use futures::TryStreamExt;
    use object_store::ObjectStore;
    let (bucket, prefix) = s3_bucket(storage_url);
    bucket
        .list(Some(&prefix))
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .unwrap()
}

/// Makes an administrator with the CLI, as an operator would, on the node
/// whose data dir is `data_dir` (`extra_args` may name its database).
pub fn create_admin(data_dir: &Path, email: &str, password: &str, extra_args: &[&str]) {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args([
            "user",
            "create",
            "--email",
            email,
            "--password-stdin",
            "--admin",
        ])
        .args(extra_args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(password.as_bytes()).unwrap();
    stdin.write_all(b"\n").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// A running `kinoflow serve`, killed when dropped: a process of its own,
/// or a node in the test's process ([`Server::in_process`]).
pub struct Server {
    child: Option<Child>,
    /// Stops the node of [`Server::in_process`].
    in_process: Option<tokio_util::sync::CancellationToken>,
    pub base: String,
    pub data_dir: PathBuf,
    log: PathBuf,
}

/// The settings flags of `kinoflow serve`, for nodes started in-process.
#[derive(clap::Parser)]
struct ServeFlags {
    #[command(flatten)]
    settings: kinoflow::config::RawSettings,
}

impl Server {
    /// Starts a node in this process, as `kinoflow serve` with `args` would
    /// run it, on a random port with its own data dir under `root`: no binary
    /// to start and no log to read, for tests that only talk HTTP to it.
    pub fn in_process(root: &Path, args: &[&str]) -> Server {
        use clap::Parser;
        let data_dir = root.join("data");
        let data = data_dir.to_str().unwrap();
        let command = ["kinoflow", "--data-dir", data];
        let mut settings = ServeFlags::try_parse_from(command.iter().chain(args))
            .unwrap()
            .settings;
        settings.test_pipelines.get_or_insert(true);
        let config = kinoflow::config::Config::load(settings).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = tokio_util::sync::CancellationToken::new();
        let stop = shutdown.clone();
        // A runtime of its own on a thread of its own, as the binary's: the
        // node keeps serving while the test blocks, and outlives no test
        // process.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                if let Err(e) = kinoflow::node::serve(&config, listener, stop).await {
                    panic!("the in-process node stopped: {e:#}");
                }
            });
        });
        Server {
            child: None,
            in_process: Some(shutdown),
            base,
            data_dir,
            log: PathBuf::new(),
        }
    }

    /// Starts a server on a random port with its own data dir under `root`.
    pub fn start(root: &Path, args: &[&str]) -> Server {
        Self::start_in(&root.join("data"), args)
    }

    /// Starts a server on `data_dir` (several may share one).
    pub fn start_in(data_dir: &Path, args: &[&str]) -> Server {
        Self::start_bound(data_dir, "127.0.0.1:0", args)
    }

    /// Starts a server listening on `bind`, with its data under `data_dir`.
    pub fn start_bound(data_dir: &Path, bind: &str, args: &[&str]) -> Server {
        Self::start_with_env(data_dir, bind, args, &[])
    }

    /// Starts a server as [`Server::start_bound`] does, with `envs` added to
    /// its environment.
    pub fn start_with_env(
        data_dir: &Path,
        bind: &str,
        args: &[&str],
        envs: &[(&str, &OsStr)],
    ) -> Server {
        let mut server = Self::spawn(&["serve", "--bind", bind], data_dir, args, envs);
        server.base = server.wait_for_log("listening on http://");
        server
    }

    /// Starts a worker node (`kinoflow worker`): no HTTP, workers only.
    pub fn start_worker(data_dir: &Path, args: &[&str]) -> Server {
        let mut worker = Self::spawn(&["worker"], data_dir, args, &[]);
        worker.wait_for_log("worker node started");
        worker
    }

    fn spawn(command: &[&str], data_dir: &Path, args: &[&str], envs: &[(&str, &OsStr)]) -> Server {
        std::fs::create_dir_all(data_dir).unwrap();
        let log = data_dir.join(format!("node-{}.log", uuid::Uuid::new_v4().simple()));
        let child = Command::new(BIN)
            .args(command)
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .env("RUST_LOG", "info")
            .env("KINOFLOW_TEST_PIPELINES", "true")
            .env_remove("KINOFLOW_JWT_SECRET")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("the kinoflow binary starts");
        Server {
            child: Some(child),
            in_process: None,
            base: String::new(),
            data_dir: data_dir.to_owned(),
            log,
        }
    }

    /// Waits for `marker` in the log; returns the word that follows it (the
    /// marker's last word included, so "listening on http://" gives the URL).
    fn wait_for_log(&mut self, marker: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        let last_word = marker.rsplit(' ').next().unwrap_or(marker);
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            if let Some(at) = text.find(marker) {
                let rest = &text[at + marker.len() - last_word.len()..];
                return rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("kinoflow exited with {status}:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("kinoflow did not start:\n{}", self.log_text());
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |child| child.id())
    }

    /// The process's resident memory now and at its highest so far, in
    /// bytes, from `/proc`.
    pub fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let bytes = |field: &str| {
            let kib: u64 = status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or_else(|| panic!("no {field} in {status}"));
            kib * 1024
        };
        (bytes("VmRSS:"), bytes("VmHWM:"))
    }

    /// The process's resident memory now, in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.memory().0 as f64 / (1024.0 * 1024.0)
    }

    /// Whether the process is still running.
    pub fn is_alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| child.try_wait().unwrap().is_none())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: the process dies mid-work, as in a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits for the process to exit; returns whether it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait().unwrap() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        panic!("kinoflow did not stop after SIGTERM:\n{}", self.log_text());
    }

    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: self.base.clone(),
            token: None,
        }
    }

    /// A client for a freshly registered user.
    pub async fn user(&self, email: &str) -> Client {
        let mut client = self.client();
        client.register(email, "correct horse battery").await;
        client.login(email, "correct horse battery").await;
        client
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if let Some(shutdown) = self.in_process.take() {
            shutdown.cancel();
        }
    }
}

/// An HTTP client holding one user's token.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

impl Client {
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    /// A POST without a body.
    pub async fn post(&self, path: &str) -> Response {
        self.request(Method::POST, path).send().await.unwrap()
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch_json(&self, path: &str, body: Value) -> Response {
        self.request(Method::PATCH, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, email: &str, password: &str) {
        let response = self
            .post_json(
                "/v1/auth/register",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }

    pub async fn login(&mut self, email: &str, password: &str) {
        let response = self
            .post_json(
                "/v1/auth/token",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        self.token = Some(body["access_token"].as_str().unwrap().to_owned());
    }

    /// Uploads a file's bytes under `name`; returns the response.
    pub async fn upload_bytes(&self, name: &str, bytes: Vec<u8>) -> Response {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
        self.request(Method::POST, "/v1/uploads")
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a fixture and returns its upload id.
    pub async fn upload(&self, path: &Path) -> String {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let response = self.upload_bytes(&name, std::fs::read(path).unwrap()).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// Uploads `video` and submits a `frames` job that writes every frame
    /// of it as PNG; returns the job's id once ffmpeg is extracting.
    pub async fn extracting_frames_job(&self, video: &Path) -> String {
        let upload_id = self.upload(video).await;
        let job = self
            .submit(json!({"pipeline": "frames", "upload_id": upload_id,
                           "params": {"every_n_frames": 1, "format": "png"}}))
            .await;
        let job_id = job["id"].as_str().unwrap().to_owned();
        self.wait_until(&job_id, Duration::from_secs(60), |job| {
            job["stage"] == "extracting" && job["progress"].as_f64().unwrap() > 0.0
        })
        .await;
        job_id
    }

    /// Submits a job and expects it to be accepted; returns its view.
    pub async fn submit(&self, body: Value) -> Value {
        let response = self.post_json("/v1/jobs", body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// A job's artifact, downloaded with this client's token.
    pub async fn artifact_bytes(&self, job_id: &str, name: &str) -> Vec<u8> {
        let response = self
            .get(&format!("/v1/jobs/{job_id}/artifacts/{name}"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.unwrap().to_vec()
    }

    /// A signed link to a job's artifact (or `archive.zip`); returns its URL.
    pub async fn link(&self, job_id: &str, artifact: &str, expires_in_s: u64) -> String {
        let body = json!({"artifact": artifact, "expires_in_s": expires_in_s});
        let path = format!("/v1/jobs/{job_id}/links");
        let link = expect(self.post_json(&path, body).await, StatusCode::CREATED).await;
        link["url"].as_str().unwrap().to_owned()
    }

    /// Submits `count` sleep jobs of 1, 2 and 3 s in turn; returns their ids.
    pub async fn submit_sleeps(&self, count: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for i in 0..count {
            let seconds = 1.0 + (i % 3) as f64;
            let job = self
                .submit(json!({"pipeline": "sleep", "params": {"seconds": seconds}}))
                .await;
            ids.push(job["id"].as_str().unwrap().to_owned());
        }
        ids
    }

    /// Uploads `vtest.avi`, probes it, waits for the job to end; returns its id.
    pub async fn probed_job(&self) -> String {
        let upload_id = self.upload(&fixture("vtest.avi")).await;
        let job = self
            .submit(json!({"pipeline": "probe", "upload_id": upload_id}))
            .await;
        let id = job["id"].as_str().unwrap().to_owned();
        self.wait_ended(&id).await;
        id
    }

    pub async fn job(&self, id: &str) -> Value {
        let response = self.get(&format!("/v1/jobs/{id}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Polls the job until `done` holds for it, or panics after `limit`.
    pub async fn wait_until(
        &self,
        id: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(limit, async || {
            let job = self.job(id).await;
            if done(&job) {
                Ok(job)
            } else {
                Err(format!("the job is {job:#}"))
            }
        })
        .await
    }

    /// Polls the job's deliveries until one makes `done` hold; returns it.
    pub async fn wait_for_delivery(&self, job_id: &str, done: impl Fn(&Value) -> bool) -> Value {
        eventually(Duration::from_secs(120), async || {
            let list = expect(
                self.get(&format!("/v1/jobs/{job_id}/deliveries")).await,
                StatusCode::OK,
            )
            .await;
            list["deliveries"]
                .as_array()
                .and_then(|all| all.iter().find(|delivery| done(delivery)))
                .cloned()
                .ok_or_else(|| format!("the deliveries are {list:#}"))
        })
        .await
    }

    /// Waits for the job to reach a terminal state.
    pub async fn wait_ended(&self, id: &str) -> Value {
        self.wait_until(id, Duration::from_secs(120), |job| {
            matches!(
                job["state"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            )
        })
        .await
    }
}

/// What a command that must succeed wrote to stdout.
pub fn succeeded(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `kinoflow args…` with `envs`, which must refuse to start; returns
/// what it wrote to stderr. One that starts anyway is killed, failing the test.
pub fn refused_start(args: &[&str], envs: &[(&str, &OsStr)]) -> String {
    let mut node = Command::new(BIN)
        .args(args)
        .env_remove("KINOFLOW_JWT_SECRET")
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = node.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            node.kill().unwrap();
            panic!("kinoflow {args:?} started");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut node.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "kinoflow {args:?}: {stderr}");
    stderr
}

/// Calls `probe` every 50 ms until it gives a value; panics after `limit`
/// with what it said last.
pub async fn eventually<T>(
    limit: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) => assert!(Instant::now() < deadline, "gave up waiting; {last}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a delivery (of `/v1/jobs/{id}/deliveries`) has been tried at least once.
pub fn was_attempted(delivery: &Value) -> bool {
    delivery["attempts"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
}

/// Asserts the status and returns the JSON body.
pub async fn expect(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The names of the fields an error answer complains about.
pub fn field_names(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| f["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A database of its own on the local PostgreSQL server, dropped at the end.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let admin_url = std::env::var("KINOFLOW_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let name = format!("kinoflow_test_{}", uuid::Uuid::new_v4().simple());
        Self::admin(&admin_url)
            .await
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await;
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        Self {
            admin_url,
            name,
            url,
        }
    }

    pub async fn admin(url: &str) -> Admin {
        let pool = sqlx::PgPool::connect(url).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is not reachable at {url} ({e}); scripts/test starts it")
        });
        Admin(pool)
    }

    pub async fn drop(self) {
        Self::admin(&self.admin_url)
            .await
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await;
    }
}

pub struct Admin(pub sqlx::PgPool);

impl Admin {
    pub async fn execute(&self, statement: &str) {
        sqlx::query(statement).execute(&self.0).await.unwrap();
    }
}

/// `kinoflow run <pipeline> <input> --param … --out <out>`, to be run.
pub fn run_pipeline(pipeline: &str, input: &Path, params: &[&str], out: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.args(["run", pipeline]).arg(input);
    for param in params {
        command.args(["--param", param]);
    }
    command.arg("--out").arg(out);
    command
}

/// Runs a `kinoflow run` command that must succeed; the artifacts' folder.
pub fn run_succeeds(mut command: Command, out: &Path) -> PathBuf {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out.to_owned()
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
