//! The DeepEmotion API as its web client uses it, end to end on real
//! footage: accounts, multipart and presigned uploads (local storage and
//! SeaweedFS), live progress heard by the real Socket.IO client, the
//! detail in both frame shapes, renaming, streaming by the capability name
//! and by a signed address; another user's 404s; bad input answered in the
//! original's shapes. Its tables are tried on SQLite and on PostgreSQL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::emotion::astronaut_video;
use crate::harness::{eventually, expect, s3_storage_url, Client, Server, TestDatabase};

const PASSWORD: &str = "correct horse battery";

/// A DeepEmotion user: registered and logged in through `/api/v2`.
async fn deep_user(server: &Server, username: &str) -> Client {
    let mut client = server.client();
    let email = format!("{username}@example.com");
    let created = expect(
        client
            .post_json(
                "/api/v2/auth/register",
                json!({"username": username, "email": email, "password": PASSWORD}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["username"], username);
    assert_eq!(created["email"], email.as_str());
    for field in ["id", "created_at", "updated_at"] {
        assert!(created[field].is_string(), "{field}: {created}");
    }
    let token = expect(
        client
            .post_json(
                "/api/v2/auth/login",
                json!({"email": email, "password": PASSWORD}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    client.token = Some(token["access_token"].as_str().unwrap().to_owned());
    client
}

/// `POST /api/v2/videos/upload` as the web client sends it.
async fn upload(client: &Client, video: &Path, title: Option<&str>) -> reqwest::Response {
    let name = video.file_name().unwrap().to_string_lossy().into_owned();
    let mut form = Form::new().part(
        "file",
        Part::bytes(std::fs::read(video).unwrap()).file_name(name),
    );
    if let Some(title) = title {
        form = form.text("title", title.to_owned());
    }
    client
        .request(Method::POST, "/api/v2/videos/upload")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The error text the web client shows: `error`, always a string.
async fn error_text(response: reqwest::Response, status: StatusCode) -> String {
    let body = expect(response, status).await;
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no string error in {body}"))
        .to_owned()
}

/// Asserts the status and the `error` the web client would show.
async fn says(response: reqwest::Response, status: StatusCode, message: &str) {
    assert_eq!(error_text(response, status).await, message);
}

/// Polls a video until its status is `COMPLETED` or `FAILED`.
async fn wait_done(client: &Client, id: &str) -> Value {
    eventually(Duration::from_secs(180), async || {
        let video = expect(
            client.get(&format!("/api/v2/videos/{id}")).await,
            StatusCode::OK,
        )
        .await;
        match video["status"].as_str() {
            Some("COMPLETED" | "FAILED") => Ok(video),
            _ => Err(format!("the video is {video}")),
        }
    })
    .await
}

/// The real Socket.IO client (`tests/clients/socketio/listen.mjs`), its
/// lines of JSON read as they come.
struct Listener {
    child: Child,
    lines: mpsc::Receiver<Value>,
    heard: Vec<Value>,
}

impl Listener {
    /// Connects to `base`, with `token` in `auth.token` when given, over
    /// `transport` ("polling", upgraded as browsers do, or "websocket").
    fn start(base: &str, token: Option<&str>, transport: &str) -> Listener {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/socketio/listen.mjs");
        let mut child = Command::new("node")
            .arg(script)
            .args([base, token.unwrap_or("-"), transport])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs (scripts/install-test-deps installs it)");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line) {
                    let _ = send.send(value);
                }
            }
        });
        Listener {
            child,
            lines,
            heard: Vec::new(),
        }
    }

    /// The first line (heard before or now) for which `wanted` holds.
    fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(line) = self.heard.iter().find(|line| wanted(line)) {
            return line.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.heard.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("the Socket.IO client heard only {:?}", self.heard),
            }
        }
    }

    /// Every line heard so far.
    fn heard(&mut self) -> &[Value] {
        while let Ok(line) = self.lines.try_recv() {
            self.heard.push(line);
        }
        &self.heard
    }

    fn connected(&mut self) {
        let line =
            self.wait_for(|line| line["connected"] == true || line["connect_error"].is_string());
        assert_eq!(line["connected"], true, "{line}");
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_update(line: &Value, video_id: &str, status: &str) -> bool {
    line["processing_update"]["video_id"] == video_id
        && line["processing_update"]["status"] == status
}

fn updates_of<'a>(lines: &'a [Value], video_id: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|line| line["processing_update"]["video_id"] == video_id)
        .collect()
}

/// The last part of a video's `s3_key`, as the web client takes it.
fn stream_name(video: &Value) -> String {
    let key = video["s3_key"].as_str().unwrap();
    key.rsplit('/').next().unwrap().to_owned()
}

fn two_second_video(dir: &Path) -> PathBuf {
    astronaut_video(dir, 50)
}

#[tokio::test]
async fn the_web_clients_whole_flow_works_on_real_footage() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let video = two_second_video(dir.path());
    let alice = deep_user(&server, "alice").await;
    let profile = expect(alice.get("/api/v2/auth/profile").await, StatusCode::OK).await;
    assert_eq!(profile["username"], "alice");

    // The account is a kinoflow account: the same credentials work on /v1.
    let mut on_v1 = server.client();
    on_v1.login("alice@example.com", PASSWORD).await;

    let mut hers = Listener::start(&server.base, alice.token.as_deref(), "polling");
    hers.connected();
    let bob = deep_user(&server, "bob").await;
    let mut his = Listener::start(&server.base, bob.token.as_deref(), "websocket");
    his.connected();
    let mut anonymous = Listener::start(&server.base, None, "polling");
    anonymous.connected();

    let created = expect(
        upload(&alice, &video, Some("Meu vídeo")).await,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["title"], "Meu vídeo");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created["s3_key"]
        .as_str()
        .unwrap()
        .starts_with(&format!("uploads/{}/", profile["id"].as_str().unwrap())));

    // Live progress, to her socket only.
    hers.wait_for(|line| is_update(line, &id, "COMPLETED"));
    let heard = updates_of(hers.heard(), &id)
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    assert!(heard
        .iter()
        .any(|line| line["processing_update"]["status"] == "PROCESSING"));
    let last = heard.last().unwrap();
    assert_eq!(last["processing_update"]["progress"], 100);

    let done = wait_done(&alice, &id).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert!(done["processed_at"].is_string());
    assert!(done["duration_seconds"].as_f64().unwrap() > 1.5);
    let frames = done["frames"].as_array().unwrap();
    assert_eq!(done["frame_count"], frames.len());
    assert!(frames.len() >= 40, "{} frames", frames.len());
    let numbers: Vec<i64> = frames
        .iter()
        .map(|f| f["frame_number"].as_i64().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    let happy = frames.iter().filter(|f| f["emotion"] == "HAPPY").count();
    assert!(
        happy * 10 >= frames.len() * 8,
        "{happy} of {} happy",
        frames.len()
    );
    for frame in frames {
        assert_eq!(frame["video_id"], id.as_str());
        assert!(frame["id"].is_i64() && frame["video_timestamp_sec"].is_f64());
        let emotions: Vec<&str> = frame["emotions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        let mut labels = emotions.clone();
        labels.sort_unstable();
        assert_eq!(
            labels,
            [
                "angry",
                "disgust",
                "fear",
                "happy",
                "neutral",
                "sad",
                "surprised"
            ]
        );
        assert_eq!(frame["emotion"], emotions[0].to_uppercase());
        let confidences: Vec<f64> = frame["confidences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_f64().unwrap())
            .collect();
        assert!(confidences.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(frame["confidence"].as_f64().unwrap(), confidences[0]);
    }

    // The list, with and without its trailing slash.
    for path in ["/api/v2/videos/", "/api/v2/videos"] {
        let list = expect(alice.get(path).await, StatusCode::OK).await;
        assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
        assert_eq!(list[0]["id"], id.as_str());
        assert_eq!(list[0]["status"], "COMPLETED");
        assert_eq!(list[0]["frame_count"], frames.len());
        assert!(list[0].get("frames").is_none());
    }

    // A new title; a title too long and an unknown field are 422s.
    let renamed = expect(
        alice
            .patch_json(&format!("/api/v2/videos/{id}"), json!({"title": "Novo"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["title"], "Novo");
    let too_long = expect(
        alice
            .patch_json(
                &format!("/api/v2/videos/{id}"),
                json!({"title": "x".repeat(256)}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(too_long["title"][0], "Length must be between 1 and 255.");
    assert!(too_long["error"].is_string());
    let unknown = expect(
        alice
            .patch_json(
                &format!("/api/v2/videos/{id}"),
                json!({"title": "a", "x": 1}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(unknown["x"][0], "Unknown field.");

    // The stream, without a token, by the name the client builds; by Range.
    let original = std::fs::read(&video).unwrap();
    let name = stream_name(&done);
    let anyone = server.client();
    let whole = anyone.get(&format!("/api/v2/videos/stream/{name}")).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    assert_eq!(whole.headers()["x-content-type-options"], "nosniff");
    assert_eq!(whole.bytes().await.unwrap(), original);
    let part = anyone
        .request(Method::GET, &format!("/api/v2/videos/stream/{name}"))
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap(), &original[100..200]);

    // The signed address plays; tampered, or the id without it, is a 404.
    let signed = done["video_url"].as_str().unwrap();
    let played = reqwest::get(signed).await.unwrap();
    assert_eq!(played.status(), StatusCode::OK);
    assert_eq!(played.bytes().await.unwrap(), original);
    let tampered = signed.replace("sig=", "sig=A");
    assert_eq!(
        reqwest::get(&tampered).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let later = signed.replace("expires=", "expires=9");
    assert_eq!(
        reqwest::get(&later).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    for guess in [
        id.clone(),
        format!("{id}.mp4"),
        "..%2F..%2Fetc%2Fpasswd".to_owned(),
    ] {
        let answer = anyone.get(&format!("/api/v2/videos/stream/{guess}")).await;
        assert_eq!(
            error_text(answer, StatusCode::NOT_FOUND).await,
            "Vídeo não encontrado."
        );
    }

    // A new stream name retires the old one.
    let rotated = expect(
        alice
            .post(&format!("/api/v2/videos/{id}/stream-name"))
            .await,
        StatusCode::OK,
    )
    .await;
    let new_name = stream_name(&rotated);
    assert_ne!(new_name, name);
    let old = anyone.get(&format!("/api/v2/videos/stream/{name}")).await;
    assert_eq!(old.status(), StatusCode::NOT_FOUND);
    let new = anyone
        .get(&format!("/api/v2/videos/stream/{new_name}"))
        .await;
    assert_eq!(new.status(), StatusCode::OK);

    // Bob sees none of it, and heard nothing of it; nor did a socket without a token.
    let no_video = "Vídeo não encontrado ou acesso não permitido.";
    assert_eq!(
        error_text(
            bob.get(&format!("/api/v2/videos/{id}")).await,
            StatusCode::NOT_FOUND
        )
        .await,
        no_video
    );
    let patched = bob
        .patch_json(&format!("/api/v2/videos/{id}"), json!({"title": "mine"}))
        .await;
    assert_eq!(error_text(patched, StatusCode::NOT_FOUND).await, no_video);
    let rotate = bob.post(&format!("/api/v2/videos/{id}/stream-name")).await;
    assert_eq!(rotate.status(), StatusCode::NOT_FOUND);
    let finalize = bob
        .post_json(
            "/api/v2/videos/upload/finalize",
            json!({"s3_key": rotated["s3_key"], "title": "mine"}),
        )
        .await;
    assert_eq!(finalize.status(), StatusCode::NOT_FOUND);
    let his_list = expect(bob.get("/api/v2/videos/").await, StatusCode::OK).await;
    assert_eq!(his_list, json!([]));
    assert!(updates_of(his.heard(), &id).is_empty());
    assert!(updates_of(anonymous.heard(), &id).is_empty());
}

#[tokio::test]
async fn presigned_uploads_finalise_on_local_storage_and_on_s3() {
    let dir = tempfile::tempdir().unwrap();
    let video = two_second_video(dir.path());
    let original = std::fs::read(&video).unwrap();
    // Local storage on SQLite; SeaweedFS on PostgreSQL.
    let s3 = s3_storage_url("deepemotion");
    let database = TestDatabase::create().await;
    for storage in [None, Some(s3.as_str())] {
        let root = dir
            .path()
            .join(if storage.is_some() { "s3" } else { "local" });
        let mut args = vec!["--socketio-public-progress", "true"];
        if let Some(url) = storage {
            args.extend(["--storage-url", url, "--database-url", &database.url]);
        }
        let server = Server::start(&root, &args);
        let carol = deep_user(&server, "carol").await;
        // The original web client's socket: no token, so only with public progress.
        let mut anonymous = Listener::start(&server.base, None, "websocket");
        anonymous.connected();
        // A socket with a token still hears only its owner's videos.
        let dan = deep_user(&server, "dan").await;
        let mut his = Listener::start(&server.base, dan.token.as_deref(), "polling");
        his.connected();

        for path in ["/api/v2/videos/upload/initialize", "/api/v2/videos/upload"] {
            let ticket = expect(
                carol.post_json(path, json!({"filename": "clip.mp4"})).await,
                StatusCode::OK,
            )
            .await;
            let key = ticket["s3_key"].as_str().unwrap();
            assert!(key.ends_with(".mp4"), "{key}");
            // Nothing arrived yet: nothing to finalise.
            let early = carol
                .post_json(
                    "/api/v2/videos/upload/finalize",
                    json!({"s3_key": key, "title": "Cedo"}),
                )
                .await;
            assert!(early.status().is_client_error(), "{}", early.status());
            let put = reqwest::Client::new()
                .put(ticket["upload_url"].as_str().unwrap())
                .body(original.clone())
                .send()
                .await
                .unwrap();
            assert!(put.status().is_success(), "{storage:?}: {}", put.status());
            let created = expect(
                carol
                    .post_json(
                        "/api/v2/videos/upload/finalize",
                        json!({"s3_key": key, "title": "Pelo S3"}),
                    )
                    .await,
                StatusCode::ACCEPTED,
            )
            .await;
            assert_eq!(created["s3_key"], key);
            let id = created["id"].as_str().unwrap().to_owned();
            // Finalising again answers the same video.
            let again = expect(
                carol
                    .post_json(
                        "/api/v2/videos/upload/finalize",
                        json!({"s3_key": key, "title": "Pelo S3"}),
                    )
                    .await,
                StatusCode::ACCEPTED,
            )
            .await;
            assert_eq!(again["id"], id.as_str());
            let done = wait_done(&carol, &id).await;
            assert_eq!(done["status"], "COMPLETED", "{storage:?}: {done}");
            assert!(!done["frames"].as_array().unwrap().is_empty());
            anonymous.wait_for(|line| is_update(line, &id, "COMPLETED"));
            assert!(updates_of(his.heard(), &id).is_empty());
            let streamed = server
                .client()
                .get(&format!("/api/v2/videos/stream/{}", stream_name(&done)))
                .await;
            assert_eq!(streamed.bytes().await.unwrap(), original);
        }
    }
    database.drop().await;
}

#[tokio::test]
async fn bad_input_is_answered_in_the_originals_shape() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--deepemotion-max-duration-s", "1"]);
    let dave = deep_user(&server, "dave").await;
    let anyone = server.client();

    // Accounts.
    says(
        anyone
            .post_json(
                "/api/v2/auth/register",
                json!({"username": "DAVE", "email": "other@example.com", "password": PASSWORD}),
            )
            .await,
        StatusCode::CONFLICT,
        "Nome de usuário já existe.",
    )
    .await;
    says(
        anyone
            .post_json(
                "/api/v2/auth/register",
                json!({"username": "dave2", "email": "dave@example.com", "password": PASSWORD}),
            )
            .await,
        StatusCode::CONFLICT,
        "Email já cadastrado.",
    )
    .await;
    let invalid = expect(
        anyone
            .post_json(
                "/api/v2/auth/register",
                json!({"username": "x", "email": "nope", "password": "short", "admin": true}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(invalid["username"][0], "Length must be between 3 and 50.");
    assert_eq!(invalid["email"][0], "Not a valid email address.");
    assert_eq!(invalid["password"][0], "Shorter than minimum length 8.");
    assert_eq!(invalid["admin"][0], "Unknown field.");
    assert!(invalid["error"].is_string());
    for body in ["null", "{}", "[]"] {
        let empty = anyone
            .request(Method::POST, "/api/v2/auth/register")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_text(empty, StatusCode::BAD_REQUEST).await,
            "Nenhum dado de entrada fornecido"
        );
    }
    let broken = anyone
        .request(Method::POST, "/api/v2/auth/login")
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    error_text(broken, StatusCode::BAD_REQUEST).await;
    says(
        anyone
            .post_json(
                "/api/v2/auth/login",
                json!({"email": "dave@example.com", "password": "not the password"}),
            )
            .await,
        StatusCode::UNAUTHORIZED,
        "Credenciais inválidas. Verifique seu email e senha.",
    )
    .await;
    says(
        anyone
            .post_json("/api/v2/auth/login", json!({"email": "dave@example.com"}))
            .await,
        StatusCode::BAD_REQUEST,
        "Email e senha são obrigatórios.",
    )
    .await;

    // Uploads.
    let no_file = dave
        .request(Method::POST, "/api/v2/videos/upload")
        .multipart(Form::new().text("title", "sem arquivo"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_text(no_file, StatusCode::BAD_REQUEST).await,
        "Nenhum arquivo enviado."
    );
    let video = astronaut_video(dir.path(), 50);
    says(
        upload(&dave, &video, None).await,
        StatusCode::BAD_REQUEST,
        "Título e arquivo são obrigatórios.",
    )
    .await;
    let not_video = dir.path().join("notes.mp4");
    std::fs::write(&not_video, b"these are notes, not a video").unwrap();
    let refused = upload(&dave, &not_video, Some("notas")).await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    assert!(refused.json::<Value>().await.unwrap()["error"].is_string());
    // Longer than the operator's limit (1 s): refused at once, not FAILED later.
    let long = upload(&dave, &video, Some("longo")).await;
    let reason = error_text(long, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(reason.contains("longer than"), "{reason}");
    says(
        dave.post_json("/api/v2/videos/upload/initialize", json!({"file": "x"}))
            .await,
        StatusCode::BAD_REQUEST,
        "O nome do arquivo é obrigatório.",
    )
    .await;
    says(
        dave.post_json("/api/v2/videos/upload/finalize", json!({"title": "t"}))
            .await,
        StatusCode::BAD_REQUEST,
        "s3_key e title são obrigatórios.",
    )
    .await;
    // A JSON body on the video route is small, like every JSON body.
    let huge = format!("{{\"filename\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    // A client of its own: the server closes the connection once it has
    // refused the body, and a pooled connection must not carry on.
    let oversized = reqwest::Client::new()
        .post(format!("{}/api/v2/videos/upload", server.base))
        .bearer_auth(dave.token.as_deref().unwrap())
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    error_text(oversized, StatusCode::PAYLOAD_TOO_LARGE).await;
    let broken = dave
        .request(Method::PATCH, "/api/v2/videos/whatever")
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert!(broken.status().is_client_error());
    assert!(broken.json::<Value>().await.unwrap()["error"].is_string());
    // Nothing refused was kept.
    let list = expect(dave.get("/api/v2/videos/").await, StatusCode::OK).await;
    assert_eq!(list, json!([]));

    // Tokens: missing and expired are 401s, malformed a 422, each with msg and error.
    let missing = expect(
        anyone.get("/api/v2/videos/").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(missing["msg"], "Missing Authorization Header");
    assert!(missing["error"].is_string());
    let malformed = anyone
        .request(Method::GET, "/api/v2/auth/profile")
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    let malformed = expect(malformed, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(malformed["msg"].is_string() && malformed["error"].is_string());
    let mut refused_socket = Listener::start(&server.base, Some("not.a.jwt"), "polling");
    let line = refused_socket
        .wait_for(|line| line["connect_error"].is_string() || line["connected"] == true);
    assert!(line["connect_error"].is_string(), "{line}");

    // An expired token, on a server whose tokens last a second.
    let brief = Server::in_process(&dir.path().join("brief"), &["--token-ttl-s", "1"]);
    let erin = deep_user(&brief, "erin").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let expired = expect(
        erin.get("/api/v2/auth/profile").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(expired["msg"], "Token has expired");
    assert_eq!(expired["error"], "Token has expired");
}

#[tokio::test]
async fn tokens_in_query_strings_stay_out_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(
        &dir.path().join("data"),
        "127.0.0.1:0",
        &[],
        &[("RUST_LOG", "debug".as_ref())],
    );
    let anyone = server.client();
    let secret = "do-not-log-this-token";
    let handshake = anyone
        .get(&format!(
            "/socket.io/?EIO=4&transport=polling&token={secret}"
        ))
        .await;
    assert!(handshake.status().is_client_error() || handshake.status().is_success());
    let hook = anyone
        .post_json(
            &format!("/webhook/treinamento/?token={secret}"),
            json!({"model_id": 1, "status": "x"}),
        )
        .await;
    assert_eq!(hook.status(), StatusCode::FORBIDDEN);
    let log = server.log_text();
    assert!(
        log.contains("/webhook/treinamento/"),
        "requests are logged at debug: {log}"
    );
    assert!(!log.contains(secret), "a token reached the log");
}
