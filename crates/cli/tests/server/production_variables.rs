//! The production-variables API as its web client uses it: a machine
//! created, trained on a CSV (a `relevance` job), its status followed until
//! `completed`, its ranking in the client's shape, deleted; another user's
//! machines 404; bad requests in FastAPI's shapes; the trainer's webhook
//! refused without its secret; anonymous callers only when allowed. And the
//! relevance service's API as the original backend called it, its signed
//! callback heard by a real receiver.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::{eventually, expect, Client, Server};
use crate::receiver::{verifies, Receiver};

const SECRET: &str = "trainer-secret-for-tests";

/// A plant's log: output driven by pressure (strongly) and speed (a
/// little), with a column of noise.
fn plant_csv() -> Vec<u8> {
    let mut text = String::from("pressure,speed,noise,output\n");
    for i in 0..300 {
        let pressure = (i * 37 % 100) as f64 / 10.0;
        let speed = (i * 53 % 60) as f64;
        let noise = (i * 71 % 97) as f64;
        let output = 5.0 * pressure + 0.2 * speed + ((i * 13 % 7) as f64 - 3.0) * 0.3;
        text.push_str(&format!("{pressure},{speed},{noise},{output}\n"));
    }
    text.into_bytes()
}

/// The backend's `POST /train/` with `query`.
async fn train(
    client: &Client,
    query: &str,
    name: &str,
    kind: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    train_at(client, &format!("/train/?{query}"), name, kind, bytes).await
}

/// A CSV posted to `path` as multipart `file`.
async fn train_at(
    client: &Client,
    path: &str,
    name: &str,
    kind: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let part = Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(kind)
        .unwrap();
    client
        .request(Method::POST, path)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

async fn detail(response: reqwest::Response, status: StatusCode) -> Value {
    expect(response, status).await["detail"].clone()
}

#[tokio::test]
async fn a_machine_is_created_trained_ranked_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &[]);
    let owner = server.user("plant@example.com").await;
    let stranger = server.user("other@example.com").await;

    let machine = expect(
        owner
            .post_json("/machines/", json!({"machine_name": "Extrusora 3"}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(machine["machine_name"], "Extrusora 3");
    assert_eq!(machine["status"], "created");
    let id = machine["id"].as_i64().unwrap();
    assert_eq!(machine["model_id"], id);
    for path in ["/machines/", "/machines"] {
        let list = expect(owner.get(path).await, StatusCode::OK).await;
        assert_eq!(list, json!([machine]));
    }
    let untrained = expect(
        owner.get(&format!("/ranking/?machine_id={id}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(untrained, json!({"ranking": [], "metrics": null}));

    // A CSV as Windows browsers label it.
    let started = train(
        &owner,
        &format!("machine_id={id}&target_column=output"),
        "log.csv",
        "application/vnd.ms-excel",
        plant_csv(),
    )
    .await;
    assert_eq!(
        expect(started, StatusCode::OK).await,
        json!({"message": "Training started"})
    );
    let trained = eventually(Duration::from_secs(180), async || {
        let machine = expect(owner.get(&format!("/machines/{id}")).await, StatusCode::OK).await;
        match machine["status"].as_str() {
            Some("completed") => Ok(machine),
            Some("failed") => panic!("the training failed: {machine}"),
            _ => Err(format!("the machine is {machine}")),
        }
    })
    .await;
    assert_eq!(trained["id"], id);

    for path in [
        format!("/ranking/?machine_id={id}"),
        format!("/ranking?machine_id={id}"),
    ] {
        let answer = expect(owner.get(&path).await, StatusCode::OK).await;
        let ranking = answer["ranking"].as_array().unwrap();
        assert_eq!(ranking.len(), 3);
        assert_eq!(ranking[0]["feature"], "pressure");
        assert_eq!(
            ranking[0]["direction"],
            "aumentar a variável tende a aumentar a produção"
        );
        let scores: Vec<f64> = ranking
            .iter()
            .map(|item| item["score_final"].as_f64().unwrap())
            .collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
        for item in ranking {
            for field in [
                "importance_shap_mean_abs",
                "importance_native",
                "shap_norm",
                "native_norm",
            ] {
                assert!(item[field].is_f64(), "{field}: {item}");
            }
        }
        let metrics = &answer["metrics"];
        assert!(metrics["r2"].as_f64().unwrap() > 0.8, "{metrics}");
        for field in ["mae", "rmse", "n_train", "n_test", "n_features", "date"] {
            assert!(!metrics[field].is_null(), "{field}: {metrics}");
        }
    }

    // Another user sees none of it.
    for path in [
        format!("/machines/{id}"),
        format!("/ranking/?machine_id={id}"),
    ] {
        assert_eq!(
            detail(stranger.get(&path).await, StatusCode::NOT_FOUND).await,
            "Machine not found"
        );
    }
    assert_eq!(
        expect(stranger.get("/machines/").await, StatusCode::OK).await,
        json!([])
    );
    let theirs = stranger.delete(&format!("/machines/{id}")).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let their_training = train(
        &stranger,
        &format!("machine_id={id}&target_column=output"),
        "log.csv",
        "text/csv",
        plant_csv(),
    )
    .await;
    assert_eq!(
        detail(their_training, StatusCode::NOT_FOUND).await,
        "Machine not found"
    );

    assert_eq!(
        expect(
            owner.delete(&format!("/machines/{id}")).await,
            StatusCode::OK
        )
        .await,
        json!({"status": "deleted"})
    );
    let again = owner.delete(&format!("/machines/{id}")).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_requests_are_answered_in_fastapis_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let owner = server.user("shapes@example.com").await;
    let machine = expect(
        owner
            .post_json("/machines/", json!({"machine_name": "M"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let id = machine["id"].as_i64().unwrap();

    let missing = detail(
        owner.get("/ranking/").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(missing[0]["type"], "missing");
    assert_eq!(missing[0]["loc"], json!(["query", "machine_id"]));
    let word = detail(
        owner.get("/ranking/?machine_id=abc").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(word[0]["type"], "int_parsing");
    assert_eq!(word[0]["input"], "abc");
    assert_eq!(
        detail(
            owner.get("/ranking/?machine_id=999999").await,
            StatusCode::NOT_FOUND
        )
        .await,
        "Machine not found"
    );
    let no_name = detail(
        owner.post_json("/machines/", json!({"name": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(no_name[0]["loc"], json!(["body", "machine_name"]));
    let broken = owner
        .request(Method::POST, "/machines/")
        .header("content-type", "application/json")
        .body("{\"machine_name\": ")
        .send()
        .await
        .unwrap();
    let broken = detail(broken, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(broken[0]["type"], "json_invalid");
    assert_eq!(broken[0]["loc"][0], "body");
    assert!(broken[0]["ctx"]["error"].is_string());
    let not_text = detail(
        owner
            .post_json("/machines/", json!({"machine_name": 5}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(not_text[0]["type"], "string_type");

    let text = train(
        &owner,
        &format!("machine_id={id}&target_column=output"),
        "notes.txt",
        "text/plain",
        b"not a table".to_vec(),
    )
    .await;
    assert_eq!(
        detail(text, StatusCode::BAD_REQUEST).await,
        "Invalid file type. Please upload a CSV file."
    );
    let no_target = train(
        &owner,
        &format!("machine_id={id}"),
        "a.csv",
        "text/csv",
        plant_csv(),
    )
    .await;
    let no_target = detail(no_target, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(no_target[0]["loc"], json!(["query", "target_column"]));
    let wrong_column = train(
        &owner,
        &format!("machine_id={id}&target_column=yield"),
        "a.csv",
        "text/csv",
        plant_csv(),
    )
    .await;
    let reason = detail(wrong_column, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        reason
            .as_str()
            .unwrap()
            .contains("pressure, speed, noise, output"),
        "{reason}"
    );
    let mut without_file = owner.request(
        Method::POST,
        &format!("/train/?machine_id={id}&target_column=output"),
    );
    without_file = without_file.multipart(Form::new().text("other", "x"));
    let without_file = detail(
        without_file.send().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(without_file[0]["loc"], json!(["body", "file"]));
    // Nothing was queued: the machine is still untrained.
    let still = expect(owner.get(&format!("/machines/{id}")).await, StatusCode::OK).await;
    assert_eq!(still["status"], "created");
}

#[tokio::test]
async fn the_trainer_webhook_needs_its_secret() {
    let dir = tempfile::tempdir().unwrap();
    let closed = Server::in_process(&dir.path().join("closed"), &["--workers", "0"]);
    let refused = closed
        .client()
        .post_json(
            "/webhook/treinamento/",
            json!({"model_id": 1, "status": "completed"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let server = Server::in_process(
        &dir.path().join("open"),
        &["--workers", "0", "--trainer-secret", SECRET],
    );
    let owner = server.user("hook@example.com").await;
    let machine = expect(
        owner
            .post_json("/machines/", json!({"machine_name": "Forno"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let id = machine["id"].as_i64().unwrap();
    let report =
        json!({"model_id": id, "status": "completed", "metrics": {"r2": 0.91, "date": 1764600000}});
    let anyone = server.client();
    let bare = anyone
        .post_json("/webhook/treinamento/", report.clone())
        .await;
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    let wrong = anyone
        .post_json("/webhook/treinamento/?token=guess", report.clone())
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let by_query = anyone
        .post_json(
            &format!("/webhook/treinamento/?token={SECRET}"),
            report.clone(),
        )
        .await;
    assert_eq!(
        expect(by_query, StatusCode::OK).await,
        json!({"message": "Status do modelo atualizado com sucesso", "model_id": id, "status": "completed"})
    );
    let mut trainer = server.client();
    trainer.token = Some(SECRET.to_owned());
    let by_bearer = trainer
        .post_json(
            "/webhook/treinamento/",
            json!({"model_id": id, "status": "running"}),
        )
        .await;
    expect(by_bearer, StatusCode::OK).await;
    let seen = expect(owner.get(&format!("/machines/{id}")).await, StatusCode::OK).await;
    assert_eq!(seen["status"], "running");
    let incomplete = trainer
        .post_json("/webhook/treinamento/", json!({"model_id": id}))
        .await;
    assert_eq!(
        detail(incomplete, StatusCode::BAD_REQUEST).await,
        "Dados incompletos enviados pelo webhook"
    );
    let unknown = trainer
        .post_json(
            "/webhook/treinamento/",
            json!({"model_id": 999999, "status": "completed"}),
        )
        .await;
    assert_eq!(
        detail(unknown, StatusCode::NOT_FOUND).await,
        "Máquina não encontrada"
    );
}

#[tokio::test]
async fn anonymous_callers_only_when_the_operator_allows_them() {
    let dir = tempfile::tempdir().unwrap();
    let closed = Server::in_process(&dir.path().join("closed"), &["--workers", "0"]);
    let refused = closed.client().get("/machines/").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let open = Server::in_process(
        &dir.path().join("open"),
        &["--workers", "0", "--allow-anonymous", "true"],
    );
    let anonymous = open.client();
    let machine = expect(
        anonymous
            .post_json("/machines/", json!({"machine_name": "Prensa"}))
            .await,
        StatusCode::OK,
    )
    .await;
    let list = expect(anonymous.get("/machines/").await, StatusCode::OK).await;
    assert_eq!(list, json!([machine]));
}

/// The relevance service's `POST /train` query for `model_id`, calling back `url`.
fn model_training(model_id: i64, url: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("model_id", &model_id.to_string())
        .append_pair("url", url)
        .append_pair("target_column", "output")
        .finish();
    format!("/train?{query}")
}

async fn create_model(client: &Client, name: &str) -> i64 {
    let created = client
        .request(Method::POST, &format!("/models?model_name={name}"))
        .send()
        .await
        .unwrap();
    expect(created, StatusCode::OK).await["model_id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn the_relevance_services_api_trains_and_calls_back_signed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--webhook-allow-private", "true"]);
    let backend = server.user("backend@example.com").await;
    let stranger = server.user("elsewhere@example.com").await;
    let (receiver, receiver_base) = Receiver::start().await;

    let model_id = create_model(&backend, "Linha%202").await;
    // A model is none of the web client's machines.
    assert_eq!(
        expect(backend.get("/machines/").await, StatusCode::OK).await,
        json!([])
    );
    let as_machine = backend.get(&format!("/machines/{model_id}")).await;
    assert_eq!(as_machine.status(), StatusCode::NOT_FOUND);
    let untrained = backend.get(&format!("/ranking?model_id={model_id}")).await;
    assert_eq!(expect(untrained, StatusCode::OK).await, json!([]));

    let started = train_at(
        &backend,
        &model_training(model_id, &format!("{receiver_base}/trained")),
        "log.csv",
        "text/csv",
        plant_csv(),
    )
    .await;
    assert_eq!(
        expect(started, StatusCode::OK).await,
        json!({"message": "Training started", "model_id": model_id})
    );
    let ranking = eventually(Duration::from_secs(180), async || {
        let ranking = expect(
            backend.get(&format!("/ranking?model_id={model_id}")).await,
            StatusCode::OK,
        )
        .await;
        match ranking.as_array() {
            Some(items) if !items.is_empty() => Ok(ranking),
            _ => Err(format!("the ranking is {ranking}")),
        }
    })
    .await;
    assert_eq!(ranking[0]["feature"], "pressure");
    assert_eq!(
        ranking[0]["direction"],
        "aumentar a variável tende a aumentar a produção"
    );

    let calls = receiver.wait_for("trained", 1).await;
    let call = &calls[0];
    let body: Value = serde_json::from_slice(&call.body).unwrap();
    assert_eq!(body["model_id"], model_id);
    assert_eq!(body["status"], "completed");
    assert!(body["metrics"]["r2"].as_f64().unwrap() > 0.8, "{body}");
    assert!(body["metrics"]["n_train"].is_number(), "{body}");
    let secret = expect(
        backend.get("/v1/webhooks/callback-secret").await,
        StatusCode::OK,
    )
    .await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(verifies(&secret, call));
    // Every look at the ended training after the first queues nothing new.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(receiver.at("trained").len(), 1);

    // Another user can neither read nor delete it.
    let theirs = stranger.get(&format!("/ranking?model_id={model_id}")).await;
    assert_eq!(
        detail(theirs, StatusCode::NOT_FOUND).await,
        "Model not found"
    );
    let their_delete = stranger.delete(&format!("/models/{model_id}")).await;
    expect(their_delete, StatusCode::OK).await;
    let still = backend.get(&format!("/ranking?model_id={model_id}")).await;
    assert_eq!(expect(still, StatusCode::OK).await, ranking);

    // Deleted, and deleted again: 200 both times, as the backend needs.
    for _ in 0..2 {
        assert_eq!(
            expect(
                backend.delete(&format!("/models/{model_id}")).await,
                StatusCode::OK
            )
            .await,
            json!({"model_id": model_id, "status": "deleted"})
        );
    }
    let gone = backend.get(&format!("/ranking?model_id={model_id}")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_relevance_services_bad_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::in_process(dir.path(), &["--workers", "0"]);
    let backend = server.user("careful@example.com").await;
    let model_id = create_model(&backend, "Forno").await;

    let nameless = backend
        .request(Method::POST, "/models")
        .send()
        .await
        .unwrap();
    let nameless = detail(nameless, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(nameless[0]["loc"], json!(["query", "model_name"]));
    let word = detail(
        backend.get("/ranking?model_id=abc").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(word[0]["loc"], json!(["query", "model_id"]));
    let bad_path = backend.delete("/models/abc").await;
    assert_eq!(bad_path.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // An internal address is not called unless the operator allows it:
    // refused before anything is queued.
    let internal = train_at(
        &backend,
        &model_training(model_id, "http://127.0.0.1:9/hook"),
        "log.csv",
        "text/csv",
        plant_csv(),
    )
    .await;
    let reason = detail(internal, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(reason.as_str().unwrap().starts_with("url: "), "{reason}");
    let unknown = train_at(
        &backend,
        &model_training(999_999, "https://example.com/hook"),
        "log.csv",
        "text/csv",
        plant_csv(),
    )
    .await;
    assert_eq!(
        detail(unknown, StatusCode::NOT_FOUND).await,
        "Model not found"
    );
    let jobs = expect(backend.get("/v1/jobs").await, StatusCode::OK).await;
    assert_eq!(jobs["jobs"], json!([]), "{jobs}");
}
