//! The `dataport` binary: parse the command line, run one subcommand, and turn
//! any start-up failure into one clear line and a non-zero exit.

use std::process::ExitCode;

use clap::Parser;
use dataport::config::{Cli, Command};
use dataport::error::StartError;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a log file or pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse().into_command()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, whatever the layers below put in their messages.
            let message = error.to_string();
            eprintln!(
                "dataport: {}",
                message.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), StartError> {
    match command {
        Command::Serve(config) => dataport::http::serve(config).await,
        Command::Crds(args) => dataport::cluster::crds::run(args).await,
        Command::Simulate(args) => dataport::simulator::run(args).await,
        Command::User(command) => dataport::admin::run_user(command).await,
        Command::Token(command) => dataport::admin::run_token(command).await,
    }
}
