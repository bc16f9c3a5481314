//! E-mail: a job's end mailed through SMTP, in text and HTML, with a link
//! that downloads the results without logging in until it expires.

use std::time::Duration;

use kinoflow_store::JobAnnouncement;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::{AsyncSmtpTransport, AsyncSmtpTransportBuilder};
use lettre::{AsyncTransport, Message, Tokio1Executor};
use url::Url;

/// How long the SMTP server has for each step of a conversation.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and as whom mail is sent.
#[derive(Clone)]
pub struct MailSettings {
    /// `smtp://host:port` (plain), `smtp://host?tls=required` (STARTTLS) or
    /// `smtps://host` (TLS), with `user:password@` when the server asks.
    pub smtp_url: String,
    /// The From address, e.g. `kinoflow <kinoflow@example.com>`.
    pub from: String,
    /// PEM certificates of the authorities that signed the server's
    /// certificate, when it is not one the public roots vouch for (a
    /// company's own relay); they are trusted besides the public roots.
    pub ca_pem: Option<Vec<u8>>,
}

/// A signed download link and when it stops working.
pub struct DownloadLink {
    pub url: String,
    /// Seconds since the Unix epoch.
    pub expires_at: i64,
}

/// Makes the links that mails carry; the server knows how to sign them.
pub trait DownloadLinks: Send + Sync {
    /// A link to the ZIP of all of a job's results.
    fn results_link(&self, job_id: &str) -> DownloadLink;
}

/// Sends mail through one SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// Checks the settings; nothing is connected yet.
    pub fn new(settings: &MailSettings) -> Result<Self, String> {
        let from = mailbox(&settings.from).map_err(|e| format!("mail_from {e}"))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
            .map_err(|e| format!("smtp_url is not a valid SMTP URL: {e}"))?
            .timeout(Some(SMTP_TIMEOUT));
        if let Some(pem) = &settings.ca_pem {
            builder = trusting(builder, &settings.smtp_url, pem)?;
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    /// Mails `to` what `payload` (a job event) says, with a download link
    /// when the job succeeded.
    pub(crate) async fn send_job_end(
        &self,
        to: &str,
        payload: &str,
        links: &dyn DownloadLinks,
    ) -> Result<(), String> {
        let to = mailbox(to)?;
        let end = JobEnd::from_payload(payload)?;
        let link = (end.state == "succeeded").then(|| links.results_link(&end.id));
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(end.subject())
            .multipart(MultiPart::alternative_plain_html(
                end.text(link.as_ref()),
                end.html(link.as_ref()),
            ))
            .map_err(|e| format!("could not compose the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("the SMTP server refused the message: {e}"))
    }
}

/// `builder` with the TLS mode its URL asks for, trusting the authorities in
/// `pem` too. lettre reads the mode from the URL but builds its TLS settings
/// with the public roots only, so they are built again here.
fn trusting(
    builder: AsyncSmtpTransportBuilder,
    smtp_url: &str,
    pem: &[u8],
) -> Result<AsyncSmtpTransportBuilder, String> {
    let url = Url::parse(smtp_url).map_err(|e| format!("smtp_url is not a URL: {e}"))?;
    let tls_mode = url
        .query_pairs()
        .find(|(key, _)| key == "tls")
        .map(|(_, value)| value.into_owned());
    let wrap: fn(TlsParameters) -> Tls = match (url.scheme(), tls_mode.as_deref()) {
        ("smtps", _) => Tls::Wrapper,
        ("smtp", Some("required")) => Tls::Required,
        ("smtp", Some("opportunistic")) => Tls::Opportunistic,
        _ => {
            return Err(
                "smtp_ca_file is for TLS: use smtps://… or smtp://…?tls=required in smtp_url"
                    .to_owned(),
            )
        }
    };
    // An empty or non-PEM file parses as no certificate at all: say so.
    if !String::from_utf8_lossy(pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err("smtp_ca_file holds no PEM certificate".to_owned());
    }
    let certificate = Certificate::from_pem(pem)
        .map_err(|e| format!("smtp_ca_file holds no readable PEM certificate: {e}"))?;
    let parameters = TlsParameters::builder(url.host_str().unwrap_or_default().to_owned())
        .add_root_certificate(certificate)
        .build_rustls()
        .map_err(|e| format!("could not set up TLS for the SMTP server: {e}"))?;
    Ok(builder.tls(wrap(parameters)))
}

/// Whether `text` is an address mail can be sent to.
pub fn check_address(text: &str) -> Result<(), String> {
    mailbox(text).map(drop)
}

fn mailbox(text: &str) -> Result<Mailbox, String> {
    text.parse()
        .map_err(|e| format!("{text:?} is not an e-mail address: {e}"))
}

/// What a mail says of a job, read from the announcement its delivery carries.
struct JobEnd {
    id: String,
    pipeline: String,
    state: String,
    error: Option<String>,
}

impl JobEnd {
    fn from_payload(payload: &str) -> Result<Self, String> {
        let job = JobAnnouncement::parse(payload)
            .map_err(|e| format!("unreadable event: {e}"))?
            .data;
        Ok(Self {
            id: job.id,
            pipeline: job.pipeline,
            state: job.state.as_str().to_owned(),
            error: job.error,
        })
    }

    fn subject(&self) -> String {
        format!("kinoflow: your {} job {}", self.pipeline, self.state)
    }

    fn text(&self, link: Option<&DownloadLink>) -> String {
        let mut text = format!("Your {} job {} {}.\n", self.pipeline, self.id, self.state);
        if let Some(error) = &self.error {
            text.push_str(&format!("\nWhat went wrong: {error}\n"));
        }
        if let Some(link) = link {
            text.push_str(&format!(
                "\nDownload the results (no login needed):\n{}\n\nThe link works until {}.\n",
                link.url,
                expiry(link)
            ));
        }
        text
    }

    fn html(&self, link: Option<&DownloadLink>) -> String {
        let mut html = format!(
            "<p>Your {} job <code>{}</code> {}.</p>",
            escape(&self.pipeline),
            escape(&self.id),
            escape(&self.state)
        );
        if let Some(error) = &self.error {
            html.push_str(&format!("<p>What went wrong: {}</p>", escape(error)));
        }
        if let Some(link) = link {
            html.push_str(&format!(
                "<p><a href=\"{}\">Download the results</a> (no login needed).</p>\
                 <p>The link works until {}.</p>",
                escape(&link.url),
                expiry(link)
            ));
        }
        html
    }
}

fn expiry(link: &DownloadLink) -> String {
    chrono::DateTime::from_timestamp(link.expires_at, 0)
        .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// HTML-escapes text for the mail's HTML part (five characters; no crate
/// needed for that).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinoflow_store::{AnnouncedJob, JobState};

    #[test]
    fn a_failed_job_says_why_and_escapes_it_in_html() {
        let payload = JobAnnouncement {
            event: "job.failed".into(),
            timestamp: "2026-01-01T00:00:00.000Z".into(),
            data: AnnouncedJob {
                id: "j1".into(),
                pipeline: "frames".into(),
                state: JobState::Failed,
                progress: 0.0,
                stage: None,
                error: Some("bad <input>".into()),
                warnings: Vec::new(),
            },
        }
        .to_payload()
        .unwrap();
        let end = JobEnd::from_payload(&payload).unwrap();
        assert_eq!(end.subject(), "kinoflow: your frames job failed");
        assert!(end.text(None).contains("What went wrong: bad <input>"));
        assert!(end.html(None).contains("bad &lt;input&gt;"));
    }

    #[test]
    fn an_authority_is_only_for_tls_urls() {
        let settings = |smtp_url: &str, ca_pem: &[u8]| MailSettings {
            smtp_url: smtp_url.to_owned(),
            from: "kinoflow@example.com".to_owned(),
            ca_pem: Some(ca_pem.to_vec()),
        };
        let not_pem = Mailer::new(&settings("smtps://mail.example.com", b"hello"))
            .err()
            .unwrap();
        assert!(not_pem.contains("smtp_ca_file"), "{not_pem}");
        let plain = Mailer::new(&settings("smtp://mail.example.com", b""))
            .err()
            .unwrap();
        assert!(plain.contains("tls=required"), "{plain}");
    }

    #[test]
    fn addresses_are_checked() {
        assert!(check_address("someone@example.com").is_ok());
        assert!(check_address("not an address").is_err());
    }
}
