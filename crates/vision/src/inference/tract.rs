//! Models optimised and run by `tract`, in pure Rust on the CPU.

use std::path::Path;
use std::sync::Arc;

use tract_onnx::prelude::*;

use super::InferenceBackend;
use crate::VisionError;

/// A model optimised for one input shape and run by `tract`.
pub struct TractModel {
    plan: Arc<TypedSimplePlan>,
    shape: [usize; 4],
}

impl TractModel {
    /// Loads and optimises an ONNX model whose one input has `shape`.
    pub fn load(path: &Path, shape: [usize; 4]) -> Result<Self, VisionError> {
        let failed = |e: TractError| VisionError::Model {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let plan = tract_onnx::onnx()
            .model_for_path(path)
            .and_then(|model| model.with_input_fact(0, f32::fact(shape).into()))
            .and_then(|model| model.into_optimized())
            .and_then(|model| model.into_runnable())
            .map_err(failed)?;
        Ok(Self { plan, shape })
    }
}

impl InferenceBackend for TractModel {
    fn run(&self, input: Vec<f32>) -> Result<Vec<Vec<f32>>, VisionError> {
        let failed = |e: TractError| VisionError::Inference(e.to_string());
        let tensor = tract_ndarray::Array4::from_shape_vec(self.shape, input)
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
