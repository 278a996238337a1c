//! Errors the simulator reports. Each one is something a bench could have done differently,
//! so each maps onto one case of the WIT `error` variant and reaches the guest as a value.

use thiserror::Error;

/// A failed simulator operation, with a message that names the problem and the numbers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SimError {
    /// An argument is malformed or out of range.
    #[error("{0}")]
    InvalidArgument(String),
    /// A device index outside the system.
    #[error("{0}")]
    InvalidDevice(String),
    /// A cube has too little free HBM for a placement.
    #[error(
        "{what}: SIP {sip} cube {cube} needs {}, has {} free of {}",
        human_bytes(*needed),
        human_bytes(*free),
        human_bytes(*capacity)
    )]
    OutOfMemory {
        /// What was being placed, e.g. `placing tensor [4096, 4096] bf16 on SIP 3`.
        what: String,
        /// SIP of the full cube.
        sip: u32,
        /// The full cube.
        cube: u32,
        /// Bytes the placement needs in that cube.
        needed: u64,
        /// Bytes still free in that cube.
        free: u64,
        /// The cube's capacity.
        capacity: u64,
    },
    /// A call that needs an initialised process group came before it.
    #[error("{0}")]
    NotInitialized(String),
    /// A per-rank or per-run limit would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// Valid, but not available here (e.g. reading a meta tensor's data).
    #[error("{0}")]
    Unsupported(String),
    /// A long host op stopped because the run's wall-clock deadline passed. Never returned
    /// to the guest as a value: it ends the rank like the deadline does.
    #[error("{0}")]
    Interrupted(String),
}

/// Shorthand for `Err(SimError::InvalidArgument(format!(..)))`.
macro_rules! invalid {
    ($($arg:tt)*) => {
        Err($crate::sim::SimError::InvalidArgument(format!($($arg)*)))
    };
}
pub(crate) use invalid;

/// Bytes in binary units with one decimal, e.g. `40.0 MiB`; exact bytes below 1 KiB.
pub fn human_bytes(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_picks_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(40 << 20), "40.0 MiB");
        assert_eq!(human_bytes(16 << 30), "16.0 GiB");
        assert_eq!(human_bytes((1 << 20) - 1), "1024.0 KiB");
        assert_eq!(human_bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn out_of_memory_names_place_and_amounts() {
        let err = SimError::OutOfMemory {
            what: "placing tensor [4096, 4096] bf16 on SIP 3".into(),
            sip: 3,
            cube: 2,
            needed: 40 << 20,
            free: 12 << 20,
            capacity: 16 << 30,
        };
        assert_eq!(
            err.to_string(),
            "placing tensor [4096, 4096] bf16 on SIP 3: SIP 3 cube 2 needs 40.0 MiB, has 12.0 MiB free of 16.0 GiB"
        );
    }
}
