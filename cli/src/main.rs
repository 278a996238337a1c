//! The `kernbench` binary: everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    kernbench_host::cli::main()
}
