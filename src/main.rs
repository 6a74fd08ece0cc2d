//! The `halocheck` binary: parses arguments and calls one command per subcommand.

use clap::{Parser, Subcommand};
use halocheck::commands::{self, ConfigArgs, EndpointArgs, RecordArgs, RunArgs, SandboxArgs};

#[derive(Parser)]
#[command(
    name = "halocheck",
    version,
    about = "How compatible is OpenHalo with MySQL? Differential SQL testing against a MySQL reference."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run .slt corpora in lockstep on a reference and targets, classify every record, score each feature.
    Run(RunArgs),
    /// Rewrite the expected results in .slt files from what the reference returns.
    Record {
        #[command(flatten)]
        args: RecordArgs,
        #[command(flatten)]
        endpoints: EndpointArgs,
    },
    /// Start, check and stop throw-away local MariaDB/MySQL, PostgreSQL and OpenHalo servers.
    Sandbox(SandboxArgs),
    /// Translate a MySQL option file (my.cnf) into OpenHalo configuration and check it on a real server.
    Config(ConfigArgs),
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("halocheck: cannot start the async runtime: {e}");
            std::process::exit(halocheck::exit::USAGE);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => commands::run(args).await,
            Command::Record { args, endpoints } => commands::record(args, endpoints).await,
            Command::Sandbox(args) => commands::sandbox(args).await,
            Command::Config(args) => commands::config(args).await,
        }
    });
    let code = match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("halocheck: {}", f.message);
            f.code
        }
    };
    std::process::exit(code);
}
