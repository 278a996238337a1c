//! Verifier for KernBench's bilingual ADR discipline.
//!
//! Accepted decisions live in English under `docs/adr/` (canonical) and are mirrored
//! 1:1 in Korean under `docs/adr-ko/`. Translations drift silently unless something
//! checks them, so this crate checks the mechanical part of the contract: every file has
//! its mirror under the same name, the ADR IDs agree, and the `## Status` text is
//! byte-identical. It cannot judge the translation itself; reviewers do that.
//!
//! The library is split so each rule lives in one place:
//! - [`layout`]: folder names and path display, shared by every other module;
//! - [`filename`]: the `NNNN-slug.md` naming rule;
//! - [`adr`]: decoding bytes and parsing the heading and Status section;
//! - [`scan`]: listing the Markdown files of one ADR folder;
//! - [`check`]: the verifier proper, producing a [`Report`];
//! - [`report`]: human and JSON rendering;
//! - [`promote`]: moving a draft into the accepted pair of folders.

pub mod adr;
pub mod check;
pub mod error;
pub mod filename;
pub mod layout;
pub mod promote;
pub mod report;
pub mod scan;

pub use check::{Code, Finding, Report, check};
pub use error::Error;
pub use promote::{PromoteOptions, Promoted, promote};
