//! The real binary: exit codes, human output and `--json`.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Repo, en_adr, json, ko_adr, stderr, stdout};

#[test]
fn clean_tree_exits_0_with_summary() {
    let repo = Repo::new();
    repo.pair("0001-first.md", "Accepted");
    repo.pair("0002-second.md", "Accepted");
    let out = repo.run_check(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "checked 2 pairs: 0 problems\n");
}

#[test]
fn check_subcommand_matches_bare_invocation() {
    let repo = Repo::new();
    repo.pair("0001-first.md", "Accepted");
    repo.write("docs/adr/0002-second.md", en_adr("0002", "S", "Accepted"));
    let root = repo.root().to_str().unwrap();
    let bare = repo.run(&["--root", root]);
    let sub = repo.run(&["check", "--root", root]);
    assert_eq!(bare.status.code(), Some(1));
    assert_eq!(sub.status.code(), Some(1));
    assert_eq!(stdout(&bare), stdout(&sub));
}

#[test]
fn findings_exit_1_one_line_each() {
    let repo = Repo::new();
    repo.write("docs/adr/0001-x.md", en_adr("0001", "X", "Accepted"));
    repo.write("docs/adr-ko/0002-y.md", ko_adr("0002", "와이", "Accepted"));
    let out = repo.run_check(&[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("missing-ko docs/adr/0001-x.md: "),
        "{text}"
    );
    assert!(
        lines[1].starts_with("missing-en docs/adr-ko/0002-y.md: "),
        "{text}"
    );
    assert_eq!(lines[2], "checked 0 pairs: 2 problems");
}

#[test]
fn json_output_has_the_documented_shape() {
    let repo = Repo::new();
    repo.write("docs/adr/0001-x.md", en_adr("0001", "X", "Accepted"));
    repo.write("docs/adr-ko/0001-x.md", ko_adr("0001", "엑스", "Proposed"));
    repo.pair("0002-y.md", "Accepted");
    let out = repo.run_check(&["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["pairs_checked"], 2);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["code"], "status-differs");
    assert_eq!(
        findings[0]["paths"],
        serde_json::json!(["docs/adr/0001-x.md", "docs/adr-ko/0001-x.md"])
    );
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("Proposed")
    );
}

#[test]
fn non_utf8_file_reported_by_binary_without_panic() {
    let repo = Repo::new();
    repo.write("docs/adr/0001-x.md", b"# ADR-0001: X\n\xc3\x28\n");
    repo.write("docs/adr-ko/0001-x.md", ko_adr("0001", "엑스", "Accepted"));
    let out = repo.run_check(&["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["findings"][0]["code"], "not-utf8");
    assert_eq!(v["findings"][0]["paths"][0], "docs/adr/0001-x.md");
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("offset 14")
    );
}

#[test]
fn missing_root_exits_2() {
    let repo = Repo::new();
    let missing = repo.path("no-such-dir");
    let out = repo.run(&["--root", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}

#[test]
fn missing_adr_folder_exits_2() {
    let repo = Repo::new();
    std::fs::remove_dir_all(repo.path("docs/adr")).unwrap();
    let out = repo.run_check(&["--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("docs/adr"), "{}", stderr(&out));
}

#[test]
fn usage_error_exits_2() {
    let repo = Repo::new();
    let out = repo.run_check(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}
