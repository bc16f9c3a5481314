//! A kinoflow node as a library: its configuration, the running parts built
//! from it, [`node::serve`], which the binary runs and tests start
//! in-process, and the [`backup`]s of what it keeps.

pub mod backup;
pub mod config;
pub mod node;
pub mod runtime;
