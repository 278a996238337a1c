//! Cooperative scheduling of rank futures on one thread, and the rendezvous they meet in.
//!
//! This layer knows futures and call descriptions, not tensors: what a collective *does* is
//! the runtime's business, when it may run is decided here.

pub mod executor;
pub mod mailbox;
pub mod rendezvous;

pub use executor::{Supervisor, TaskEnd, drive};
pub use mailbox::Mailbox;
pub use rendezvous::{Arrival, CallMatch, Rendezvous, RendezvousError, Scope};
