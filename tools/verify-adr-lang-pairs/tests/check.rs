//! The verifier's rules, one fixture per rule, asserting exact codes and paths.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Repo, assert_findings, en_adr, ko_adr};
use verify_adr_lang_pairs::Code;

#[test]
fn clean_tree_passes() {
    let repo = Repo::new();
    repo.pair("0001-first.md", "Accepted");
    repo.pair("0002-second.md", "Superseded by ADR-0007");
    // README files explain folders and are not ADRs.
    repo.write("docs/adr/README.md", "# Architecture decision records\n");
    repo.write("docs/adr-ko/README.md", "# 설명\n");
    let report = repo.check();
    assert_eq!(report.pairs_checked, 2);
    assert_findings(&report, &[]);
}

#[test]
fn missing_korean_mirror() {
    let repo = Repo::new();
    repo.pair("0001-first.md", "Accepted");
    repo.write(
        "docs/adr/0002-second.md",
        en_adr("0002", "Second", "Accepted"),
    );
    let report = repo.check();
    assert_eq!(report.pairs_checked, 1);
    assert_findings(&report, &[(Code::MissingKo, &["docs/adr/0002-second.md"])]);
    assert!(
        report.findings[0]
            .message
            .contains("docs/adr-ko/0002-second.md")
    );
}

#[test]
fn missing_english_original() {
    let repo = Repo::new();
    repo.write(
        "docs/adr-ko/0003-orphan.md",
        ko_adr("0003", "고아", "Accepted"),
    );
    let report = repo.check();
    assert_eq!(report.pairs_checked, 0);
    assert_findings(
        &report,
        &[(Code::MissingEn, &["docs/adr-ko/0003-orphan.md"])],
    );
}

#[test]
fn filename_mismatch_is_one_finding_naming_both_files() {
    let repo = Repo::new();
    repo.write(
        "docs/adr/0002-alpha.md",
        en_adr("0002", "Alpha", "Accepted"),
    );
    repo.write(
        "docs/adr-ko/0002-alfa.md",
        ko_adr("0002", "알파", "Accepted"),
    );
    let report = repo.check();
    assert_findings(
        &report,
        &[(
            Code::NameMismatch,
            &["docs/adr/0002-alpha.md", "docs/adr-ko/0002-alfa.md"],
        )],
    );
    // Still compared as a pair, so a Status drift would show too.
    assert_eq!(report.pairs_checked, 1);
}

#[test]
fn id_in_heading_must_match_file_name() {
    let repo = Repo::new();
    repo.write(
        "docs/adr/0004-thing.md",
        en_adr("0004", "Thing", "Accepted"),
    );
    repo.write(
        "docs/adr-ko/0004-thing.md",
        ko_adr("0005", "것", "Accepted"),
    );
    let report = repo.check();
    assert_findings(
        &report,
        &[(Code::IdMismatch, &["docs/adr-ko/0004-thing.md"])],
    );
    assert!(report.findings[0].message.contains("ADR-0005"));
}

#[test]
fn headings_disagreeing_on_a_badly_named_pair_are_an_id_mismatch() {
    // No number in the file name: the two headings are compared with each other.
    let repo = Repo::new();
    repo.write("docs/adr/thing.md", en_adr("0004", "Thing", "Accepted"));
    repo.write("docs/adr-ko/thing.md", ko_adr("0005", "것", "Accepted"));
    let report = repo.check();
    assert_findings(
        &report,
        &[
            (Code::BadFilename, &["docs/adr/thing.md"]),
            (Code::BadFilename, &["docs/adr-ko/thing.md"]),
            (
                Code::IdMismatch,
                &["docs/adr/thing.md", "docs/adr-ko/thing.md"],
            ),
        ],
    );
}

#[test]
fn status_differing_by_one_byte_is_reported_with_both_texts() {
    let repo = Repo::new();
    repo.write("docs/adr/0001-x.md", en_adr("0001", "X", "Accepted"));
    repo.write("docs/adr-ko/0001-x.md", ko_adr("0001", "엑스", "Accepted."));
    let report = repo.check();
    assert_findings(
        &report,
        &[(
            Code::StatusDiffers,
            &["docs/adr/0001-x.md", "docs/adr-ko/0001-x.md"],
        )],
    );
    let msg = &report.findings[0].message;
    assert!(msg.contains("\"Accepted\""), "{msg}");
    assert!(msg.contains("\"Accepted.\""), "{msg}");
    assert!(msg.contains("byte 8"), "{msg}");
}

#[test]
fn translated_status_heading_is_missing_status() {
    let repo = Repo::new();
    repo.write("docs/adr/0001-x.md", en_adr("0001", "X", "Accepted"));
    let ko = ko_adr("0001", "엑스", "Accepted").replace("## Status", "## 상태");
    repo.write("docs/adr-ko/0001-x.md", ko);
    let report = repo.check();
    assert_findings(
        &report,
        &[(Code::MissingStatus, &["docs/adr-ko/0001-x.md"])],
    );
    assert!(
        report.findings[0]
            .message
            .contains("keep the English heading")
    );
}

#[test]
fn crlf_and_lf_compare_equal() {
    let repo = Repo::new();
    let en = en_adr("0001", "X", "Superseded by ADR-0002\nSee the follow-up.");
    repo.write("docs/adr/0001-x.md", &en);
    let ko = ko_adr("0001", "엑스", "Superseded by ADR-0002\nSee the follow-up.");
    let ko_crlf = ko.replace('\n', "\r\n");
    assert!(ko_crlf.contains("0002\r\nSee"));
    repo.write("docs/adr-ko/0001-x.md", ko_crlf);
    assert_findings(&repo.check(), &[]);
}

#[test]
fn em_dash_separator_is_accepted() {
    let repo = Repo::new();
    repo.write(
        "docs/adr/0001-x.md",
        en_adr("0001", "X", "Accepted").replace("# ADR-0001: X", "# ADR-0001 — X"),
    );
    repo.write(
        "docs/adr-ko/0001-x.md",
        ko_adr("0001", "엑스", "Accepted").replace("# ADR-0001: 엑스", "# ADR-0001 — 엑스"),
    );
    let report = repo.check();
    assert_eq!(report.pairs_checked, 1);
    assert_findings(&report, &[]);
}

#[test]
fn em_dash_inside_the_title_is_accepted() {
    let repo = Repo::new();
    repo.write(
        "docs/adr/0001-x.md",
        en_adr("0001", "Host — guest split", "Accepted"),
    );
    // Em-dash as separator *and* inside the title.
    repo.write(
        "docs/adr-ko/0001-x.md",
        ko_adr("0001", "호스트 — 게스트 분리", "Accepted").replace("# ADR-0001: ", "# ADR-0001 — "),
    );
    assert_findings(&repo.check(), &[]);
}

#[test]
fn underscore_slug_is_accepted() {
    let repo = Repo::new();
    repo.pair("0001-use_wasm-components.md", "Accepted");
    let report = repo.check();
    assert_eq!(report.pairs_checked, 1);
    assert_findings(&report, &[]);
}

#[test]
fn language_suffix_is_rejected_with_its_own_code() {
    let repo = Repo::new();
    repo.write("docs/adr/0001-x.en.md", en_adr("0001", "X", "Accepted"));
    repo.write("docs/adr-ko/0001-x.md", ko_adr("0001", "엑스", "Accepted"));
    let report = repo.check();
    // One mistake, one finding: the suffixed file is still paired with its mirror.
    assert_findings(
        &report,
        &[(Code::LanguageSuffix, &["docs/adr/0001-x.en.md"])],
    );
    assert_eq!(report.pairs_checked, 1);
    assert!(report.findings[0].message.contains("rename to 0001-x.md"));
}

#[test]
fn bad_file_names_are_rejected() {
    let repo = Repo::new();
    repo.write("docs/adr/1-x.md", en_adr("0001", "X", "Accepted"));
    repo.write("docs/adr-ko/1-x.md", ko_adr("0001", "엑스", "Accepted"));
    repo.write("docs/adr/0002-Upper.md", en_adr("0002", "Y", "Accepted"));
    repo.write(
        "docs/adr-ko/0002-Upper.md",
        ko_adr("0002", "와이", "Accepted"),
    );
    let report = repo.check();
    assert_findings(
        &report,
        &[
            (Code::BadFilename, &["docs/adr/1-x.md"]),
            (Code::BadFilename, &["docs/adr-ko/1-x.md"]),
            (Code::BadFilename, &["docs/adr/0002-Upper.md"]),
            (Code::BadFilename, &["docs/adr-ko/0002-Upper.md"]),
        ],
    );
}

#[test]
fn duplicate_id_within_one_tree() {
    let repo = Repo::new();
    repo.pair("0003-a.md", "Accepted");
    repo.pair("0003-b.md", "Accepted");
    let report = repo.check();
    assert_findings(
        &report,
        &[
            (
                Code::DuplicateId,
                &["docs/adr/0003-a.md", "docs/adr/0003-b.md"],
            ),
            (
                Code::DuplicateId,
                &["docs/adr-ko/0003-a.md", "docs/adr-ko/0003-b.md"],
            ),
        ],
    );
}

#[test]
fn history_folder_is_ignored_even_with_garbage() {
    let repo = Repo::new();
    repo.pair("0002-current.md", "Accepted");
    repo.write("docs/adr-history/0001-old.md", b"\xff\xfe not utf-8 \x80");
    repo.write("docs/adr-history/0001-old.en.md", "no heading at all");
    repo.write("docs/adr-history/notes/Whatever.MD", "garbage");
    // Drafts are not checked either.
    repo.write("docs/adr-proposed/idea.ko.md", b"\xc3\x28 draft");
    let report = repo.check();
    assert_eq!(report.pairs_checked, 1);
    assert_findings(&report, &[]);
}

#[test]
fn non_utf8_file_is_a_finding_with_offset() {
    let repo = Repo::new();
    repo.write("docs/adr/0001-x.md", en_adr("0001", "X", "Accepted"));
    let mut ko = ko_adr("0001", "엑스", "Accepted").into_bytes();
    ko.splice(5..5, [0xff]);
    repo.write("docs/adr-ko/0001-x.md", ko);
    let report = repo.check();
    assert_findings(&report, &[(Code::NotUtf8, &["docs/adr-ko/0001-x.md"])]);
    assert!(report.findings[0].message.contains("offset 5"));
}

#[test]
fn bom_is_tolerated() {
    let repo = Repo::new();
    repo.write("docs/adr/0001-x.md", en_adr("0001", "X", "Accepted"));
    let mut ko = b"\xef\xbb\xbf".to_vec();
    ko.extend(
        ko_adr("0001", "엑스", "Accepted")
            .replace('\n', "\r\n")
            .bytes(),
    );
    repo.write("docs/adr-ko/0001-x.md", ko);
    assert_findings(&repo.check(), &[]);
}

#[test]
fn heading_problems_are_reported() {
    let repo = Repo::new();
    repo.write(
        "docs/adr/0001-x.md",
        en_adr("0001", "X", "Accepted").replace("# ADR-0001: X", "# X"),
    );
    repo.write(
        "docs/adr-ko/0001-x.md",
        ko_adr("0001", "엑스", "Accepted").replace("# ADR-0001: ", "# ADR-1: "),
    );
    assert_findings(
        &repo.check(),
        &[
            (Code::MissingHeading, &["docs/adr/0001-x.md"]),
            (Code::MissingHeading, &["docs/adr-ko/0001-x.md"]),
        ],
    );
}

#[test]
fn all_problems_are_reported_in_one_run() {
    let repo = Repo::new();
    repo.pair("0001-ok.md", "Accepted");
    repo.write(
        "docs/adr/0002-lonely.md",
        en_adr("0002", "Lonely", "Accepted"),
    );
    repo.write(
        "docs/adr-ko/0003-orphan.md",
        ko_adr("0003", "고아", "Accepted"),
    );
    repo.write(
        "docs/adr/0004-drift.md",
        en_adr("0004", "Drift", "Accepted"),
    );
    repo.write(
        "docs/adr-ko/0004-drift.md",
        ko_adr("0004", "표류", "Rejected"),
    );
    repo.write("docs/adr/0005-x.ko.md", en_adr("0005", "X", "Accepted"));
    repo.write("docs/adr-ko/0005-x.md", b"\x80");
    repo.write(
        "docs/adr/0006-wrong.md",
        en_adr("0007", "Wrong", "Accepted"),
    );
    repo.write(
        "docs/adr-ko/0006-wrong.md",
        ko_adr("0006", "틀림", "Accepted"),
    );
    let report = repo.check();
    assert_eq!(report.pairs_checked, 4);
    assert_findings(
        &report,
        &[
            (Code::MissingKo, &["docs/adr/0002-lonely.md"]),
            (Code::MissingEn, &["docs/adr-ko/0003-orphan.md"]),
            (
                Code::StatusDiffers,
                &["docs/adr/0004-drift.md", "docs/adr-ko/0004-drift.md"],
            ),
            (Code::LanguageSuffix, &["docs/adr/0005-x.ko.md"]),
            (Code::NotUtf8, &["docs/adr-ko/0005-x.md"]),
            (Code::IdMismatch, &["docs/adr/0006-wrong.md"]),
        ],
    );
}

#[test]
fn missing_korean_folder_means_every_adr_is_missing_ko() {
    let repo = Repo::new();
    repo.write("docs/adr/0001-x.md", en_adr("0001", "X", "Accepted"));
    std::fs::remove_dir_all(repo.path("docs/adr-ko")).unwrap();
    assert_findings(&repo.check(), &[(Code::MissingKo, &["docs/adr/0001-x.md"])]);
}

#[test]
fn code_fences_do_not_hide_or_fake_sections() {
    let repo = Repo::new();
    let en = "# ADR-0001: X\n\n```md\n## Status\n\nFake\n```\n\n## Status\n\nAccepted\n";
    let ko = "# ADR-0001: 엑스\n\n## Status\n\nAccepted\n\n## 배경\n\n~~~\n# ADR-9999: nope\n~~~\n";
    repo.write("docs/adr/0001-x.md", en);
    repo.write("docs/adr-ko/0001-x.md", ko);
    assert_findings(&repo.check(), &[]);
}
