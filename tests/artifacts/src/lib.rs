//! Paths of every bundled bench and test guest, built from source by this crate's build
//! script. `foreach_guest!` / `foreach_bench!` let a test file require one test per guest.

include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));

/// Where Python benches and test guests are built, with their own componentize-py
/// environment: inside the target directory, never `$HOME`. It is a kernbench cache
/// directory, so a test of the CLI can use it as `KERNBENCH_CACHE_DIR`.
pub fn python_cache() -> std::path::PathBuf {
    std::path::Path::new(GUEST_TARGET_DIR).join("python")
}

/// The component of a Python bench or test guest, by its path below the checkout
/// (`benches-py/hello.py`), built on first use (componentize-py is installed then) and again
/// only when its sources or the SDK change.
pub fn python(source: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = kernbench_python_build::PythonBuild {
        bench: root.join(source),
        output: Some(
            python_cache()
                .join("out")
                .join(source)
                .with_extension("wasm"),
        ),
        cache_dir: python_cache(),
    };
    #[allow(clippy::print_stderr)] // the test's captured output: what the build did
    let mut note = |m: &str| eprintln!("{m}");
    match kernbench_python_build::build(&spec, &mut note) {
        Ok(built) => built.path.display().to_string(),
        Err(e) => panic!("building {source}: {e}"),
    }
}
