//! Test guest: prints its whole environment and arguments, as a bench sees them.

fn main() {
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    for (k, v) in vars {
        println!("env {k}={v}");
    }
    for (i, a) in std::env::args().enumerate() {
        println!("arg {i}={a}");
    }
}
