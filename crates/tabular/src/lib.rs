//! kinoflow's tabular analysis: which variables of a process drive its
//! output. A CSV table is read whatever its dialect ([`table`]), made a
//! dataset ([`dataset`]), modelled with gradient-boosted trees ([`model`])
//! validated fold by fold ([`validation`]), and its variables ranked by
//! SHAP, gain and permutation importance with correlated variables grouped
//! ([`groups`], [`ranking`]); [`relevance`] runs it all.

pub mod dataset;
pub mod groups;
pub mod metrics;
pub mod model;
mod rank;
pub mod ranking;
pub mod relevance;
pub mod table;
pub mod validation;

pub use dataset::{Dataset, DatasetError, DatasetOptions, Task};
pub use relevance::{analyse, AnalysisError, Quality, Relevance};
pub use table::{Table, TableError};
pub use validation::ValidationSettings;
