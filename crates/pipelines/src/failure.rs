//! Errors of the libraries pipelines use, as the engine's two kinds of
//! failure.

use kinoflow_engine::PipelineError;

/// A failure that another attempt cannot mend (a bad input, a missing model).
pub fn permanent(error: impl std::fmt::Display) -> PipelineError {
    PipelineError::permanent(error.to_string())
}

/// A failure another attempt may not meet (a stalled child, a full disk).
pub fn transient(error: impl std::fmt::Display) -> PipelineError {
    PipelineError::transient(error.to_string())
}
