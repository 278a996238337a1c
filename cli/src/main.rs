//! The `kernbench` binary: everything lives in the `kernbench_cli` library.

fn main() -> std::process::ExitCode {
    kernbench_cli::main()
}
