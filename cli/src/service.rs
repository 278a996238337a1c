//! `kernbench serve`, `kernbench worker` and `kernbench token`: the operator's side of the
//! submission service (README "Running a submission service"; ADR-0012).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use kernbench_host::model::policy::parse_size;
use kernbench_service::auth;
use kernbench_service::cgroup::{CgroupMode, MemoryCgroups};
use kernbench_service::sandbox::ChildLimits;
use kernbench_service::server::{self, ServeConfig, Storage};
use kernbench_service::state::ApiLimits;
use kernbench_service::worker::WorkerConfig;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where the service's state lives (shared by serve, worker and token).
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// Data directory: the SQLite database (unless --database), the component and report
    /// store, the first admin token, the workers' scratch space.
    #[arg(long, value_name = "DIR", env = "KERNBENCH_DATA_DIR")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (postgres://USER@HOST:PORT/DB) for state shared by many machines;
    /// default: SQLite in DATA_DIR.
    #[arg(long, value_name = "URL", env = "KERNBENCH_DATABASE")]
    pub database: Option<String>,
}

impl StorageArgs {
    fn storage(&self) -> Storage {
        Storage {
            data_dir: self.data_dir.clone(),
            database: self.database.clone(),
        }
    }
}

/// How each worker runs a job (shared by serve and worker).
#[derive(Debug, Args)]
pub struct JobArgs {
    /// Memory of a run's process (RLIMIT_DATA), e.g. 4G.
    #[arg(long, value_name = "BYTES", default_value = "4G", value_parser = parse_bytes)]
    pub job_memory: u64,
    /// Whether each run gets a memory cgroup: auto (when the machine allows it), required
    /// (refuse to start without), off.
    #[arg(long, value_name = "MODE", default_value = "auto")]
    pub memory_cgroup: CgroupMode,
    /// Resident memory of a run's cgroup, e.g. 2G; --job-memory when omitted.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub job_cgroup_memory: Option<u64>,
    /// CPU seconds of a run's process (RLIMIT_CPU).
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub job_cpu_secs: u64,
    /// Wall-clock seconds before a run's process is killed.
    #[arg(long, value_name = "SECONDS", default_value_t = 90)]
    pub job_wall_secs: u64,
    /// Seconds a lease lasts without a heartbeat (a dead worker's job runs again after it).
    #[arg(long, value_name = "SECONDS", default_value_t = 15)]
    pub lease_secs: u64,
    /// Claims of one job before it fails for good.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub max_attempts: i64,
    /// Seconds SIGTERM waits for running jobs.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub drain_secs: u64,
}

/// The least memory a run's cgroup may have: the host process itself (wasmtime, the
/// compiled component) needs tens of MiB before the bench does anything.
const MIN_CGROUP_MEMORY: u64 = 32 << 20;

/// Sizes as the policy reads them (`4G`, `512M`, binary units).
fn parse_bytes(text: &str) -> Result<u64, String> {
    parse_size(text).ok_or_else(|| {
        format!("{text:?}: expected a number of bytes, optionally with K, M, G or T")
    })
}

impl JobArgs {
    fn worker_config(&self, storage: &StorageArgs) -> Result<WorkerConfig> {
        let exe = std::env::current_exe().context("finding the kernbench binary for the runs")?;
        let host = hostname();
        let mut config = WorkerConfig::new(
            format!("{host}:{}", std::process::id()),
            exe,
            storage.data_dir.join("scratch"),
        );
        config.lease = Duration::from_secs(self.lease_secs.max(1));
        config.heartbeat = Duration::from_millis((self.lease_secs.max(1) * 1000 / 5).max(200));
        config.max_attempts = self.max_attempts.max(1);
        config.wall = Duration::from_secs(self.job_wall_secs.max(1));
        config.limits = ChildLimits {
            memory_bytes: self.job_memory,
            cpu_secs: self.job_cpu_secs.max(1),
            ..ChildLimits::default()
        };
        config.cgroup_memory = self.job_cgroup_memory.unwrap_or(self.job_memory);
        if config.cgroup_memory < MIN_CGROUP_MEMORY {
            anyhow::bail!(
                "--job-cgroup-memory {}: below the {MIN_CGROUP_MEMORY} bytes a run's process \
                 needs to start",
                config.cgroup_memory
            );
        }
        config.cgroup_required = self.memory_cgroup == CgroupMode::Required;
        config.cgroups = match self.memory_cgroup {
            CgroupMode::Off => None,
            mode => {
                let groups = MemoryCgroups::detect();
                match (&groups, mode) {
                    (None, CgroupMode::Required) => anyhow::bail!(
                        "--memory-cgroup required: this process cannot make memory cgroups \
                         (no delegated cgroup v2 memory controller, no writable v1 memory \
                         hierarchy); see ADR-0013"
                    ),
                    (None, _) => tracing::info!(
                        "no memory cgroup can be made here: runs are bounded by RLIMIT_DATA only"
                    ),
                    (Some(g), _) => tracing::info!(
                        version = ?g.version(),
                        limit = config.cgroup_memory,
                        "each run gets a memory cgroup"
                    ),
                }
                groups
            }
        };
        Ok(config)
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "worker".to_owned())
}

/// Arguments of `kernbench serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// In-process workers; 0 serves the API only (run `kernbench worker` elsewhere).
    #[arg(long, value_name = "N", default_value_t = 2)]
    workers: usize,
    /// Largest upload, in bytes (413 past it, before the body is read whole).
    #[arg(long, value_name = "BYTES", default_value = "32M", value_parser = parse_bytes)]
    max_upload: u64,
    /// Queued plus running submissions per token (429 past it).
    #[arg(long, value_name = "N", default_value_t = 16)]
    max_active_per_token: i64,
    /// Submissions per token per hour (429 past it).
    #[arg(long, value_name = "N", default_value_t = 600)]
    max_per_hour: i64,
    #[command(flatten)]
    job: JobArgs,
}

/// The async runtime of the service commands (server, workers and clients).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Serve the API, the pages and (unless --workers 0) in-process workers.
pub fn serve(args: ServeArgs) -> Result<u8> {
    let config = ServeConfig {
        storage: args.storage.storage(),
        listen: args.listen,
        workers: args.workers,
        worker: args.job.worker_config(&args.storage)?,
        limits: ApiLimits {
            max_upload_bytes: usize::try_from(args.max_upload).unwrap_or(usize::MAX),
            max_active_per_token: args.max_active_per_token,
            max_per_hour: args.max_per_hour,
        },
        drain_timeout: Duration::from_secs(args.job.drain_secs),
    };
    let data_dir = args.storage.data_dir.clone();
    runtime()?.block_on(server::serve(config, |addr| {
        println!("listening on http://{addr}");
        println!(
            "admin token in {}",
            server::admin_token_path(&data_dir).display()
        );
    }))?;
    Ok(super::exit::OK)
}

/// Arguments of `kernbench worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Jobs this process runs at once.
    #[arg(long, value_name = "N", default_value_t = 1)]
    workers: usize,
    #[command(flatten)]
    job: JobArgs,
}

/// Run jobs from the shared database until SIGTERM.
pub fn worker(args: WorkerArgs) -> Result<u8> {
    let config = args.job.worker_config(&args.storage)?;
    let drain = Duration::from_secs(args.job.drain_secs);
    runtime()?.block_on(server::work(
        args.storage.storage(),
        config,
        args.workers.max(1),
        drain,
    ))?;
    Ok(super::exit::OK)
}

/// `kernbench token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a submitter token and print it (once: only its hash is kept).
    Create {
        /// The submitter's name.
        name: String,
        /// Make it an admin token (sees every submission, manages tokens).
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Revoke a token by its id (`tok_...`).
    Revoke {
        /// The token's id.
        id: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// List tokens (ids and names, never secrets).
    List {
        #[command(flatten)]
        storage: StorageArgs,
    },
}

/// Manage tokens directly on the database.
pub fn token(command: TokenCommand) -> Result<u8> {
    runtime()?.block_on(async {
        match command {
            TokenCommand::Create {
                name,
                admin,
                storage,
            } => {
                let (db, _) = storage.storage().open().await?;
                let (row, secret) = auth::create_token(&db, &name, admin).await?;
                eprintln_note(&format!("created token {} for {:?}", row.id, row.name));
                println!("{secret}");
            }
            TokenCommand::Revoke { id, storage } => {
                let (db, _) = storage.storage().open().await?;
                if !db.revoke_token(&id).await? {
                    anyhow::bail!("no live token with id {id}");
                }
                println!("revoked {id}");
            }
            TokenCommand::List { storage } => {
                let (db, _) = storage.storage().open().await?;
                for t in db.tokens().await? {
                    let state = if t.revoked_ms.is_some() {
                        "revoked"
                    } else {
                        "live"
                    };
                    let role = if t.admin { "admin" } else { "submitter" };
                    println!(
                        "{}  {role:9}  {state:7}  {}",
                        t.id,
                        kernbench_host::model::text::quote(&t.name)
                    );
                }
            }
        }
        Ok(super::exit::OK)
    })
}

/// `kernbench suite ...`.
#[derive(Debug, Subcommand)]
pub enum SuiteCommand {
    /// Register a suite from its JSON file (docs/suites.md). A suite cannot change once
    /// registered: register a new version under a new name.
    Add {
        /// The suite file.
        file: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// List the registered suites.
    List {
        #[command(flatten)]
        storage: StorageArgs,
    },
}

/// Manage suites directly on the database.
pub fn suite(command: SuiteCommand) -> Result<u8> {
    runtime()?.block_on(async {
        match command {
            SuiteCommand::Add { file, storage } => {
                let bytes = read_suite_file(&file)?;
                let suite = kernbench_service::suite::Suite::parse(&bytes)
                    .with_context(|| format!("suite file {}", file.display()))?;
                let (db, _) = storage.storage().open().await?;
                db.insert_suite(&suite).await?;
                println!(
                    "registered suite {} ({} runs, {} hidden)",
                    suite.name,
                    suite.runs.len(),
                    suite.runs.iter().filter(|r| r.hidden).count()
                );
            }
            SuiteCommand::List { storage } => {
                let (db, _) = storage.storage().open().await?;
                for row in db.suites().await? {
                    let suite = &row.suite;
                    println!(
                        "{}  {} runs  {}",
                        suite.name,
                        suite.runs.len(),
                        kernbench_host::model::text::quote(&suite.description)
                    );
                }
            }
        }
        Ok(super::exit::OK)
    })
}

/// Read a suite file, refusing one past the suite size limit before reading it all (and a
/// FIFO or a device, without waiting on it).
fn read_suite_file(path: &std::path::Path) -> Result<Vec<u8>> {
    let limit = kernbench_service::suite::MAX_SUITE_BYTES as u64;
    kernbench_host::sim::config_file::read_regular(path, limit)
        .with_context(|| format!("reading {}", path.display()))
}

#[allow(clippy::print_stderr)] // A note beside the secret: stdout holds only the secret.
fn eprintln_note(note: &str) {
    eprintln!("{note}");
}
