//! Fixture trees built in temp dirs, byte for byte, so CRLF, BOMs and invalid UTF-8
//! reach the tool exactly as written (a checked-in fixture could be mangled by git).
#![allow(dead_code, clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;
use verify_adr_lang_pairs::{Code, Report, check};

/// A repository root with the four ADR folders.
pub struct Repo {
    dir: TempDir,
}

impl Repo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for d in [
            "docs/adr",
            "docs/adr-ko",
            "docs/adr-proposed",
            "docs/adr-history",
        ] {
            fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        Self { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap()
    }

    /// Writes a matching EN/KO pair `NNNN-slug.md` with the given status.
    pub fn pair(&self, name: &str, status: &str) {
        let id = &name[..4];
        self.write(
            &format!("docs/adr/{name}"),
            en_adr(id, "Use a thing", status),
        );
        self.write(
            &format!("docs/adr-ko/{name}"),
            ko_adr(id, "무언가를 사용한다", status),
        );
    }

    pub fn check(&self) -> Report {
        check(self.root()).unwrap()
    }

    /// Runs the real binary with `args`.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_verify-adr-lang-pairs"))
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs the bare check (`--root ROOT`) as CI does, plus `extra` arguments.
    pub fn run_check(&self, extra: &[&str]) -> Output {
        let root = self.root().to_str().unwrap().to_owned();
        let mut args = vec!["--root", root.as_str()];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

pub fn en_adr(id: &str, title: &str, status: &str) -> String {
    format!(
        "# ADR-{id}: {title}\n\n## Status\n\n{status}\n\n## Context\n\nWhy.\n\n\
         ## Decision\n\nWhat.\n\n## Consequences\n\nSo what.\n"
    )
}

pub fn ko_adr(id: &str, title: &str, status: &str) -> String {
    format!(
        "# ADR-{id}: {title}\n\n## Status\n\n{status}\n\n## 배경\n\n이유.\n\n\
         ## 결정\n\n무엇.\n\n## 결과\n\n그래서.\n"
    )
}

/// The (code, paths) of every finding, for precise assertions.
pub fn findings(report: &Report) -> Vec<(Code, Vec<String>)> {
    report
        .findings
        .iter()
        .map(|f| (f.code, f.paths.clone()))
        .collect()
}

/// Asserts the report holds exactly these findings, in any order.
pub fn assert_findings(report: &Report, expected: &[(Code, &[&str])]) {
    let mut got = findings(report);
    let mut want: Vec<(Code, Vec<String>)> = expected
        .iter()
        .map(|(c, p)| (*c, p.iter().map(|s| (*s).to_owned()).collect()))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "full report: {report:#?}");
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap()
}
