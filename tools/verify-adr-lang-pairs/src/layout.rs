//! Where the ADR folders live relative to the repository root.

use std::path::Path;

/// Accepted ADRs, English, canonical.
pub const ADR_DIR: &str = "docs/adr";
/// Korean mirror of [`ADR_DIR`], file for file.
pub const ADR_KO_DIR: &str = "docs/adr-ko";
/// Drafts in any language; never checked for pairs.
pub const ADR_PROPOSED_DIR: &str = "docs/adr-proposed";
/// Superseded material, frozen; only consulted for used ADR numbers.
pub const ADR_HISTORY_DIR: &str = "docs/adr-history";

/// Renders `path` relative to `root` with `/` separators, so findings read the same
/// on every machine and in CI logs; falls back to the full path outside `root`.
pub fn display_rel(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => path.display().to_string(),
    }
}
