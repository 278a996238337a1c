//! A bench is a wasm32-wasip2 component: building one for the host target (`cargo run` in a
//! bench crate) must fail at compile time and say how to build it, not produce a binary that
//! panics with "entered unreachable code" at its first host call.

use std::path::Path;
use std::process::Command;

#[test]
fn native_build_of_a_bench_fails_with_a_hint() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| panic!("tests/ has a parent"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // The guests' target directory already holds the release proc macros of this workspace,
    // and no other build holds its lock while the tests run.
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--release", "--quiet", "-p", "kernbench-benches"])
        .args(["--bin", "hello", "--target-dir"])
        .arg(kernbench_tests::artifacts::GUEST_TARGET_DIR)
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the native build succeeded:\n{stderr}"
    );
    assert!(
        stderr.contains("kernbench build") && stderr.contains("wasm32-wasip2"),
        "the error does not say how to build a bench:\n{stderr}"
    );
}
