//! One module per subcommand.

pub mod backup;
pub mod jobs;
pub mod run;
pub mod serve;
pub mod user;
pub mod worker;
