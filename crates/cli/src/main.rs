//! `kinoflow`: the server, its workers and its command line in one binary.

mod commands;
mod logging;
mod params;
mod progress_bar;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::jobs::{print_job, Client};
use kinoflow::config::{Config, RawSettings};
use kinoflow::runtime::start_inference;
use logging::LogFormat;

#[derive(Parser)]
#[command(
    name = "kinoflow",
    version,
    about = "Asynchronous video and data analysis server"
)]
struct Cli {
    /// Log format
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human, env = "KINOFLOW_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and run workers.
    Serve {
        #[command(flatten)]
        settings: RawSettings,
        /// Print the effective configuration (secrets masked) and exit.
        #[arg(long)]
        print_config: bool,
    },
    /// Run workers only, without the HTTP API (a worker node).
    Worker {
        #[command(flatten)]
        settings: RawSettings,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Run one job in this process, without a server, and save its artifacts.
    Run {
        /// The pipeline, e.g. probe
        pipeline: String,
        /// The input file; for a pipeline that takes none, a JSON file of
        /// its parameters (a render spec), whose local file paths are uploaded
        file: Option<PathBuf>,
        /// A parameter, key=value (repeatable)
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// Where to write the artifacts
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// A node's settings: those that say how jobs run (models, inference
        /// runtime, hardware decoding, limits) apply here too.
        #[command(flatten)]
        settings: RawSettings,
    },
    /// Back up, check and restore the database and blobs.
    Backup {
        #[command(subcommand)]
        command: commands::backup::BackupCommand,
    },
    /// Work with jobs on a server.
    Jobs {
        /// The server's URL
        #[arg(long, env = "KINOFLOW_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// An access token or API key
        #[arg(long, env = "KINOFLOW_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[command(subcommand)]
        command: JobsCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long)]
        password_stdin: bool,
        /// Give the user the admin role.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        settings: RawSettings,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Submit a job (uploading the file with it).
    Submit {
        pipeline: String,
        file: Option<PathBuf>,
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// Wait for the job to end, with a progress bar.
        #[arg(long)]
        wait: bool,
    },
    /// Show a job.
    Status { id: String },
    /// Wait for a job to end, with a progress bar.
    Wait { id: String },
    /// Save a job's artifacts.
    Download {
        id: String,
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server logs what it does; a one-shot command only what went wrong,
    // so that its progress bar stays readable.
    let default_level = match cli.command {
        Command::Serve { .. } | Command::Worker { .. } => "info",
        _ => "warn",
    };
    logging::init(cli.log_format, default_level);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: could not start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            settings,
            print_config,
        } => commands::serve::serve(Config::load(settings)?, print_config).await,
        Command::Worker { settings } => commands::worker::work(Config::load(settings)?).await,
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    password_stdin,
                    admin,
                    settings,
                },
        } => {
            let config = Config::load(settings)?;
            commands::user::create(config, &email, admin, password_stdin).await
        }
        Command::Run {
            pipeline,
            file,
            params,
            out,
            settings,
        } => {
            let config = Config::load(settings)?;
            let options = config.pipeline_options(start_inference(&config)?);
            commands::run::run(&pipeline, file.as_deref(), &params, &out, options).await
        }
        Command::Backup { command } => commands::backup::run(command).await,
        Command::Jobs {
            server,
            token,
            command,
        } => {
            let client = Client::new(&server, token)?;
            match command {
                JobsCommand::Submit {
                    pipeline,
                    file,
                    params,
                    wait,
                } => {
                    let job = client.submit(&pipeline, file.as_deref(), &params).await?;
                    match (wait, job["id"].as_str()) {
                        (true, Some(id)) => print_job(&client.wait(id).await?),
                        _ => print_job(&job),
                    }
                }
                JobsCommand::Status { id } => print_job(&client.status(&id).await?),
                JobsCommand::Wait { id } => print_job(&client.wait(&id).await?),
                JobsCommand::Download { id, out } => client.download(&id, &out).await,
            }
        }
    }
}
