//! `hipaa-gen`: writes realistic Terraform inputs of a given size.
//!
//! ```text
//! hipaa-gen plan --resources 50000 --out plan.json
//! hipaa-gen hcl --resources 50000 --out estate/
//! ```

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hipaa-gen",
    about = "Writes realistic Terraform inputs of a given size"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A `terraform show -json` plan with exactly N resource instances after apply.
    Plan {
        #[arg(long)]
        resources: usize,
        #[arg(long)]
        out: PathBuf,
        /// The same seed gives the same plan.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// A configuration tree (root and local modules) expanding to about N instances.
    Hcl {
        #[arg(long)]
        resources: usize,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Plan {
            resources,
            out,
            seed,
        } => std::fs::File::create(&out)
            .and_then(|file| hipaa_bench::plan::write_plan(file, resources, seed))
            .map(|stats| {
                format!(
                    "{}: {} resources ({} tenants), {} deleted",
                    out.display(),
                    stats.resources,
                    stats.tenants,
                    stats.deleted
                )
            })
            .map_err(|error| format!("{}: {error}", out.display())),
        Command::Hcl {
            resources,
            out,
            seed,
        } => hipaa_bench::hcl::write_tree(&out, resources, seed)
            .map(|stats| {
                format!(
                    "{}: {} tenants in {} modules, {} files, {} bytes",
                    out.display(),
                    stats.tenants,
                    stats.modules,
                    stats.files,
                    stats.bytes
                )
            })
            .map_err(|error| format!("{}: {error}", out.display())),
    };
    match outcome {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("hipaa-gen: {error}");
            ExitCode::FAILURE
        }
    }
}
