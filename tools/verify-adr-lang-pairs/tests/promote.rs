//! `promote`: number assignment, writing the pair, refusing to overwrite.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Repo, json, stderr, stdout};

const EN_DRAFT: &str = "# ADR-XXXX: Adopt the thing — for now\n\n## Status\n\nAccepted\n\n\
    ## Context\n\nWhy.\n\n## Decision\n\nWhat.\n\n## Consequences\n\nSo what.\n";
const KO_TEXT: &str = "# ADR-0000 — 그것을 채택한다 — 당분간\r\n\r\n## Status\r\n\r\nAccepted\r\n\r\n\
    ## 배경\r\n\r\n이유.\r\n\r\n## 결정\r\n\r\n무엇.\r\n\r\n## 결과\r\n\r\n그래서.\r\n";

fn promote(repo: &Repo, extra: &[&str]) -> std::process::Output {
    let root = repo.root().to_str().unwrap().to_owned();
    let draft = repo.path("docs/adr-proposed/thing.md");
    let ko = repo.path("ko.md");
    let mut args = vec![
        "promote",
        "--root",
        &root,
        "--draft",
        draft.to_str().unwrap(),
        "--ko",
        ko.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    repo.run(&args)
}

fn setup() -> Repo {
    let repo = Repo::new();
    repo.pair("0001-first.md", "Accepted");
    repo.pair("0002-second.md", "Superseded by ADR-0004");
    // Superseded material keeps its number forever.
    repo.write("docs/adr-history/0004-old-thing.md", b"\xff frozen");
    repo.write("docs/adr-proposed/thing.md", EN_DRAFT);
    repo.write("ko.md", KO_TEXT);
    repo
}

#[test]
fn promote_assigns_next_number_and_result_verifies() {
    let repo = setup();
    let out = promote(&repo, &["--slug", "adopt_the-thing"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("promoted docs/adr-proposed/thing.md as ADR-0005"),
        "{text}"
    );
    assert!(text.ends_with("checked 3 pairs: 0 problems\n"), "{text}");

    let en = repo.read("docs/adr/0005-adopt_the-thing.md");
    assert!(en.starts_with("# ADR-0005: Adopt the thing — for now\n"));
    assert_eq!(en, EN_DRAFT.replace("XXXX", "0005"));
    let ko = repo.read("docs/adr-ko/0005-adopt_the-thing.md");
    // Written normalized to LF, separator and title untouched.
    assert!(ko.starts_with("# ADR-0005 — 그것을 채택한다 — 당분간\n\n## Status\n\nAccepted\n"));
    assert!(!ko.contains('\r'));
    assert!(!repo.exists("docs/adr-proposed/thing.md"), "draft removed");
    assert!(repo.exists("ko.md"), "only the draft is removed");
}

#[test]
fn promote_with_separate_english_text_and_json() {
    let repo = setup();
    repo.write("docs/adr-proposed/thing.md", "초안: 한국어로 쓴 제안서\n");
    repo.write("en.md", EN_DRAFT.replace("XXXX", "0042"));
    let en = repo.path("en.md");
    let out = promote(
        &repo,
        &["--en", en.to_str().unwrap(), "--slug", "thing", "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["promoted"]["id"], "0005");
    assert_eq!(v["promoted"]["en"], "docs/adr/0005-thing.md");
    assert_eq!(v["promoted"]["ko"], "docs/adr-ko/0005-thing.md");
    assert_eq!(v["pairs_checked"], 3);
    assert_eq!(v["findings"], serde_json::json!([]));
    assert!(
        repo.read("docs/adr/0005-thing.md")
            .starts_with("# ADR-0005: ")
    );
}

#[test]
fn promote_refuses_to_overwrite_an_existing_number() {
    let repo = setup();
    let before = repo.read("docs/adr/0002-second.md");
    let out = promote(&repo, &["--slug", "second", "--id", "0002"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("promotion refused"),
        "{}",
        stderr(&out)
    );
    assert_eq!(repo.read("docs/adr/0002-second.md"), before);
    assert!(repo.exists("docs/adr-proposed/thing.md"), "draft kept");
}

#[test]
fn promote_refuses_a_number_only_used_in_history() {
    let repo = setup();
    let out = promote(&repo, &["--slug", "thing", "--id", "4"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!repo.exists("docs/adr/0004-thing.md"));
    assert!(repo.exists("docs/adr-proposed/thing.md"));
}

#[test]
fn promote_refuses_a_slug_already_promoted() {
    let repo = setup();
    let out = promote(&repo, &["--slug", "first"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already used"), "{}", stderr(&out));
    assert!(!repo.exists("docs/adr/0005-first.md"));
    assert!(repo.exists("docs/adr-proposed/thing.md"));
}

#[test]
fn promote_refuses_differing_status_and_changes_nothing() {
    let repo = setup();
    repo.write("ko.md", KO_TEXT.replace("Accepted", "승인됨"));
    let out = promote(&repo, &["--slug", "thing"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Status"), "{}", stderr(&out));
    assert!(!repo.exists("docs/adr/0005-thing.md"));
    assert!(!repo.exists("docs/adr-ko/0005-thing.md"));
    assert!(repo.exists("docs/adr-proposed/thing.md"));
}

#[test]
fn promote_refuses_a_draft_outside_proposed() {
    let repo = setup();
    let root = repo.root().to_str().unwrap().to_owned();
    let draft = repo.path("docs/adr/0001-first.md");
    let ko = repo.path("ko.md");
    let out = repo.run(&[
        "promote",
        "--root",
        &root,
        "--draft",
        draft.to_str().unwrap(),
        "--ko",
        ko.to_str().unwrap(),
        "--slug",
        "thing",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(repo.exists("docs/adr/0001-first.md"));
    assert!(!repo.exists("docs/adr/0005-thing.md"));
}

#[test]
fn promote_rejects_a_bad_slug_as_usage_error() {
    let repo = setup();
    let out = promote(&repo, &["--slug", "Bad Slug"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(repo.exists("docs/adr-proposed/thing.md"));
}
