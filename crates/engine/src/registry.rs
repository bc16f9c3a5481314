//! The pipelines this process knows, by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::params::ParamsChecker;
use crate::pipeline::Pipeline;

/// Name → pipeline. Workers claim only jobs of the pipelines they have.
#[derive(Clone, Default)]
pub struct PipelineRegistry {
    pipelines: BTreeMap<String, Arc<dyn Pipeline>>,
    checkers: BTreeMap<String, Arc<ParamsChecker>>,
}

impl PipelineRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, pipeline: impl Pipeline) {
        let name = pipeline.name().to_owned();
        let checker = ParamsChecker::new(&pipeline.params_schema());
        self.checkers.insert(name.clone(), Arc::new(checker));
        self.pipelines.insert(name, Arc::new(pipeline));
    }

    /// The compiled parameter schema of the pipeline `name`.
    pub fn params_checker(&self, name: &str) -> Option<Arc<ParamsChecker>> {
        self.checkers.get(name).cloned()
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn Pipeline>> {
        self.pipelines.get(name).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        self.pipelines.keys().cloned().collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Pipeline>> {
        self.pipelines.values()
    }
}
