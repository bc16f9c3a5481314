//! The pipelines this process knows, by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::pipeline::Pipeline;

/// Name → pipeline. Workers claim only jobs of the pipelines they have.
#[derive(Clone, Default)]
pub struct PipelineRegistry {
    pipelines: BTreeMap<String, Arc<dyn Pipeline>>,
}

impl PipelineRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, pipeline: impl Pipeline) {
        self.pipelines
            .insert(pipeline.name().to_owned(), Arc::new(pipeline));
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
