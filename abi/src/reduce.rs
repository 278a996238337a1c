//! Reduction operators of the collectives.

use core::fmt;

/// A reduction operator of the collectives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum ReduceOp {
    /// Elementwise sum.
    Sum,
    /// Sum, then divided by the member count.
    Avg,
    /// Elementwise product.
    Product,
    /// Elementwise minimum (NaN propagates).
    Min,
    /// Elementwise maximum (NaN propagates).
    Max,
}

impl ReduceOp {
    /// Every operator, in declaration order.
    pub const ALL: [ReduceOp; 5] = [
        ReduceOp::Sum,
        ReduceOp::Avg,
        ReduceOp::Product,
        ReduceOp::Min,
        ReduceOp::Max,
    ];

    /// The name as nccl-tests prints it and takes in `-o`: `sum`, `avg`, `prod`, `min`, `max`.
    pub const fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Avg => "avg",
            ReduceOp::Product => "prod",
            ReduceOp::Min => "min",
            ReduceOp::Max => "max",
        }
    }
}

impl fmt::Display for ReduceOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
