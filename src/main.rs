//! The `halocheck` binary: parses arguments and calls one command per subcommand.

use clap::{Parser, Subcommand};
use halocheck::commands::{
    self, AssessArgs, BenchArgs, ConfigArgs, DatasetArgs, EndpointArgs, MigrateArgs, RecordArgs,
    RunArgs, SandboxArgs, VerifyArgs,
};

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
    /// Create deterministic datasets (sysbench-style, rich types) in a database.
    Dataset(DatasetArgs),
    /// Prove that two databases hold the same rows: counts, chunk digests, differing rows.
    #[command(name = "verify-data")]
    VerifyData(Box<VerifyArgs>),
    /// Copy a database to a MySQL-protocol target (schema and rows), resumably.
    Migrate(Box<MigrateArgs>),
    /// Replay a database's tables, views, routines, triggers and events on a target; report what it refuses.
    Assess(AssessArgs),
    /// sysbench's OLTP workloads on MySQL, OpenHalo and PostgreSQL: latency percentiles, server CPU and memory, sweeps.
    Bench(Box<BenchArgs>),
}

/// mimalloc: verify-data and the drivers allocate one buffer per value; with
/// glibc's allocator a third of verify-data's CPU went to malloc and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
            Command::Dataset(args) => commands::dataset_cmd(args).await,
            Command::VerifyData(args) => commands::verify_data(*args).await,
            Command::Migrate(args) => commands::migrate(*args).await,
            Command::Assess(args) => commands::assess(args).await,
            Command::Bench(args) => commands::bench(*args).await,
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
