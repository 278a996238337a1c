//! Build guests (benches) for `wasm32-wasip2` with cargo and report the components produced.
//!
//! Shared by `kernbench build`/`demo` and by the test-artifacts build script, so both install
//! the target the same way (machines here set `RUSTUP_AUTO_INSTALL=0`, so a toolchain file
//! alone does not) and both read cargo's own JSON messages to find the `.wasm` files instead
//! of guessing paths.

use cargo_metadata::Message;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The guest target triple.
pub const TARGET: &str = "wasm32-wasip2";

/// Why a guest build failed.
#[derive(Debug)]
pub enum BuildError {
    /// A tool could not be started.
    Spawn {
        /// The command.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The wasm target is missing and could not be installed.
    Target(String),
    /// cargo failed (its diagnostics went to stderr).
    Cargo(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Spawn { program, source } => write!(f, "cannot run `{program}`: {source}"),
            BuildError::Target(m) | BuildError::Cargo(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Spawn { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A component cargo built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The binary target's name.
    pub name: String,
    /// Its package.
    pub package: String,
    /// Path of the `.wasm` component.
    pub path: PathBuf,
}

/// What to build.
#[derive(Debug, Clone)]
pub struct GuestBuild {
    /// `Cargo.toml` of the crate or workspace.
    pub manifest_path: PathBuf,
    /// `-p` packages (empty: the manifest's default).
    pub packages: Vec<String>,
    /// `--bin` names (empty: all binaries).
    pub bins: Vec<String>,
    /// `--target-dir` (`None`: cargo's default for the manifest).
    pub target_dir: Option<PathBuf>,
    /// Release profile (guests are small and fast in release).
    pub release: bool,
    /// `rustc` flags for the guest code (e.g. `-Ctarget-feature=-simd128`). Non-empty, they
    /// *replace* the `[target.wasm32-wasip2] rustflags` of the workspace's
    /// `.cargo/config.toml` (cargo's precedence), so restate those that should stay. Give
    /// such a build its own `target_dir`, or it rebuilds everything the next plain build
    /// needs.
    pub rustflags: Vec<String>,
}

impl GuestBuild {
    /// A release build of the crate or workspace at `manifest_path`.
    pub fn new(manifest_path: impl Into<PathBuf>) -> Self {
        GuestBuild {
            manifest_path: manifest_path.into(),
            packages: Vec::new(),
            bins: Vec::new(),
            target_dir: None,
            release: true,
            rustflags: Vec::new(),
        }
    }
}

fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// A command for a tool in `dir` without the variables an outer cargo sets for its build
/// scripts, which would otherwise leak into the nested build (wrappers, flags, target dir).
fn clean_command(program: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTC_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
        "RUSTC",
        "RUSTDOC",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "TARGET",
        "HOST",
        "OPT_LEVEL",
        "PROFILE",
        "DEBUG",
        "OUT_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// `cargo` (`$CARGO`, else the one on `PATH`) to run in `dir`, without the variables an
/// outer cargo sets: for a tool that runs a nested build of its own.
pub fn cargo_command(dir: &Path) -> Command {
    clean_command(&cargo_program(), dir)
}

fn spawn_output(cmd: &mut Command, program: &str) -> Result<std::process::Output, BuildError> {
    cmd.output().map_err(|source| BuildError::Spawn {
        program: program.to_owned(),
        source,
    })
}

/// Whether the toolchain that `rustc` resolves to in `dir` has the wasm target's standard
/// library.
pub fn target_installed(dir: &Path) -> Result<bool, BuildError> {
    let out = spawn_output(
        clean_command("rustc", dir).args(["--print", "target-libdir", "--target", TARGET]),
        "rustc --print target-libdir",
    )?;
    if !out.status.success() {
        return Ok(false);
    }
    let libdir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Ok(std::fs::read_dir(&libdir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false))
}

/// Make sure the wasm target is installed for the toolchain used in `dir`, installing it with
/// `rustup target add` when missing. `note` is told when an install happens.
pub fn ensure_target(dir: &Path, note: &mut dyn FnMut(&str)) -> Result<(), BuildError> {
    if target_installed(dir)? {
        return Ok(());
    }
    note(&format!(
        "installing the {TARGET} target with `rustup target add {TARGET}`"
    ));
    let out = spawn_output(clean_command("rustup", dir).args(["target", "add", TARGET]), "rustup")
        .map_err(|e| BuildError::Target(format!("the {TARGET} target is missing and rustup is not available to install it ({e}); install it with your toolchain manager")))?;
    if !out.status.success() || !target_installed(dir)? {
        return Err(BuildError::Target(format!(
            "`rustup target add {TARGET}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Build the guests and return every `.wasm` binary cargo reported. Cargo's diagnostics go to
/// this process's stderr as they happen.
pub fn build(spec: &GuestBuild, note: &mut dyn FnMut(&str)) -> Result<Vec<Artifact>, BuildError> {
    // Cargo runs in the manifest's directory, so a relative manifest path would be resolved
    // twice (`my-bench/my-bench/Cargo.toml`): make it absolute against our own directory.
    let manifest_path = std::path::absolute(&spec.manifest_path).map_err(|e| {
        BuildError::Cargo(format!(
            "cannot resolve {}: {e}",
            spec.manifest_path.display()
        ))
    })?;
    let dir = manifest_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    ensure_target(&dir, note)?;
    let program = cargo_program();
    let mut cmd = clean_command(&program, &dir);
    cmd.arg("build")
        .arg("--target")
        .arg(TARGET)
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(&manifest_path);
    if spec.release {
        cmd.arg("--release");
    }
    for p in &spec.packages {
        cmd.arg("-p").arg(p);
    }
    for b in &spec.bins {
        cmd.arg("--bin").arg(b);
    }
    if let Some(t) = &spec.target_dir {
        cmd.arg("--target-dir").arg(t);
    }
    if !spec.rustflags.is_empty() {
        cmd.env("CARGO_ENCODED_RUSTFLAGS", spec.rustflags.join("\x1f"));
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let out = spawn_output(&mut cmd, &program)?;
    if !out.status.success() {
        return Err(BuildError::Cargo(format!(
            "cargo build --target {TARGET} failed for {} (diagnostics above)",
            spec.manifest_path.display()
        )));
    }
    Ok(parse_artifacts(&String::from_utf8_lossy(&out.stdout)))
}

/// The `.wasm` binaries in cargo's JSON message stream (`--message-format=json*`). Lines
/// that are not cargo messages are skipped.
pub fn parse_artifacts(messages: &str) -> Vec<Artifact> {
    Message::parse_stream(messages.as_bytes())
        // Reading from a byte slice cannot fail; an error could only end the stream.
        .map_while(Result::ok)
        .filter_map(|msg| match msg {
            Message::CompilerArtifact(artifact) if artifact.target.is_bin() => {
                let wasm = artifact
                    .filenames
                    .iter()
                    .find(|f| f.extension() == Some("wasm"))?;
                Some(Artifact {
                    name: artifact.target.name.clone(),
                    package: artifact.package_id.repr.clone(),
                    path: wasm.clone().into_std_path_buf(),
                })
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real messages of `cargo build --target wasm32-wasip2 --message-format=json-render-diagnostics`
    /// (a library, a build script run, a bench binary), with a non-JSON line mixed in.
    const MESSAGES: &str = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/guest-sdk#kernbench@0.1.0","manifest_path":"/w/guest-sdk/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"kernbench","src_path":"/w/guest-sdk/src/lib.rs","edition":"2024","doc":true,"doctest":true,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["/w/target/wasm32-wasip2/release/deps/libkernbench-0123.rlib"],"executable":null,"fresh":false}
{"reason":"build-script-executed","package_id":"registry+https://github.com/rust-lang/crates.io-index#serde@1.0.228","linked_libs":[],"linked_paths":[],"cfgs":[],"env":[],"out_dir":"/w/target/release/build/serde-1/out"}
not json
{"reason":"compiler-artifact","package_id":"path+file:///w/benches-wasm#kernbench-benches@0.1.0","manifest_path":"/w/benches-wasm/Cargo.toml","target":{"kind":["bin"],"crate_types":["bin"],"name":"hello","src_path":"/w/benches-wasm/src/bin/hello.rs","edition":"2024","doc":true,"doctest":false,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":[],"filenames":["/w/target/wasm32-wasip2/release/hello.wasm"],"executable":"/w/target/wasm32-wasip2/release/hello.wasm","fresh":true}
{"reason":"build-finished","success":true}"#;

    #[test]
    fn finds_wasm_binaries_in_cargo_messages() {
        let found = parse_artifacts(MESSAGES);
        assert_eq!(
            found,
            [Artifact {
                name: "hello".into(),
                package: "path+file:///w/benches-wasm#kernbench-benches@0.1.0".into(),
                path: PathBuf::from("/w/target/wasm32-wasip2/release/hello.wasm"),
            }]
        );
    }

    #[test]
    fn a_binary_without_a_wasm_file_is_not_a_component() {
        let native = MESSAGES.replace("hello.wasm", "hello");
        assert_eq!(parse_artifacts(&native), []);
        assert_eq!(parse_artifacts(""), []);
    }
}
