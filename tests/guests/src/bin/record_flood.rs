//! Hostile guest: grows what the host keeps for the report. argv[1]:
//! - `metrics`: one metric reported 100,000 times, then new metric names until refused;
//! - `regions`: 20 regions opened and closed;
//! - `collectives`: 50 barriers.

use kernbench::metrics;
use kernbench::torch::{distributed as dist, profiler};

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
        _ => {
            for _ in 0..50 {
                dist::barrier()?;
            }
        }
    }
    Ok(())
}
