//! The verifier: pairs `docs/adr` with `docs/adr-ko` and checks each pair.
//!
//! Every problem becomes a [`Finding`] and checking goes on, so one CI run shows the
//! whole list instead of one problem per push. Only an unusable root or an unreadable
//! file stops the run (as an [`Error`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::adr::{self, Status};
use crate::error::Error;
use crate::filename::{self, AdrId, NameKind};
use crate::layout::{ADR_DIR, ADR_KO_DIR, display_rel};
use crate::scan::{self, MdFile};

/// Stable short codes, one per kind of problem; CI logs and scripts match on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// An English ADR has no Korean file of the same name.
    MissingKo,
    /// A Korean file has no English original of the same name.
    MissingEn,
    /// The two halves of a pair (same number) have different file names.
    NameMismatch,
    /// A file name is not `NNNN-slug.md`.
    BadFilename,
    /// A file name carries `.en.md` / `.ko.md`; the folder carries the language.
    LanguageSuffix,
    /// The file name and heading, or the two headings, disagree on the ADR number.
    IdMismatch,
    /// The first heading is not a valid `# ADR-NNNN: Title`.
    MissingHeading,
    /// No `## Status` section, or an empty one.
    MissingStatus,
    /// The Status texts of a pair are not byte-identical.
    StatusDiffers,
    /// The file is not valid UTF-8.
    NotUtf8,
    /// Two files in one folder claim the same ADR number.
    DuplicateId,
}

impl Code {
    /// The code as printed, e.g. `missing-ko`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingKo => "missing-ko",
            Self::MissingEn => "missing-en",
            Self::NameMismatch => "name-mismatch",
            Self::BadFilename => "bad-filename",
            Self::LanguageSuffix => "language-suffix",
            Self::IdMismatch => "id-mismatch",
            Self::MissingHeading => "missing-heading",
            Self::MissingStatus => "missing-status",
            Self::StatusDiffers => "status-differs",
            Self::NotUtf8 => "not-utf8",
            Self::DuplicateId => "duplicate-id",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem, with the repository-relative paths it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What kind of problem.
    pub code: Code,
    /// Paths involved, relative to the root, `/`-separated; English first.
    pub paths: Vec<String>,
    /// What is wrong and, where it helps, how to fix it.
    pub message: String,
}

/// The result of one verification run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// How many EN/KO pairs were matched and compared.
    pub pairs_checked: usize,
    /// Every problem found.
    pub findings: Vec<Finding>,
}

impl Report {
    /// True when there is nothing to fix.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Which folder an entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    En,
    Ko,
}

/// What the per-file checks learned, for the pair checks that follow.
#[derive(Debug, Default)]
struct Parsed {
    heading_id: Option<AdrId>,
    /// The file's own heading/name mismatch was already reported, so a pair-level
    /// mismatch caused by it is not reported twice.
    id_reported: bool,
    status: Option<String>,
}

/// One Markdown file of either folder.
#[derive(Debug)]
struct Entry {
    file: MdFile,
    rel: String,
    /// Name used for pairing: the file name, minus a language suffix if it has one,
    /// so `0003-x.en.md` still finds `0003-x.md` and yields one finding, not three.
    key: String,
    /// The number the file name claims, even if the name is otherwise bad.
    claimed: Option<AdrId>,
    /// `None` when the file is not UTF-8.
    parsed: Option<Parsed>,
}

/// Checks the ADR folders under `root` (the repository root).
pub fn check(root: &Path) -> Result<Report, Error> {
    if !root.is_dir() {
        return Err(Error::RootNotDir(root.to_path_buf()));
    }
    let en_dir = root.join(ADR_DIR);
    let en_files = scan::markdown_files(&en_dir)?.ok_or(Error::AdrDirMissing(en_dir))?;
    // A missing Korean folder is not a usage error: it simply mirrors nothing yet,
    // and every English ADR is then reported as `missing-ko`.
    let ko_files = scan::markdown_files(&root.join(ADR_KO_DIR))?.unwrap_or_default();

    let mut findings = Vec::new();
    let en = load_tree(root, Side::En, en_files, &mut findings)?;
    let ko = load_tree(root, Side::Ko, ko_files, &mut findings)?;
    let pairs = pair_up(&en, &ko, &mut findings);
    for &(e, k) in &pairs {
        check_pair(&en[e], &ko[k], &mut findings);
    }
    findings.sort_by_cached_key(sort_key);
    Ok(Report {
        pairs_checked: pairs.len(),
        findings,
    })
}

/// Groups findings by file name, English before Korean, so all problems of one ADR
/// are read together.
fn sort_key(finding: &Finding) -> (String, bool, String, Code) {
    let first = finding.paths.first().map(String::as_str).unwrap_or("");
    let (dir, name) = first.rsplit_once('/').unwrap_or(("", first));
    (
        name.to_owned(),
        dir != ADR_DIR,
        dir.to_owned(),
        finding.code,
    )
}

fn push(findings: &mut Vec<Finding>, code: Code, paths: &[&str], message: String) {
    findings.push(Finding {
        code,
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        message,
    });
}

/// Classifies names, reads and inspects each file, and reports duplicate numbers.
fn load_tree(
    root: &Path,
    side: Side,
    files: Vec<MdFile>,
    findings: &mut Vec<Finding>,
) -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::with_capacity(files.len());
    for file in files {
        let rel = display_rel(root, &file.path);
        let key = match filename::classify(&file.name) {
            NameKind::Valid { .. } => file.name.clone(),
            NameKind::LanguageSuffix { lang, bare } => {
                let msg = format!(
                    "language suffix `.{lang}.md` is not allowed: the folder carries the \
                     language and both halves of a pair share one name; rename to {bare}"
                );
                push(findings, Code::LanguageSuffix, &[&rel], msg);
                bare
            }
            NameKind::Bad { reason } => {
                let msg = format!("{reason} (file names must be `NNNN-slug.md`)");
                push(findings, Code::BadFilename, &[&rel], msg);
                file.name.clone()
            }
        };
        let claimed = filename::leading_id(&file.name);
        let bytes = fs::read(&file.path).map_err(|e| Error::io("cannot read", &file.path, e))?;
        let parsed = inspect(side, &rel, claimed, &bytes, findings);
        entries.push(Entry {
            file,
            rel,
            key,
            claimed,
            parsed,
        });
    }

    let mut by_id: BTreeMap<AdrId, Vec<&str>> = BTreeMap::new();
    for entry in &entries {
        if let Some(id) = entry.claimed {
            by_id.entry(id).or_default().push(&entry.rel);
        }
    }
    let dir = match side {
        Side::En => ADR_DIR,
        Side::Ko => ADR_KO_DIR,
    };
    for (id, paths) in by_id.into_iter().filter(|(_, p)| p.len() > 1) {
        let msg = format!(
            "ADR-{id} is used by {} files in {dir}; each number names exactly one decision",
            paths.len()
        );
        push(findings, Code::DuplicateId, &paths, msg);
    }
    Ok(entries)
}

/// Per-file checks: encoding, heading, Status.
fn inspect(
    side: Side,
    rel: &str,
    claimed: Option<AdrId>,
    bytes: &[u8],
    findings: &mut Vec<Finding>,
) -> Option<Parsed> {
    let text = match adr::decode(bytes) {
        Ok(text) => text,
        Err(offset) => {
            let msg = format!(
                "not valid UTF-8: first invalid byte at offset {offset}; ADRs must be UTF-8"
            );
            push(findings, Code::NotUtf8, &[rel], msg);
            return None;
        }
    };
    let mut parsed = Parsed::default();
    match adr::parse_heading(&text) {
        Ok(heading) => match heading.id() {
            Some(id) => {
                parsed.heading_id = Some(id);
                if let Some(claimed) = claimed.filter(|c| *c != id) {
                    let msg = format!("file name says ADR-{claimed} but the heading says ADR-{id}");
                    push(findings, Code::IdMismatch, &[rel], msg);
                    parsed.id_reported = true;
                }
            }
            None => {
                let msg = format!(
                    "heading ID `ADR-{}` is not four digits; expected `# ADR-NNNN: Title`",
                    heading.token
                );
                push(findings, Code::MissingHeading, &[rel], msg);
            }
        },
        Err(why) => push(findings, Code::MissingHeading, &[rel], why),
    }
    match adr::status(&text) {
        Status::Text(status) => parsed.status = Some(status),
        Status::Missing => {
            let hint = match side {
                Side::En => "",
                Side::Ko => {
                    " (Korean files keep the English heading `## Status` and the English status text)"
                }
            };
            let msg = format!("no `## Status` section{hint}");
            push(findings, Code::MissingStatus, &[rel], msg);
        }
        Status::Empty => {
            let msg = "the `## Status` section is empty".to_owned();
            push(findings, Code::MissingStatus, &[rel], msg);
        }
    }
    Some(parsed)
}

/// Matches English and Korean files; reports what stays unmatched.
fn pair_up(en: &[Entry], ko: &[Entry], findings: &mut Vec<Finding>) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let mut en_used = vec![false; en.len()];
    let mut ko_used = vec![false; ko.len()];

    // Exact names first, then names with a language suffix stripped.
    let exact: HashMap<&str, usize> = ko
        .iter()
        .enumerate()
        .map(|(j, k)| (k.file.name.as_str(), j))
        .collect();
    for (i, e) in en.iter().enumerate() {
        if let Some(&j) = exact.get(e.file.name.as_str()) {
            pairs.push((i, j));
            en_used[i] = true;
            ko_used[j] = true;
        }
    }
    for (i, e) in en.iter().enumerate() {
        if en_used[i] {
            continue;
        }
        if let Some(j) = (0..ko.len()).find(|&j| !ko_used[j] && ko[j].key == e.key) {
            pairs.push((i, j));
            en_used[i] = true;
            ko_used[j] = true;
        }
    }

    // Same number, different names: almost surely one pair with a renamed half.
    // Only an unambiguous one-to-one match is paired; anything else stays missing.
    let mut by_id: BTreeMap<AdrId, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (i, e) in en.iter().enumerate().filter(|(i, _)| !en_used[*i]) {
        if let Some(id) = e.claimed {
            by_id.entry(id).or_default().0.push(i);
        }
    }
    for (j, k) in ko.iter().enumerate().filter(|(j, _)| !ko_used[*j]) {
        if let Some(id) = k.claimed {
            by_id.entry(id).or_default().1.push(j);
        }
    }
    for (id, (e_idx, k_idx)) in by_id {
        if let ([i], [j]) = (e_idx.as_slice(), k_idx.as_slice()) {
            let (e, k) = (&en[*i], &ko[*j]);
            let msg = format!(
                "ADR-{id} has different file names in the two folders ({} vs {}); the \
                 Korean file must use the English file's name",
                e.file.name, k.file.name
            );
            push(findings, Code::NameMismatch, &[&e.rel, &k.rel], msg);
            pairs.push((*i, *j));
            en_used[*i] = true;
            ko_used[*j] = true;
        }
    }

    for (e, _) in en.iter().zip(&en_used).filter(|(_, used)| !**used) {
        let msg = format!("no Korean mirror: expected {ADR_KO_DIR}/{}", e.key);
        push(findings, Code::MissingKo, &[&e.rel], msg);
    }
    for (k, _) in ko.iter().zip(&ko_used).filter(|(_, used)| !**used) {
        let msg = format!(
            "no English original: expected {ADR_DIR}/{} (the English text is canonical; \
             a Korean file cannot stand alone)",
            k.key
        );
        push(findings, Code::MissingEn, &[&k.rel], msg);
    }
    pairs.sort_unstable();
    pairs
}

/// Checks that need both halves: the heading IDs agree and Status is byte-identical.
fn check_pair(en: &Entry, ko: &Entry, findings: &mut Vec<Finding>) {
    let (Some(ep), Some(kp)) = (&en.parsed, &ko.parsed) else {
        return;
    };
    if let (Some(eid), Some(kid)) = (ep.heading_id, kp.heading_id)
        && eid != kid
        && !ep.id_reported
        && !kp.id_reported
    {
        let msg = format!("English heading says ADR-{eid} but Korean heading says ADR-{kid}");
        push(findings, Code::IdMismatch, &[&en.rel, &ko.rel], msg);
    }
    if let (Some(es), Some(ks)) = (&ep.status, &kp.status)
        && es != ks
    {
        let at = adr::first_difference(es, ks);
        let msg = format!(
            "Status texts must be byte-identical (first difference at byte {at}): \
             English {es:?}, Korean {ks:?}"
        );
        push(findings, Code::StatusDiffers, &[&en.rel, &ko.rel], msg);
    }
}
