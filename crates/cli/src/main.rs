//! `kinoflow`: the server, its workers and its command line in one binary.

mod commands;
mod logging;
mod params;
mod progress_bar;
mod runtime;
mod settings;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::jobs::{print_job, Client};
use logging::LogFormat;
use settings::Settings;

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
        settings: Settings,
        /// A TOML configuration file [default: ./kinoflow.toml when it exists]
        #[arg(long, env = "KINOFLOW_CONFIG")]
        config: Option<PathBuf>,
        /// Print the effective configuration (secrets masked) and exit.
        #[arg(long)]
        print_config: bool,
    },
    /// Run workers only, without the HTTP API (a worker node).
    Worker {
        #[command(flatten)]
        settings: Settings,
        /// A TOML configuration file [default: ./kinoflow.toml when it exists]
        #[arg(long, env = "KINOFLOW_CONFIG")]
        config: Option<PathBuf>,
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
        /// The input file
        file: Option<PathBuf>,
        /// A parameter, key=value (repeatable)
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
        /// Where to write the artifacts
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// ffmpeg hardware decoder to try first (e.g. cuda); falls back to software
        #[arg(long, env = "KINOFLOW_HWACCEL")]
        hwaccel: Option<String>,
        /// Folder with the ONNX models [default: the models/ folder of the source kinoflow was built from]
        #[arg(long, env = "KINOFLOW_MODELS_DIR")]
        models_dir: Option<PathBuf>,
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
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Give the user the admin role.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        settings: Settings,
        #[arg(long, env = "KINOFLOW_CONFIG")]
        config: Option<PathBuf>,
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

/// The settings from flags and environment, then the file, then defaults.
fn effective(settings: Settings, config: Option<PathBuf>) -> anyhow::Result<Settings> {
    let default_file = PathBuf::from("kinoflow.toml");
    let file = config.or_else(|| default_file.exists().then_some(default_file));
    settings.with_file(file.as_deref())?.resolved()
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            settings,
            config,
            print_config,
        } => commands::serve::serve(effective(settings, config)?, print_config).await,
        Command::Worker { settings, config } => {
            commands::worker::work(effective(settings, config)?).await
        }
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    password_stdin: _,
                    admin,
                    settings,
                    config,
                },
        } => commands::user::create(effective(settings, config)?, &email, admin).await,
        Command::Run {
            pipeline,
            file,
            params,
            out,
            hwaccel,
            models_dir,
        } => {
            let options = kinoflow_pipelines::PipelineOptions {
                hwaccel,
                models_dir: models_dir.unwrap_or_else(kinoflow_pipelines::bundled_models_dir),
                limits: kinoflow_pipelines::VideoLimits::default(),
            };
            commands::run::run(&pipeline, file.as_deref(), &params, &out, options).await
        }
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
