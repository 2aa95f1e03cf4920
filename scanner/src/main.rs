use clap::Parser;
use hipaa_scanner::cli::{run, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    run(Cli::parse())
}
