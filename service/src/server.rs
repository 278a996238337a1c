//! `kernbench serve` and `kernbench worker` as library calls: open the database and the
//! store, make the first admin token, serve the API and pages, run workers, and drain on
//! SIGTERM (stop accepting, let running jobs finish within a bound, exit cleanly).

use crate::api;
use crate::auth;
use crate::db::Db;
use crate::error::ServiceError;
use crate::pages;
use crate::state::{ApiLimits, AppState};
use crate::store::BlobStore;
use crate::worker::{self, WorkerConfig};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// Where the service keeps its state.
#[derive(Debug, Clone)]
pub struct Storage {
    /// The data directory: the SQLite database (unless `database` is set), the blob store,
    /// the admin token, scratch space of the workers.
    pub data_dir: PathBuf,
    /// A PostgreSQL URL; `None` for SQLite under `data_dir`.
    pub database: Option<String>,
}

impl Storage {
    /// The database URL in use.
    pub fn database_url(&self) -> String {
        self.database
            .clone()
            .unwrap_or_else(|| Db::sqlite_url(&self.data_dir))
    }

    /// Open the database (migrating it) and the blob store.
    pub async fn open(&self) -> Result<(Db, BlobStore), ServiceError> {
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            ServiceError::Config(format!("data dir {}: {e}", self.data_dir.display()))
        })?;
        let db = Db::open(&self.database_url()).await?;
        let store = BlobStore::open(&self.data_dir.join("blobs"))?;
        Ok((db, store))
    }
}

/// The file the first admin token is written to.
pub fn admin_token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin-token")
}

/// Settings of `kernbench serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// State.
    pub storage: Storage,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// In-process workers (0: API only; run `kernbench worker` elsewhere).
    pub workers: usize,
    /// How each worker runs jobs.
    pub worker: WorkerConfig,
    /// Quotas and upload size.
    pub limits: ApiLimits,
    /// How long SIGTERM waits for running jobs before leaving them to their leases.
    pub drain_timeout: Duration,
}

/// Create the first admin token if there is none, writing it to `DIR/admin-token` (0600).
pub async fn ensure_admin(db: &Db, data_dir: &Path) -> Result<Option<PathBuf>, ServiceError> {
    if db.has_admin().await? {
        return Ok(None);
    }
    let (_, secret) = auth::create_token(db, "admin", true).await?;
    let path = admin_token_path(data_dir);
    write_private(&path, &secret)?;
    Ok(Some(path))
}

fn write_private(path: &Path, text: &str) -> Result<(), ServiceError> {
    use std::os::unix::fs::OpenOptionsExt;
    let err = |e: std::io::Error| ServiceError::Config(format!("writing {}: {e}", path.display()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    writeln!(file, "{text}").map_err(err)
}

/// The whole service's routes: API and pages.
pub fn app(state: AppState) -> axum::Router {
    api::router(state.clone()).merge(pages::router(state))
}

/// Serve until SIGTERM or SIGINT; `on_listening` is called once the socket accepts.
pub async fn serve(
    config: ServeConfig,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServiceError> {
    let (db, store) = config.storage.open().await?;
    if let Some(path) = ensure_admin(&db, &config.storage.data_dir).await? {
        tracing::info!(path = %path.display(), "created the first admin token");
    }
    let state = AppState::new(db.clone(), store.clone(), config.limits);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServiceError::Config(format!("listening on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServiceError::Config(format!("listening on {}: {e}", config.listen)))?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let workers = spawn_workers(&db, &store, &config.worker, config.workers, &stop_rx);
    let app = app(state.clone());
    let draining = state.clone();
    let shutdown = async move {
        shutdown_signal().await;
        tracing::warn!("shutting down: no new submissions; draining running jobs");
        draining.start_draining();
        // Workers stop claiming; jobs they hold run on.
        let _ = stop_tx.send(true);
    };
    on_listening(addr);
    let server = axum::serve(listener, app).with_graceful_shutdown(shutdown);
    server
        .await
        .map_err(|e| ServiceError::Config(format!("serving: {e}")))?;
    drain(workers, config.drain_timeout).await;
    db.close().await;
    Ok(())
}

/// `count` workers on `db`, named and given scratch space after `config`.
fn spawn_workers(
    db: &Db,
    store: &BlobStore,
    config: &WorkerConfig,
    count: usize,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<Result<(), ServiceError>>> {
    (0..count)
        .map(|i| {
            let mut worker = config.clone();
            worker.name = format!("{}/{i}", worker.name);
            worker.scratch = worker.scratch.join(format!("w{i}"));
            tokio::spawn(worker::run(db.clone(), store.clone(), worker, stop.clone()))
        })
        .collect()
}

async fn drain(workers: Vec<tokio::task::JoinHandle<Result<(), ServiceError>>>, timeout: Duration) {
    let all = futures_util::future::join_all(workers);
    match tokio::time::timeout(timeout, all).await {
        Ok(results) => {
            for result in results {
                match result {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "a worker failed"),
                    Err(e) => tracing::error!(error = %e, "a worker panicked"),
                }
            }
        }
        Err(_) => tracing::warn!(
            secs = timeout.as_secs(),
            "drain timeout: jobs still running are left to their leases and run again"
        ),
    }
}

/// Run workers only (`kernbench worker`), until SIGTERM or SIGINT.
pub async fn work(
    storage: Storage,
    config: WorkerConfig,
    count: usize,
    drain_timeout: Duration,
) -> Result<(), ServiceError> {
    let (db, store) = storage.open().await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let workers: Vec<_> = (0..count)
        .map(|i| {
            let mut worker = config.clone();
            worker.name = format!("{}/{i}", worker.name);
            worker.scratch = worker.scratch.join(format!("w{i}"));
            tokio::spawn(worker::run(
                db.clone(),
                store.clone(),
                worker,
                stop_rx.clone(),
            ))
        })
        .collect();
    shutdown_signal().await;
    tracing::warn!("worker shutting down: finishing running jobs");
    let _ = stop_tx.send(true);
    drain(workers, drain_timeout).await;
    db.close().await;
    Ok(())
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "no SIGTERM handler; only Ctrl-C stops the server");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
