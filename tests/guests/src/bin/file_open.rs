//! Hostile guest: tries to read and write host files. Prints what happened; panics if any
//! attempt succeeded (a sandbox escape).

fn main() {
    let attempts: [(&str, std::io::Result<()>); 4] = [
        ("read /etc/passwd", std::fs::read("/etc/passwd").map(drop)),
        ("read ./Cargo.toml", std::fs::read("Cargo.toml").map(drop)),
        (
            "create /tmp/kernbench-escape",
            std::fs::write("/tmp/kernbench-escape", b"x"),
        ),
        ("list /", std::fs::read_dir("/").map(drop)),
    ];
    for (what, result) in attempts {
        match result {
            Ok(()) => panic!("sandbox escape: {what} succeeded"),
            Err(e) => println!("{what}: denied ({e})"),
        }
    }
}
