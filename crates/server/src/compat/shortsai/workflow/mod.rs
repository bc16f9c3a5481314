//! The generation workflow: commands change what a project's assets
//! should be (`command`), one task at a time per project makes them as
//! kinoflow jobs (`dispatch`, `tasks`), and clients read where it stands
//! (`state`).

pub mod command;
mod dispatch;
pub mod state;
mod tasks;

pub use dispatch::drive_workflows;
