//! `kernbench validate`: the load-time checks alone, and what the component is.

use super::exit;
use anyhow::{Context, Result};
use clap::Args;
use kernbench_host::model::Policy;
use kernbench_host::runtime::validate::validate as check;
use kernbench_host::sim::config_file::read_regular;
use std::path::PathBuf;

/// Arguments of `kernbench validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The component to check.
    component: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Check a component; exit 0 if it would load, 3 if it would be refused.
pub fn validate(args: ValidateArgs) -> Result<u8> {
    // Bounded by the largest component any built-in policy accepts; a FIFO or a device is
    // refused, not waited on or read without end.
    let bytes = read_regular(&args.component, Policy::trusted().limits.component_bytes)
        .with_context(|| format!("reading {}", args.component.display()))?;
    let result = check(&bytes);
    if args.json {
        let value = match &result {
            Ok(info) => serde_json::json!({ "status": "ok", "component": info }),
            Err(e) => {
                serde_json::json!({ "status": "refused", "kind": e.kind(), "message": e.to_string() })
            }
        };
        println!("{value:#}");
    } else {
        match &result {
            Ok(info) => print!("{}: ok\n{info}", args.component.display()),
            Err(e) => println!("{}: refused\n{e}", args.component.display()),
        }
    }
    Ok(if result.is_ok() {
        exit::OK
    } else {
        exit::REFUSED
    })
}
