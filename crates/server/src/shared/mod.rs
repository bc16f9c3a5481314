//! What route handlers share, `/v1`'s and the compatible APIs' alike, and
//! that is no route itself: a multipart form whose file streams into an
//! upload, storing an upload, sending a stored file by byte range, and the
//! caller's job or a 404.

mod download;
mod form;
mod job;
mod upload;

pub use download::{Disposition, Download};
pub use form::FileForm;
pub use job::{pipeline_job, visible_job};
pub use upload::{content_type_for, sanitise_filename, store_upload};
