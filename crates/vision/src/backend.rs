//! Running a model: one small interface, so that a GPU runtime can stand in
//! for the pure-Rust default without touching the pose code.

use std::path::Path;

use tract_onnx::prelude::*;

use crate::VisionError;

/// Runs one model on one NHWC f32 image tensor and gives every output,
/// flattened, in the model's output order.
pub trait InferenceBackend: Send + Sync {
    fn run(&self, input: Vec<f32>, side: usize) -> Result<Vec<Vec<f32>>, VisionError>;
}

/// A model optimised and run by `tract` on the CPU.
pub struct TractModel {
    plan: std::sync::Arc<TypedSimplePlan>,
}

impl TractModel {
    /// Loads and optimises an ONNX model whose input is `[1, side, side, 3]`.
    pub fn load(path: &Path, side: usize) -> Result<Self, VisionError> {
        let failed = |e: TractError| VisionError::Model {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let plan = tract_onnx::onnx()
            .model_for_path(path)
            .and_then(|model| model.with_input_fact(0, f32::fact([1, side, side, 3]).into()))
            .and_then(|model| model.into_optimized())
            .and_then(|model| model.into_runnable())
            .map_err(failed)?;
        Ok(Self { plan })
    }
}

impl InferenceBackend for TractModel {
    fn run(&self, input: Vec<f32>, side: usize) -> Result<Vec<Vec<f32>>, VisionError> {
        let failed = |e: TractError| VisionError::Inference(e.to_string());
        let tensor = tract_ndarray::Array4::from_shape_vec((1, side, side, 3), input)
            .map_err(|e| VisionError::Inference(e.to_string()))?;
        let outputs = self
            .plan
            .run(tvec!(Tensor::from(tensor).into()))
            .map_err(failed)?;
        outputs
            .iter()
            .map(|output| {
                output
                    .try_as_plain_ram()
                    .and_then(|plain| plain.as_slice::<f32>().map(<[f32]>::to_vec))
                    .map_err(failed)
            })
            .collect()
    }
}

/// The output of `len` values among a model's outputs: outputs are found by
/// size, which says what they are, whatever order the converter left them in.
pub(crate) fn output_of_len(outputs: &[Vec<f32>], len: usize) -> Result<&[f32], VisionError> {
    outputs
        .iter()
        .find(|o| o.len() == len)
        .map(Vec::as_slice)
        .ok_or_else(|| VisionError::Inference(format!("the model gave no output of {len} values")))
}
