//! A stored file sent to a client: whole, or the one byte range it asked
//! for, with the headers that let a browser seek in it.

use std::ops::Range;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use kinoflow_engine::blobs::BlobReader;
use tokio_util::io::ReaderStream;

use crate::error::{code, ApiError};

/// Whether a browser saves the file or shows it in the page.
#[derive(Debug, Clone, Copy)]
pub enum Disposition {
    Attachment,
    Inline,
}

/// What a response says about the file it carries.
pub struct Download<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: u64,
    pub sha256: &'a str,
    pub disposition: Disposition,
}

impl Download<'_> {
    /// The byte range a `Range` header asks for, as `start..end`; none
    /// without the header.
    pub fn range(&self, header: Option<&HeaderValue>) -> Result<Option<Range<u64>>, ApiError> {
        header
            .map(|value| requested_range(value, self.size))
            .transpose()
    }

    /// The response that streams `reader`, which reads `range` of the file
    /// (or all of it).
    pub fn respond(&self, reader: BlobReader, range: Option<Range<u64>>) -> Response {
        let mut response = Response::new(Body::from_stream(ReaderStream::new(reader)));
        let headers = response.headers_mut();
        let mut set = |name, value: String| {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        };
        set(header::CONTENT_TYPE, self.content_type.to_owned());
        // The type is the client's word: a browser must not guess another
        // (an HTML page in a "video").
        set(header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned());
        set(header::ACCEPT_RANGES, "bytes".to_owned());
        set(header::ETAG, format!("\"{}\"", self.sha256));
        let disposition = match self.disposition {
            Disposition::Attachment => "attachment",
            Disposition::Inline => "inline",
        };
        // The name is the client's own, so it is quoted without its quotes.
        let name = self.name.replace(['"', '\\'], "_");
        set(
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{name}\""),
        );
        let size = self.size;
        match range {
            Some(range) => {
                set(
                    header::CONTENT_LENGTH,
                    (range.end - range.start).to_string(),
                );
                set(
                    header::CONTENT_RANGE,
                    format!("bytes {}-{}/{size}", range.start, range.end - 1),
                );
                *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            }
            None => set(header::CONTENT_LENGTH, size.to_string()),
        }
        response
    }
}

/// The byte range a `Range` header asks for, as `start..end`.
fn requested_range(value: &HeaderValue, size: u64) -> Result<Range<u64>, ApiError> {
    let unsatisfiable = || {
        ApiError::new(
            code::RANGE_NOT_SATISFIABLE,
            format!("the range is outside the file's {size} bytes, or has more than one part"),
        )
    };
    let text = value.to_str().map_err(|_| unsatisfiable())?;
    let ranges = http_range_header::parse_range_header(text)
        .and_then(|parsed| parsed.validate(size))
        .map_err(|_| unsatisfiable())?;
    match ranges.as_slice() {
        [one] => Ok(*one.start()..*one.end() + 1),
        _ => Err(unsatisfiable()),
    }
}
