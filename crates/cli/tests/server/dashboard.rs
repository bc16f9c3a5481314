//! The web dashboard, driven in a real headless Chromium against a real
//! server: sign-up, uploads, live progress, results, cancel, isolation
//! between users, the operations page and CSRF; and the session cookie and
//! CSRF rules over plain HTTP.

use std::path::Path;

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::harness::{create_admin, fixture, Server};

const PASSWORD: &str = "correct horse battery";

/// Signs up through the form; lands on the jobs page.
async fn sign_up(browser: &mut Browser, base: &str, email: &str) {
    browser.goto(&format!("{base}/signup")).await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.find("#bulk, main p a[href='/new']").await;
    assert_eq!(browser.path().await, "/jobs");
}

async fn sign_in(browser: &mut Browser, base: &str, email: &str) {
    browser.goto(&format!("{base}/signin")).await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.find("header nav a[href='/jobs']").await;
}

async fn sign_out(browser: &mut Browser) {
    browser.click("header form[action='/signout'] button").await;
    browser.find("#email").await;
}

/// Chooses `file` in the drop zone and waits until it is uploaded.
async fn upload(browser: &mut Browser, file: &Path) {
    let input = browser.find("#file").await;
    let file = file.canonicalize().unwrap();
    input.send_keys(file.to_str().unwrap()).await.unwrap();
    browser
        .wait_for(
            "the upload",
            "return document.querySelector('[data-upload]').dataset.uploaded === 'true'",
        )
        .await;
    browser.log_requests().await;
}

/// Sends `file` in parts of 256 KiB, the connection dropping for each part
/// whose `number` makes `drops` (JavaScript) true; waits until the upload
/// ends or stops, and answers the numbers of the parts that reached the server.
async fn upload_with_drops(browser: &mut Browser, file: &Path, drops: &str) -> Vec<u64> {
    let patch = format!(
        r"document.querySelector('[data-upload]').dataset.partBytes = '262144';
         window.partsSent = []; const dropped = new Set();
         const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
         XMLHttpRequest.prototype.open = function (method, url) {{ this.partUrl = url; return open.apply(this, arguments); }};
         XMLHttpRequest.prototype.send = function () {{
           const match = /\/parts\/(\d+)\?/.exec(this.partUrl || '');
           const number = match ? Number(match[1]) : 0;
           if (match && ({drops})) {{ dropped.add(number); setTimeout(() => this.onerror(), 5); return; }}
           if (match) window.partsSent.push(number);
           return send.apply(this, arguments);
         }};
         return true;"
    );
    browser.run(&patch, vec![]).await;
    let input = browser.find("#file").await;
    input.send_keys(file.to_str().unwrap()).await.unwrap();
    browser
        .wait_for(
            "the upload to end or stop",
            "return document.querySelector('[data-upload]').dataset.uploaded === 'true' \
             || !document.querySelector('#upload-retry').hidden",
        )
        .await;
    browser.log_requests().await;
    let sent = browser.run("return window.partsSent", vec![]).await;
    serde_json::from_value(sent).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The job id of the job page the browser is on.
async fn job_id_on_page(browser: &Browser) -> String {
    let path = browser.path().await;
    path.strip_prefix("/jobs/")
        .expect("on a job page")
        .to_owned()
}

/// Marks the page, so that a test can tell later that it was not reloaded.
async fn mark_page(browser: &Browser) {
    browser
        .run(
            "window.kinoflowTestMark = 'still here'; return true",
            vec![],
        )
        .await;
}

async fn page_kept_its_mark(browser: &Browser) -> bool {
    browser
        .run("return window.kinoflowTestMark === 'still here'", vec![])
        .await
        == Value::Bool(true)
}

async fn wait_for_state(browser: &Browser, state: &str) {
    browser
        .wait_for(
            &format!("the job to be {state}"),
            &format!("return document.querySelector('#job [data-field=state]').textContent === '{state}'"),
        )
        .await;
}

/// Runs `pipeline` on `file` with its default parameters and waits on the
/// job's page until it has succeeded.
async fn run_with_defaults(browser: &mut Browser, base: &str, pipeline: &str, file: &Path) {
    browser
        .goto(&format!("{base}/new?pipeline={pipeline}"))
        .await;
    upload(browser, file).await;
    browser.click("#submit").await;
    browser.find("#job").await;
    wait_for_state(browser, "succeeded").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_runs_analyses_in_the_browser_and_another_sees_none_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let shots = dir.path().join("screenshots");
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let server = Server::start(dir.path(), &[]);
    let base = server.base.clone();
    let mut browser = Browser::start(&downloads).await;

    sign_up(&mut browser, &base, "physio@example.com").await;
    browser.screenshot(&shots, "jobs-empty").await;
    browser.assert_accessible("the empty jobs list").await;

    // frames: a bad parameter is refused next to its field, the upload kept.
    // vtest.avi goes in parts; the connection drops for good after two of
    // them, the page is reloaded, the file chosen again: only the rest is
    // sent, and a part whose connection drops once is sent again alone.
    let video = fixture("vtest.avi").canonicalize().unwrap();
    browser.goto(&format!("{base}/new?pipeline=frames")).await;
    let sent = upload_with_drops(&mut browser, &video, "number >= 3").await;
    assert_eq!(sent, [1, 2], "the parts before the drop");
    browser
        .wait_for(
            "the upload to stop",
            "return !document.querySelector('#upload-retry').hidden",
        )
        .await;
    browser.goto(&format!("{base}/new?pipeline=frames")).await;
    let sent = upload_with_drops(&mut browser, &video, "number === 3 && !dropped.has(3)").await;
    let first_parts: Vec<&u64> = sent.iter().filter(|n| **n <= 2).collect();
    assert!(
        first_parts.is_empty(),
        "parts that had arrived were sent again: {sent:?}"
    );
    assert_eq!(sent.iter().filter(|n| **n == 3).count(), 1, "{sent:?}");
    let upload_id = browser
        .run("return document.querySelector('#upload_id').value", vec![])
        .await;
    let sha256 = browser
        .client
        .execute_async(
            "fetch('/v1/uploads/' + arguments[0]).then(r => r.json()).then(u => arguments[1](u.sha256))",
            vec![upload_id],
        )
        .await
        .unwrap();
    assert_eq!(sha256, json!(sha256_hex(&std::fs::read(&video).unwrap())));
    browser.fill("#param-every_n_frames", "40").await;
    browser.fill("#param-quality", "500").await;
    browser.screenshot(&shots, "new-analysis").await;
    browser.click("#submit").await;
    let message = browser.text("#param-quality-error").await;
    assert!(message.contains("100"), "{message}");
    let described = browser
        .run(
            "return document.querySelector('#param-quality').getAttribute('aria-describedby')",
            vec![],
        )
        .await;
    assert!(described.as_str().unwrap().contains("param-quality-error"));
    assert_eq!(
        browser
            .run(
                "return document.querySelector('#param-quality').getAttribute('aria-invalid')",
                vec![]
            )
            .await,
        json!("true")
    );
    browser
        .run("document.querySelector('#param-quality').scrollIntoView({block: 'center'}); return true", vec![])
        .await;
    browser.screenshot(&shots, "bad-parameter").await;
    browser.assert_accessible("the form with an error").await;
    let kept_upload = browser
        .run("return document.querySelector('#upload_id').value", vec![])
        .await;
    assert!(
        !kept_upload.as_str().unwrap().is_empty(),
        "the upload is kept"
    );

    // Fixed, it runs; progress reaches 100 % on the page without a reload.
    browser.fill("#param-quality", "80").await;
    browser.click("#submit").await;
    browser.find("#job").await;
    mark_page(&browser).await;
    let frames_job = job_id_on_page(&browser).await;
    wait_for_state(&browser, "succeeded").await;
    assert_eq!(browser.text("#job [data-field=percent]").await, "100%");
    assert!(page_kept_its_mark(&browser).await, "the page was reloaded");
    // What can be done now the job has ended replaced Cancel.
    assert_eq!(browser.text("#job .actions").await, "Delete");
    let params = browser.text("section pre").await;
    assert!(
        params.contains("\"every_n_frames\": 40") && params.contains("\"quality\": 80"),
        "{params}"
    );

    // A frame opens inline, at full size.
    browser.click("a.frame").await;
    browser
        .wait_for(
            "the frame to show",
            "const img = document.querySelector('dialog.viewer[open] img'); \
             return !!img && img.complete && img.naturalWidth === 768",
        )
        .await;
    browser.screenshot(&shots, "frames-result").await;
    browser
        .run(
            "document.querySelector('dialog.viewer').close(); return true",
            vec![],
        )
        .await;

    // The ZIP of everything downloads.
    browser.click("#download-zip").await;
    let zip_path = browser.downloaded(".zip").await;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().to_owned())
        .collect();
    assert!(
        names.contains(&"frames.zip".to_owned()) && names.contains(&"manifest.json".to_owned()),
        "{names:?}"
    );

    // A share link works without signing in.
    browser.click("form[action$='/share'] button").await;
    browser.find("div.notice input.key").await;
    let link = browser
        .run("return document.querySelector('input.key').value", vec![])
        .await;
    let shared = reqwest::get(link.as_str().unwrap()).await.unwrap();
    assert_eq!(shared.status(), StatusCode::OK);
    assert!(shared.bytes().await.unwrap().starts_with(b"PK"));
    assert!(browser.text("div.notice").await.contains("working until"));

    // biomech on real footage: the chart, the angle timeline and the overlay video that plays.
    run_with_defaults(
        &mut browser,
        &base,
        "biomech",
        &fixture("messi_zoompan.mp4"),
    )
    .await;
    browser
        .wait_for(
            "a chart picture",
            "return [...document.querySelectorAll('#results img')]\
               .some(img => img.src.includes('chart_') && img.complete && img.naturalWidth > 0)",
        )
        .await;
    browser
        .wait_for(
            "the angle timeline chart",
            "return !!document.querySelector('figure.csv[data-name=\"angles.csv\"] svg.chart polyline')",
        )
        .await;
    browser
        .wait_for(
            "the sortable angle table",
            "return document.querySelectorAll('figure.csv[data-name=\"angles.csv\"] tbody tr').length > 10",
        )
        .await;
    let played = browser
        .client
        .execute_async(
            "const done = arguments[0]; const video = document.querySelector('video[data-name=\"overlay.mp4\"]'); \
             video.muted = true; video.play().then(() => setTimeout(() => done(video.currentTime), 1500), \
             e => done('refused: ' + e));",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        played.as_f64().is_some_and(|t| t > 0.0),
        "the overlay did not play: {played}"
    );
    let sought = browser
        .client
        .execute_async(
            "const done = arguments[0]; const video = document.querySelector('video[data-name=\"overlay.mp4\"]'); \
             video.pause(); video.onseeked = () => done(video.currentTime); video.currentTime = 2.0;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        sought.as_f64().is_some_and(|t| (t - 2.0).abs() < 0.5),
        "the overlay did not seek: {sought}"
    );
    browser
        .run(
            "document.querySelector('#results h2').scrollIntoView(); return true",
            vec![],
        )
        .await;
    browser.screenshot(&shots, "biomech-result").await;
    browser.assert_accessible("a biomech job").await;

    // emotion: each person's emotions over time as a chart.
    run_with_defaults(
        &mut browser,
        &base,
        "emotion",
        &fixture("messi_zoompan.mp4"),
    )
    .await;
    browser
        .wait_for(
            "the emotion timeline chart",
            "return !!document.querySelector('figure[data-name=\"timeline.json\"] svg.chart polyline')",
        )
        .await;
    browser
        .run("document.querySelector('figure[data-name=\"timeline.json\"]').scrollIntoView(); return true", vec![])
        .await;
    browser.screenshot(&shots, "emotion-result").await;

    // A running job is cancelled from the list.
    browser.goto(&format!("{base}/new?pipeline=sleep")).await;
    browser.fill("#param-seconds", "120").await;
    browser.click("#submit").await;
    browser.find("#job").await;
    let sleeping = job_id_on_page(&browser).await;
    browser.goto(&format!("{base}/jobs")).await;
    let row = format!("tr[data-job='{sleeping}']");
    browser
        .wait_for(
            "the sleeping job to run",
            &format!("return document.querySelector(\"{row} [data-field=state]\").textContent === 'running'"),
        )
        .await;
    browser.screenshot(&shots, "jobs-list").await;
    browser.assert_accessible("the jobs list").await;
    browser
        .click(&format!("{row} button[value='cancel:{sleeping}']"))
        .await;
    browser
        .wait_for(
            "the job to be cancelled",
            &format!(
                "const cell = document.querySelector(\"{row} [data-field=state]\"); \
                      return !!cell && cell.textContent === 'cancelled'"
            ),
        )
        .await;
    let said = browser.text("p.notice").await;
    assert!(said.contains("Cancel: 1 of 1"), "{said}");

    // A job made elsewhere (here by the page's own API call) is announced.
    browser
        .run(
            "fetch('/v1/jobs', {method: 'POST', headers: {'content-type': 'application/json', \
               'x-csrf-token': document.querySelector('meta[name=csrf-token]').content}, \
               body: JSON.stringify({pipeline: 'noop'})}); return true",
            vec![],
        )
        .await;
    browser
        .wait_for(
            "the new job to be announced",
            "const n = document.querySelector('#newer-jobs'); return !!n && n.textContent.startsWith('1 new job')",
        )
        .await;

    // Search and filters narrow the list.
    browser.goto(&format!("{base}/jobs?q=messi")).await;
    let shown = browser
        .run(
            "return [...document.querySelectorAll('tr[data-job] td:nth-child(3)')].map(c => c.textContent).sort()",
            vec![],
        )
        .await;
    assert_eq!(shown, json!(["biomech", "emotion"]));
    browser.goto(&format!("{base}/jobs?state=cancelled")).await;
    let shown = browser
        .run(
            "return [...document.querySelectorAll('tr[data-job]')].map(r => r.dataset.job)",
            vec![],
        )
        .await;
    assert_eq!(shown, json!([sleeping]));

    // A form posted without its CSRF token is refused, and nothing is done.
    browser.goto(&format!("{base}/settings")).await;
    browser.fill("#key-name", "no token").await;
    browser
        .run("document.querySelector('form[action=\"/settings/keys\"] input[name=csrf]').remove(); return true", vec![])
        .await;
    browser.click("form[action='/settings/keys'] button").await;
    let refusal = browser.text("main p.error").await;
    assert!(refusal.contains("CSRF"), "{refusal}");
    browser.goto(&format!("{base}/settings")).await;
    assert!(!browser.text("main").await.contains("no token"));
    // With it, the key is made and shown once.
    browser.fill("#key-name", "laptop").await;
    browser.click("form[action='/settings/keys'] button").await;
    browser.find("div.notice input.key").await;
    let key = browser
        .run("return document.querySelector('input.key').value", vec![])
        .await;
    assert!(key.as_str().unwrap().starts_with("kf_"));
    browser.screenshot(&shots, "settings").await;
    browser.assert_accessible("the settings").await;

    // A phone-sized window still shows the job list.
    browser.resize(390, 844).await;
    browser.goto(&format!("{base}/jobs/{frames_job}")).await;
    browser.find("a.frame").await;
    browser.screenshot(&shots, "job-on-a-phone").await;
    browser.resize(1280, 1000).await;

    // Another user sees none of it.
    sign_out(&mut browser).await;
    sign_up(&mut browser, &base, "someone.else@example.com").await;
    let rows = browser
        .run(
            "return document.querySelectorAll('tr[data-job]').length",
            vec![],
        )
        .await;
    assert_eq!(rows, json!(0));
    browser.goto(&format!("{base}/jobs/{frames_job}")).await;
    assert!(browser.text("main").await.contains("not found"));
    let status = browser
        .client
        .execute_async(
            "fetch(arguments[0]).then(r => arguments[1](r.status))",
            vec![json!(format!("/v1/jobs/{frames_job}/archive.zip"))],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(404));

    browser.assert_nothing_fetched_from_outside(&base).await;
    eprintln!("{} requests logged, all to {base}", browser.requests.len());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_watches_the_operations_page_follow_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let shots = dir.path().join("screenshots");
    let downloads = dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let data = dir.path().join("data");
    create_admin(&data, "ops@example.com", PASSWORD, &[]);
    let server = Server::start_in(&data, &["--workers", "1"]);
    let base = server.base.clone();
    let user = server.user("worker.bee@example.com").await;

    let mut browser = Browser::start(&downloads).await;
    sign_in(&mut browser, &base, "ops@example.com").await;
    browser.goto(&format!("{base}/operations")).await;
    browser.find("#board").await;
    mark_page(&browser).await;
    assert!(browser
        .text("#board")
        .await
        .contains("Nothing waiting or running"));

    // Jobs arrive: the page shows them waiting and running, then ended, by itself.
    for _ in 0..3 {
        user.submit(json!({"pipeline": "sleep", "params": {"seconds": 3}}))
            .await;
    }
    browser
        .wait_for(
            "the queue to show the sleeping jobs",
            "const q = document.querySelector('#queue'); return !!q && q.textContent.includes('sleep') \
             && !!document.querySelector('#running')",
        )
        .await;
    // The running job is shown under the node that runs it.
    browser
        .wait_for(
            "the running job's node",
            "const running = document.querySelector('#running'); \
             const node = document.querySelector('#workers tbody td'); \
             return !!running && !!node && running.textContent.includes(node.textContent + '-')",
        )
        .await;
    browser
        .wait_for(
            "the jobs to be counted as ended",
            "const t = document.querySelector('#runtimes'); return !!t && t.textContent.includes('sleep') \
             && document.querySelector('#queue-empty') !== null",
        )
        .await;
    assert!(page_kept_its_mark(&browser).await, "the page was reloaded");
    browser.screenshot(&shots, "operations").await;
    browser.assert_accessible("the operations page").await;
    let day = browser.text("#board .grid").await;
    assert!(day.contains("3 succeeded"), "{day}");
    let workers = browser.text("#workers").await;
    assert!(workers.contains("sleep"), "{workers}");

    // A user who is not an administrator is refused the page.
    let mut other = Browser::start(&downloads).await;
    sign_up(&mut other, &base, "curious@example.com").await;
    other.goto(&format!("{base}/operations")).await;
    assert!(other.text("main").await.contains("administrators"));
    other.close().await;

    browser.assert_nothing_fetched_from_outside(&base).await;
    browser.close().await;
}

/// The session cookie's attributes from a sign-up over plain HTTP.
async fn signed_up_cookie(base: &str, email: &str) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(format!("{base}/signup")).send().await.unwrap();
    let form_cookie =
        cookie_pair(&page, "kinoflow_form").expect("the sign-up page sets its form cookie");
    let html = page.text().await.unwrap();
    let csrf = hidden_csrf(&html);
    let response = http
        .post(format!("{base}/signup"))
        .header(COOKIE, &form_cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let set_cookie = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("kinoflow_session="))
        .expect("a session cookie");
    (http, set_cookie)
}

fn cookie_pair(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

fn hidden_csrf(html: &str) -> String {
    let at =
        html.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_session_cookie_is_guarded_and_every_change_needs_the_csrf_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let base = &server.base;
    let (http, set_cookie) = signed_up_cookie(base, "cookie@example.com").await;
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
    let session = set_cookie.split(';').next().unwrap().to_owned();

    // A page knows the user; its CSRF token is the session's.
    let page = http
        .get(format!("{base}/settings"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let csrf = hidden_csrf(&page.text().await.unwrap());

    // The JSON API takes the cookie: reads as they are, changes only with the token.
    let me = http
        .get(format!("{base}/v1/me"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let refused = http
        .post(format!("{base}/v1/uploads/presign"))
        .header(COOKIE, &session)
        .json(&json!({"filename": "a.csv", "size": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("CSRF"));
    let allowed = http
        .post(format!("{base}/v1/uploads/presign"))
        .header(COOKIE, &session)
        .header("x-csrf-token", &csrf)
        .json(&json!({"filename": "a.csv", "size": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::CREATED);

    // Forms without the token, or with another session's, are refused.
    for token in ["", "forged"] {
        let response = http
            .post(format!("{base}/jobs/bulk"))
            .header(COOKIE, &session)
            .form(&[("csrf", token), ("action", "delete"), ("scope", "matching")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
    // The sign-in form too: its token is bound to its own cookie.
    let response = http
        .post(format!("{base}/signin"))
        .form(&[("email", "cookie@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Bad input answers a page with a 4xx, never a 500.
    for (path, status) in [
        ("/jobs?from=yesterday", StatusCode::BAD_REQUEST),
        ("/jobs?state=sleeping", StatusCode::BAD_REQUEST),
        ("/jobs/no-such-job", StatusCode::NOT_FOUND),
        ("/jobs/no-such-job/frames/1", StatusCode::NOT_FOUND),
        ("/assets/nothing.js", StatusCode::NOT_FOUND),
    ] {
        let response = http
            .get(format!("{base}{path}"))
            .header(COOKIE, &session)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{path}");
    }
    let unknown = http
        .post(format!("{base}/new"))
        .header(COOKIE, &session)
        .form(&[("csrf", csrf.as_str()), ("pipeline", "nothing")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let no_file = http
        .post(format!("{base}/new"))
        .header(COOKIE, &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("pipeline", "frames"),
            ("params.count", "3"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_file.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_file.text().await.unwrap().contains("upload_id"));

    // Signing out ends the session on the server: the old cookie no longer works.
    let out = http
        .post(format!("{base}/signout"))
        .header(COOKIE, &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = http
        .get(format!("{base}/jobs"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(after.headers()["location"], "/signin");
    let api = http
        .get(format!("{base}/v1/me"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);

    // Behind an https public URL the cookie is Secure.
    let secure_dir = tempfile::tempdir().unwrap();
    let secure = Server::start(
        secure_dir.path(),
        &["--public-url", "https://kinoflow.example"],
    );
    let (_, set_cookie) = signed_up_cookie(&secure.base, "secure@example.com").await;
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
}
