//! Paths of every bundled bench and test guest, built from source by this crate's build
//! script. `foreach_guest!` / `foreach_bench!` let a test file require one test per guest.

include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));
