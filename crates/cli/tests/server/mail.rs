//! Mail against a real SMTP server on loopback (aiosmtpd, which
//! `scripts/install-test-deps` installs): the frame-extraction API's
//! completion mail, its text and HTML parts, and the link inside, which
//! downloads the results without a token until it expires; the user's own
//! setting; STARTTLS and TLS with certificates made by openssl.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::frames_api;
use crate::harness::{eventually, expect, refused_start, sleep_past_expiry, was_attempted, Server};

/// The address links in mail are built from; the test swaps in the server's own.
const PUBLIC_URL: &str = "http://kinoflow.test";

/// aiosmtpd writing every message it accepts to a Maildir; killed when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    /// A plain SMTP server.
    fn start(root: &Path) -> SmtpServer {
        Self::start_with(root, &[])
    }

    /// An SMTP server started with more of aiosmtpd's options (TLS).
    fn start_with(root: &Path, options: &[&Path]) -> SmtpServer {
        std::fs::create_dir_all(root).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = root.join("maildir");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(options)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd runs (scripts/install-test-deps installs it)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        SmtpServer {
            child,
            port,
            maildir,
        }
    }

    /// Waits for `count` messages to arrive; returns them decoded.
    async fn messages(&self, count: usize) -> Vec<Mail> {
        eventually(Duration::from_secs(120), async || {
            let arrived: Vec<Mail> = std::fs::read_dir(self.maildir.join("new"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| Mail::read(&std::fs::read(entry.path()).unwrap()))
                .collect();
            if arrived.len() >= count {
                Ok(arrived)
            } else {
                Err(format!("{} of {count} mails arrived", arrived.len()))
            }
        })
        .await
    }

    /// A kinoflow server that mails through this SMTP server, in plain text.
    fn kinoflow(&self, root: &Path, extra: &[&str]) -> Server {
        kinoflow_mailing(root, &format!("smtp://127.0.0.1:{}", self.port), extra)
    }
}

/// A message as a mail client shows it, decoded by a MIME parser.
#[derive(Debug)]
struct Mail {
    to: String,
    from: String,
    subject: String,
    text: String,
    html: String,
    /// The message as it arrived, headers and encoded parts.
    raw: String,
}

impl Mail {
    fn read(raw: &[u8]) -> Mail {
        let message = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("a readable message");
        let address = |list: Option<&mail_parser::Address>| {
            let first = list.and_then(|list| list.first()).expect("an address");
            match (first.name(), first.address()) {
                (Some(name), Some(address)) => format!("{name} <{address}>"),
                (_, address) => address.unwrap_or_default().to_owned(),
            }
        };
        Mail {
            to: address(message.to()),
            from: address(message.from()),
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
            html: message.body_html(0).unwrap_or_default().into_owned(),
            raw: String::from_utf8_lossy(raw).into_owned(),
        }
    }
}

/// A kinoflow server that mails through the SMTP server at `smtp_url`.
fn kinoflow_mailing(root: &Path, smtp_url: &str, extra: &[&str]) -> Server {
    std::fs::create_dir_all(root).unwrap();
    let mut args = vec![
        "--workers",
        "1",
        "--smtp-url",
        smtp_url,
        "--mail-from",
        "kinoflow <kinoflow@example.com>",
        "--public-url",
        PUBLIC_URL,
    ];
    args.extend_from_slice(extra);
    Server::start(root, &args)
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_frames_api_mails_a_link_that_downloads_until_it_expires() {
    let root = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(root.path());
    let server = smtp.kinoflow(root.path(), &["--mail-link-ttl-s", "20"]);
    let owner = frames_api::account(&server, "frames-mail@example.com").await;
    let uploaded = expect(
        frames_api::upload(&owner, Some("5")).await,
        StatusCode::CREATED,
    )
    .await;
    let video_id = uploaded["id"].as_str().unwrap().to_owned();

    let message = smtp.messages(1).await.remove(0);
    assert_eq!(message.to, "frames-mail@example.com");
    assert_eq!(message.from, "kinoflow <kinoflow@example.com>");
    assert_eq!(message.subject, "kinoflow: your frames job succeeded");
    assert!(
        message.raw.contains("Content-Type: text/plain"),
        "{}",
        message.raw
    );
    assert!(
        message.raw.contains("Content-Type: text/html"),
        "{}",
        message.raw
    );
    let link = link_in(&message.text);
    assert!(link.contains(&video_id), "{link}");
    let html_link = format!("<a href=\"{}\">", link.replace('&', "&amp;"));
    assert!(message.html.contains(&html_link), "{}", message.html);

    // The link works without a token, at the server's address.
    let local = link.replacen(PUBLIC_URL, &server.base, 1);
    let http = reqwest::Client::new();
    let download = http.get(&local).send().await.unwrap();
    assert_eq!(
        download.status(),
        StatusCode::OK,
        "{local} from {message:#?}"
    );
    let zip = download.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    assert!(archive.by_name("frames.zip").is_ok());

    // The delivery is listed as mailed (the receiver may hold the message
    // a moment before the notifier records the attempt).
    let mail = owner
        .wait_for_delivery(&video_id, |d| d["state"] == "delivered")
        .await;
    assert_eq!(mail["channel"], "email");
    assert_eq!(mail["target"], "frames-mail@example.com");

    // After its expiry the link is refused.
    sleep_past_expiry(&link).await;
    let expired = http.get(&local).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::FORBIDDEN);
}

/// The download link in a mail's text.
fn link_in(text: &str) -> String {
    let start = text
        .find(&format!("{PUBLIC_URL}/v1/links/"))
        .unwrap_or_else(|| panic!("no link in the mail:\n{text}"));
    text[start..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn users_who_ask_are_mailed_why_a_job_failed_and_a_jobs_own_address_wins() {
    let root = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(root.path());
    let server = smtp.kinoflow(root.path(), &[]);
    let client = server.user("settings-mail@example.com").await;
    let me = expect(
        client
            .patch_json("/v1/me", json!({"notify_by_email": true}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["notify_by_email"], true);
    assert_eq!(
        expect(client.get("/v1/me").await, StatusCode::OK).await["notify_by_email"],
        true
    );

    let failing = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 0.1, "fail_permanently": "the <input> was odd"}}))
        .await;
    assert_eq!(failing["notify_email"], "settings-mail@example.com");
    let elsewhere = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 0.1}, "notify_email": "team@example.com"}))
        .await;
    assert_eq!(elsewhere["notify_email"], "team@example.com");

    let messages = smtp.messages(2).await;
    let failed = messages
        .iter()
        .find(|m| m.to == "settings-mail@example.com")
        .expect("the owner was mailed");
    assert_eq!(failed.subject, "kinoflow: your sleep job failed");
    assert!(failed.text.contains("the <input> was odd"), "{failed:#?}");
    assert!(
        failed.html.contains("the &lt;input&gt; was odd"),
        "the HTML part escapes: {failed:#?}"
    );
    assert!(
        !failed.raw.contains("/v1/links/"),
        "a failed job has nothing to download: {failed:#?}"
    );
    let succeeded = messages
        .iter()
        .find(|m| m.to == "team@example.com")
        .expect("the job's own address was mailed");
    assert_eq!(succeeded.subject, "kinoflow: your sleep job succeeded");
    assert_eq!(messages.len(), 2, "one mail per job");

    // Turned off, nobody is mailed.
    let me = expect(
        client
            .patch_json("/v1/me", json!({"notify_by_email": false}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(me["notify_by_email"], false);
    let quiet = client
        .submit(json!({"pipeline": "sleep", "params": {"seconds": 0.1}}))
        .await;
    assert!(quiet["notify_email"].is_null(), "{quiet}");
}

#[tokio::test]
async fn without_an_smtp_server_mail_cannot_be_asked_for() {
    let root = tempfile::tempdir().unwrap();
    let server = Server::start(root.path(), &["--workers", "0"]);
    let client = server.user("no-mail@example.com").await;
    for body in [
        json!({"notify_by_email": true}),
        json!({"notify_by_email": "yes"}),
        json!({"colour": "red"}),
    ] {
        let refused = client.patch_json("/v1/me", body.clone()).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let refused = expect(
        client
            .patch_json("/v1/me", json!({"notify_by_email": true}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("KINOFLOW_SMTP_URL"),
        "{refused}"
    );
    let me = expect(client.get("/v1/me").await, StatusCode::OK).await;
    assert_eq!(me["notify_by_email"], false);
}

/// A certificate authority of the test's own and the certificate for
/// 127.0.0.1 it signed, made by openssl.
struct Certificates {
    authority: PathBuf,
    certificate: PathBuf,
    key: PathBuf,
}

fn make_certificates(dir: &Path) -> Certificates {
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs (scripts/install-test-deps installs it)");
        assert!(status.success(), "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=kinoflow test authority",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "1",
        "-extfile",
        "server.ext",
    ]);
    Certificates {
        authority: dir.join("ca.pem"),
        certificate: dir.join("server.pem"),
        key: dir.join("server.key"),
    }
}

#[tokio::test]
async fn mail_goes_over_starttls_and_tls_to_a_server_the_operator_trusts() {
    let root = tempfile::tempdir().unwrap();
    let certificates = make_certificates(root.path());
    let (certificate, key) = (&certificates.certificate, &certificates.key);
    let starttls = SmtpServer::start_with(
        &root.path().join("starttls"),
        &[
            Path::new("--tlscert"),
            certificate,
            Path::new("--tlskey"),
            key,
        ],
    );
    let smtps = SmtpServer::start_with(
        &root.path().join("smtps"),
        &[
            Path::new("--smtpscert"),
            certificate,
            Path::new("--smtpskey"),
            key,
        ],
    );
    let starttls_url = format!("smtp://127.0.0.1:{}?tls=required", starttls.port);
    let smtps_url = format!("smtps://127.0.0.1:{}", smtps.port);
    let authority = certificates.authority.to_str().unwrap();
    let job =
        json!({"pipeline": "sleep", "params": {"seconds": 0.1}, "notify_email": "tls@example.com"});

    // aiosmtpd refuses mail before STARTTLS, so a message that arrives came over TLS.
    for (name, smtp, url) in [
        ("starttls", &starttls, &starttls_url),
        ("smtps", &smtps, &smtps_url),
    ] {
        let server = kinoflow_mailing(
            &root.path().join(format!("kinoflow-{name}")),
            url,
            &["--smtp-ca-file", authority],
        );
        let client = server.user("tls@example.com").await;
        client.submit(job.clone()).await;
        let message = smtp.messages(1).await.remove(0);
        assert_eq!(
            message.subject, "kinoflow: your sleep job succeeded",
            "{name}"
        );
    }

    // Without the authority the server's certificate is not trusted: the
    // attempt fails, says why, and waits to be tried again.
    let server = kinoflow_mailing(&root.path().join("kinoflow-untrusting"), &starttls_url, &[]);
    let client = server.user("tls@example.com").await;
    let id = client.submit(job).await["id"].as_str().unwrap().to_owned();
    let delivery = client.wait_for_delivery(&id, was_attempted).await;
    assert_eq!(delivery["state"], "pending", "{delivery:#}");
    let error = delivery["attempts"][0]["error"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(error.contains("certificate"), "{error}");
    assert_eq!(starttls.messages(1).await.len(), 1, "nothing more was sent");
}

#[test]
fn an_operators_authority_is_checked_at_start() {
    let root = tempfile::tempdir().unwrap();
    let not_pem = root.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    for (url, ca, complaint) in [
        (
            "smtps://127.0.0.1:1",
            not_pem.to_str().unwrap(),
            "no PEM certificate",
        ),
        (
            "smtp://127.0.0.1:1",
            not_pem.to_str().unwrap(),
            "tls=required",
        ),
        (
            "smtps://127.0.0.1:1",
            "/no/such/file.pem",
            "could not read smtp_ca_file",
        ),
    ] {
        let stderr = refused_start(
            &[
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--data-dir",
                root.path().to_str().unwrap(),
                "--smtp-url",
                url,
                "--mail-from",
                "k@example.com",
                "--public-url",
                PUBLIC_URL,
                "--smtp-ca-file",
                ca,
            ],
            &[],
        );
        assert!(stderr.contains(complaint), "{url} {ca}: {stderr}");
    }
}
