//! Metrics a bench reports about itself; they appear in the report under the rank.

use crate::error::Result;
use crate::wit::metrics as w;

/// Record `value` in `unit` (e.g. `GB/s`) under `name`.
pub fn report_metric(name: &str, value: f64, unit: &str) -> Result<()> {
    Ok(w::report_metric(name, value, unit)?)
}
