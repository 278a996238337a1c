//! Promotion: a draft in `docs/adr-proposed/` becomes an accepted EN/KO pair.
//!
//! Everything that can be checked is checked *before* the first byte is written, so a
//! refused promotion leaves the tree exactly as it was and the draft in place.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::adr::{self, Status};
use crate::error::Error;
use crate::filename::{self, AdrId};
use crate::layout::{ADR_DIR, ADR_HISTORY_DIR, ADR_KO_DIR, ADR_PROPOSED_DIR, display_rel};
use crate::scan;

/// What to promote. Relative paths are taken relative to the current directory, like
/// any command-line path; the draft must lie inside `ROOT/docs/adr-proposed/`.
#[derive(Debug, Clone)]
pub struct PromoteOptions {
    /// Repository root.
    pub root: PathBuf,
    /// The draft to retire; removed after the pair is written.
    pub draft: PathBuf,
    /// The English text; `None` means the draft itself is the English text.
    pub en: Option<PathBuf>,
    /// The Korean translation.
    pub ko: PathBuf,
    /// File name slug, `NNNN-<slug>.md`.
    pub slug: String,
    /// A specific number instead of the next free one.
    pub id: Option<AdrId>,
}

/// What a promotion did; paths are relative to the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Promoted {
    /// The assigned number, e.g. `"0003"`.
    pub id: String,
    /// The English file written.
    pub en: String,
    /// The Korean file written.
    pub ko: String,
    /// The draft removed.
    pub removed_draft: String,
}

fn refuse(msg: impl Into<String>) -> Error {
    Error::PromoteRefused(msg.into())
}

/// Reads a promotion input as normalized text (UTF-8, no BOM, LF).
fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
    adr::decode(&bytes).map_err(|offset| Error::NotUtf8 {
        path: path.to_path_buf(),
        offset,
    })
}

/// Promotes a draft; see the crate README for the discipline this implements.
///
/// The number is `max + 1` over every number used in `docs/adr`, `docs/adr-ko` and
/// `docs/adr-history` (a superseded number is never reused), unless `opts.id` asks for
/// one. Existing files are never overwritten.
pub fn promote(opts: &PromoteOptions) -> Result<Promoted, Error> {
    let root = opts.root.as_path();
    if !root.is_dir() {
        return Err(Error::RootNotDir(root.to_path_buf()));
    }
    let en_dir = root.join(ADR_DIR);
    if !en_dir.is_dir() {
        return Err(Error::AdrDirMissing(en_dir));
    }
    let ko_dir = root.join(ADR_KO_DIR);
    if !filename::is_valid_slug(&opts.slug) {
        return Err(refuse(format!(
            "slug {:?} must be lowercase letters and digits, separated by `-` or `_`",
            opts.slug
        )));
    }

    // The draft is deleted at the end, so make sure it really is a draft.
    let draft = check_draft(root, &opts.draft)?;
    let draft_display = match (fs::canonicalize(root), fs::canonicalize(&draft)) {
        (Ok(root), Ok(draft)) => display_rel(&root, &draft),
        _ => draft.display().to_string(),
    };

    let en_path = opts.en.as_deref().unwrap_or(&opts.draft);
    let en_text = read_text(en_path)?;
    let ko_text = read_text(&opts.ko)?;
    for (lang, path, text) in [
        ("English", en_path, &en_text),
        ("Korean", &opts.ko, &ko_text),
    ] {
        adr::parse_heading(text).map_err(|why| {
            refuse(format!(
                "{lang} text {}: {why} (any number or a placeholder such as ADR-XXXX will be rewritten)",
                path.display()
            ))
        })?;
    }
    match (adr::status(&en_text), adr::status(&ko_text)) {
        (Status::Text(e), Status::Text(k)) if e == k => {}
        (Status::Text(e), Status::Text(k)) => {
            return Err(refuse(format!(
                "the Status texts differ: English {e:?}, Korean {k:?} (they must be byte-identical)"
            )));
        }
        _ => {
            return Err(refuse(
                "both texts need a non-empty `## Status` section (the Korean text keeps the English heading and status words)",
            ));
        }
    }

    let id = choose_id(root, opts.id)?;
    check_slug_unused(&en_dir, &ko_dir, &opts.slug)?;
    let name = format!("{id}-{}.md", opts.slug);
    let en_target = en_dir.join(&name);
    let ko_target = ko_dir.join(&name);
    for target in [&en_target, &ko_target] {
        if fs::symlink_metadata(target).is_ok() {
            return Err(refuse(format!(
                "{} already exists; promote never overwrites",
                target.display()
            )));
        }
    }

    let en_out = finish(&en_text, id)?;
    let ko_out = finish(&ko_text, id)?;
    fs::create_dir_all(&ko_dir).map_err(|e| Error::io("cannot create", &ko_dir, e))?;
    write_new(&en_target, &en_out)?;
    if let Err(e) = write_new(&ko_target, &ko_out) {
        // Leave no half pair behind; the original error is what matters.
        let _ = fs::remove_file(&en_target);
        return Err(e);
    }
    fs::remove_file(&draft).map_err(|e| Error::io("cannot remove draft", &draft, e))?;

    Ok(Promoted {
        id: id.to_string(),
        en: display_rel(root, &en_target),
        ko: display_rel(root, &ko_target),
        removed_draft: draft_display,
    })
}

/// Requires the draft to be a file inside `docs/adr-proposed/` (resolving `..` and
/// symlinks), since promotion deletes it. Returns the path to delete.
fn check_draft(root: &Path, draft: &Path) -> Result<PathBuf, Error> {
    let proposed = root.join(ADR_PROPOSED_DIR);
    let proposed = fs::canonicalize(&proposed)
        .map_err(|_| refuse(format!("{} does not exist", proposed.display())))?;
    let resolved = fs::canonicalize(draft)
        .map_err(|_| refuse(format!("draft {} does not exist", draft.display())))?;
    if !resolved.is_file() || !resolved.starts_with(&proposed) || resolved == proposed {
        return Err(refuse(format!(
            "draft {} must be a file inside {ADR_PROPOSED_DIR}/",
            draft.display()
        )));
    }
    if draft
        .file_name()
        .is_some_and(|n| n.eq_ignore_ascii_case("README.md"))
    {
        return Err(refuse("README.md describes the folder; it is not a draft"));
    }
    Ok(draft.to_path_buf())
}

/// The requested number if free, else the next one after every number ever used.
fn choose_id(root: &Path, wanted: Option<AdrId>) -> Result<AdrId, Error> {
    let mut used = Vec::new();
    for dir in [ADR_DIR, ADR_KO_DIR, ADR_HISTORY_DIR] {
        used.extend(scan::used_ids(&root.join(dir))?);
    }
    match wanted {
        Some(AdrId(0)) => Err(refuse("ADR numbers start at 0001")),
        Some(id) if used.contains(&id) => Err(refuse(format!(
            "ADR-{id} is already used in {ADR_DIR}, {ADR_KO_DIR} or {ADR_HISTORY_DIR}; \
             promote never overwrites or reuses a number"
        ))),
        Some(id) => Ok(id),
        None => {
            let next = used.iter().map(|id| id.0).max().unwrap_or(0) + 1;
            if next > AdrId::MAX {
                Err(refuse("no ADR number left below 10000"))
            } else {
                Ok(AdrId(next))
            }
        }
    }
}

/// A slug names one decision; promoting the same draft twice would otherwise give two
/// numbers to one decision.
fn check_slug_unused(en_dir: &Path, ko_dir: &Path, slug: &str) -> Result<(), Error> {
    for dir in [en_dir, ko_dir] {
        for file in scan::markdown_files(dir)?.unwrap_or_default() {
            let stem = file.name.strip_suffix(".md").unwrap_or(&file.name);
            if filename::parse_stem(stem).is_ok_and(|(_, s)| s == slug) {
                return Err(refuse(format!(
                    "slug {slug:?} is already used by {}; was this draft promoted already?",
                    file.path.display()
                )));
            }
        }
    }
    Ok(())
}

/// The text as written: heading number set, ending with a newline.
fn finish(text: &str, id: AdrId) -> Result<String, Error> {
    let mut out = adr::rewrite_heading_id(text, id).map_err(refuse)?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Creates `path`, failing if it exists even if it appeared since the earlier check.
fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => refuse(format!(
                "{} already exists; promote never overwrites",
                path.display()
            )),
            _ => Error::io("cannot create", path, e),
        })?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::io("cannot write", path, e))
}
