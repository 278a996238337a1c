//! Minimal `--flag value` parsing for benches (argv after `kernbench run bench.wasm --`).

use kernbench::{Error, ErrorKind};

/// The value after `--name` (or its short form), parsed; `default` when absent.
pub fn flag<T: std::str::FromStr>(names: &[&str], default: T) -> Result<T, Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().position(|a| names.contains(&a.as_str())) {
        None => Ok(default),
        Some(i) => {
            let raw = args
                .get(i + 1)
                .ok_or_else(|| usage(format!("{} needs a value", names[0])))?;
            raw.parse()
                .map_err(|_| usage(format!("{} {raw}: not a valid value", names[0])))
        }
    }
}

/// Whether `--name` is present.
pub fn switch(names: &[&str]) -> bool {
    std::env::args()
        .skip(1)
        .any(|a| names.contains(&a.as_str()))
}

/// A byte size like `8`, `64K`, `16M`, `1G` (binary units, as nccl-tests reads them).
pub fn bytes(names: &[&str], default: u64) -> Result<u64, Error> {
    let raw: String = flag(names, default.to_string())?;
    let (digits, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => {
            return Err(usage(format!(
                "{} {raw}: unknown unit (use K, M or G)",
                names[0]
            )));
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| usage(format!("{} {raw}: not a valid size", names[0])))
}

fn usage(message: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}
