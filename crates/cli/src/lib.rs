//! A kinoflow node as a library: its configuration, the running parts built
//! from it, and [`node::serve`], which the binary runs and tests start
//! in-process.

pub mod config;
pub mod node;
pub mod runtime;
