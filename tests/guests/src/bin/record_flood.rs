//! Hostile guest: grows what the host keeps for the report. argv[1]:
//! - `metrics`: one metric reported 100,000 times, then new metric names until refused;
//! - `regions`: 20 regions opened and closed;
//! - `collectives`: 50 barriers;
//! - `metrics-flood`: 200,000 reports, each under a new 256-byte name (refusals ignored);
//! - `regions-flood`: 200,000 regions with 256-byte names;
//! - `collectives-flood`: 100,000 barriers.
//!
//! The floods run at the policy's default limits: the host must stay small whatever the
//! count (the CLI tests measure its peak RSS from a child process).

use kernbench::metrics;
use kernbench::torch::{distributed as dist, profiler};

/// A 256-byte name, distinct for each `i`.
fn long_name(i: u32) -> String {
    format!("{i:0>256}")
}

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    match std::env::args().nth(1).unwrap_or_default().as_str() {
        "metrics" => {
            for i in 0..100_000 {
                metrics::report_metric("step_time", f64::from(i % 10), "us")?;
            }
            for i in 0.. {
                if let Err(e) = metrics::report_metric(&format!("m{i}"), 1.0, "us") {
                    println!("series m{i} refused: {e}");
                    break;
                }
            }
        }
        "regions" => {
            for i in 0..20 {
                let _region = profiler::record_function(&format!("r{i}"))?;
            }
        }
        "metrics-flood" => {
            let mut refused = 0u32;
            for i in 0..200_000 {
                if metrics::report_metric(&long_name(i), 1.0, "us").is_err() {
                    refused += 1;
                }
            }
            println!("{refused} reports refused");
        }
        "regions-flood" => {
            for i in 0..200_000 {
                let _region = profiler::record_function(&long_name(i))?;
            }
        }
        "collectives-flood" => {
            for _ in 0..100_000 {
                dist::barrier()?;
            }
        }
        _ => {
            for _ in 0..50 {
                dist::barrier()?;
            }
        }
    }
    Ok(())
}
