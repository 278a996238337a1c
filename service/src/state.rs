//! What every request handler shares: the database, the blob store and the limits.

use crate::db::Db;
use crate::store::BlobStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Per-token quotas and request limits (each a named setting of `kernbench serve`).
#[derive(Debug, Clone, Copy)]
pub struct ApiLimits {
    /// The largest request body of `POST /submissions`, in bytes.
    pub max_upload_bytes: usize,
    /// Queued plus running submissions a token may have.
    pub max_active_per_token: i64,
    /// Submissions a token may make in any hour.
    pub max_per_hour: i64,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_upload_bytes: 32 << 20,
            max_active_per_token: 16,
            max_per_hour: 600,
        }
    }
}

/// Shared state of the handlers (cheap to clone).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Components, reports and traces.
    pub store: BlobStore,
    /// Quotas and sizes.
    pub limits: ApiLimits,
    draining: Arc<AtomicBool>,
}

impl AppState {
    /// State over `db` and `store`.
    pub fn new(db: Db, store: BlobStore, limits: ApiLimits) -> AppState {
        AppState {
            db,
            store,
            limits,
            draining: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Stop taking submissions (SIGTERM): reads go on until the server stops.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether the server is draining.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}
