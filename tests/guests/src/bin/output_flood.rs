//! Hostile guest: writes 10 MiB to stdout and 1 MiB to stderr, then a last line on each.

use std::io::Write;

#[allow(clippy::print_stderr)] // Flooding stderr is the point.
fn main() {
    let line = [b'x'; 1023];
    let mut out = std::io::stdout().lock();
    for _ in 0..10 * 1024 {
        let _ = out.write_all(&line);
        let _ = out.write_all(b"\n");
    }
    let _ = writeln!(out, "last stdout line");
    drop(out);
    for _ in 0..1024 {
        eprintln!("{}", "e".repeat(1023));
    }
    eprintln!("last stderr line");
}
