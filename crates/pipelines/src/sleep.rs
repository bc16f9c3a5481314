//! `sleep`: waits, reporting progress, and can fail on purpose. For tests,
//! demos and benchmarks of the engine itself.

use std::time::Duration;

use async_trait::async_trait;
use kinoflow_engine::{InputKind, JobContext, Pipeline, PipelineError, RunSummary};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

/// Sleeps for `seconds`; fails transiently on its first `fail_times` attempts,
/// or permanently with `fail_permanently`'s message.
pub struct SleepPipeline;

#[derive(Deserialize)]
struct SleepParams {
    #[serde(default = "one_second")]
    seconds: f64,
    #[serde(default)]
    fail_times: i64,
    #[serde(default)]
    fail_permanently: Option<String>,
}

fn one_second() -> f64 {
    1.0
}

const TICK: Duration = Duration::from_millis(100);

#[async_trait]
impl Pipeline for SleepPipeline {
    fn name(&self) -> &'static str {
        "sleep"
    }

    fn description(&self) -> &'static str {
        "Waits for a number of seconds while reporting progress, optionally failing on purpose; for tests and demos."
    }

    fn input(&self) -> InputKind {
        InputKind::None
    }

    fn params_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "seconds": {"type": "number", "minimum": 0, "maximum": 86400, "default": 1,
                            "description": "How long to sleep."},
                "fail_times": {"type": "integer", "minimum": 0, "maximum": 100, "default": 0,
                               "description": "Fail transiently on this many attempts before succeeding."},
                "fail_permanently": {"type": "string", "minLength": 1,
                                     "description": "Fail at once, without retry, with this message."}
            },
            "additionalProperties": false
        })
    }

    async fn run(&self, ctx: JobContext) -> Result<RunSummary, PipelineError> {
        let params: SleepParams = ctx.params()?;
        if let Some(message) = params.fail_permanently {
            return Err(PipelineError::permanent(message));
        }
        if ctx.attempt <= params.fail_times {
            return Err(PipelineError::transient(format!(
                "simulated transient failure {} of {}",
                ctx.attempt, params.fail_times
            )));
        }
        let total = Duration::from_secs_f64(params.seconds);
        let started = Instant::now();
        loop {
            let elapsed = started.elapsed();
            let fraction = if total.is_zero() {
                1.0
            } else {
                elapsed.as_secs_f64() / total.as_secs_f64()
            };
            ctx.progress.report(fraction, "sleeping");
            if elapsed >= total {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(TICK.min(total - elapsed)) => {}
                _ = ctx.cancel.cancelled() => return Err(PipelineError::Cancelled),
            }
        }
        let result = json!({"slept_s": started.elapsed().as_secs_f64(), "attempt": ctx.attempt});
        ctx.artifacts
            .put_bytes("result.json", result.to_string().as_bytes())
            .await?;
        Ok(RunSummary::default())
    }
}
