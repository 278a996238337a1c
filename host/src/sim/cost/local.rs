//! Costs of local ops on one rank's SIP: elementwise, matmul and copies, each paying first
//! for moving its operands to where the result is computed (`movement.rs`).

use super::movement::{Movement, check_pairs, holders, nearest, overlap, place};
use super::{CostModel, Rate};
use crate::sim::dtype::DType;
use crate::sim::error::SimError;
use crate::sim::placement::{ShardSpec, Span};

/// A matmul's operands as the cost model sees them.
#[derive(Debug, Clone, Copy)]
pub struct MatmulShape<'a> {
    /// Shards of `a` (2-D view `batch·M × K`).
    pub a: &'a [ShardSpec],
    /// Shards of `b` (2-D view `K × N`, or `batch·K × N` when batched).
    pub b: &'a [ShardSpec],
    /// `M`, `K`, `N`.
    pub mkn: (u64, u64, u64),
    /// Whether `b` has one matrix per batch.
    pub b_batched: bool,
}

fn rate_of(rates: &[(DType, Rate)], dtype: DType) -> Rate {
    rates
        .iter()
        .find(|(d, _)| *d == dtype)
        .map_or(Rate::new(0.0, 1), |(_, r)| *r)
}

impl CostModel {
    /// Time of an elementwise op over `shards` of `dtype` that moves `bytes_factor` bytes of
    /// HBM per element byte and does `flops_per_elem` flops per element: the max over shards
    /// of `max(ceil(flops / vector_gflops[dtype]), ceil(bytes_moved / H))`.
    pub fn elementwise_ns(
        &self,
        shards: &[ShardSpec],
        dtype: DType,
        bytes_factor: u64,
        flops_per_elem: u64,
    ) -> u64 {
        let vector = rate_of(&self.vector, dtype);
        shards
            .iter()
            .map(|s| {
                let elems = u128::from(s.rows.len()) * u128::from(s.cols.len());
                let flops = elems.saturating_mul(u128::from(flops_per_elem));
                let moved = elems
                    .saturating_mul(u128::from(dtype.itemsize()))
                    .saturating_mul(u128::from(bytes_factor));
                vector.ns(flops).max(self.pe_hbm.ns(moved))
            })
            .max()
            .unwrap_or(0)
    }

    /// A binary op (add, mul) whose result has `a`'s layout: `b`'s pieces held elsewhere
    /// move to the result's shards first, then 2 reads and 1 write per element, one flop.
    pub fn binary_op_ns(
        &self,
        result: &[ShardSpec],
        b: &[ShardSpec],
        dtype: DType,
    ) -> Result<u64, SimError> {
        let mut moved = Movement::operands();
        moved.regions(self, b, result, dtype.itemsize())?;
        Ok(moved
            .ns(self)
            .saturating_add(self.elementwise_ns(result, dtype, 3, 1)))
    }

    /// Scale by a scalar: 1 read and 1 write per element, one flop.
    pub fn scale_ns(&self, shards: &[ShardSpec], dtype: DType) -> u64 {
        self.elementwise_ns(shards, dtype, 2, 1)
    }

    /// Filling a new tensor: 1 write per element, no flop.
    pub fn fill_ns(&self, shards: &[ShardSpec], dtype: DType) -> u64 {
        self.elementwise_ns(shards, dtype, 1, 0)
    }

    /// Matmul whose result is placed in `result`: each result shard `r × c` first receives
    /// the rows of `a` and the columns of `b` it needs from wherever they are (a movement),
    /// then computes, the slowest shard taking
    /// `max(ceil(2·r·c·K / matmul_gflops[dtype]), ceil((r·K + K·c + r·c) · itemsize / H))`.
    pub fn matmul_ns(
        &self,
        result: &[ShardSpec],
        ops: MatmulShape<'_>,
        dtype: DType,
    ) -> Result<u64, SimError> {
        let (m, k, _) = ops.mkn;
        let item = dtype.itemsize();
        let (a_holders, b_holders) = (holders(ops.a), holders(ops.b));
        check_pairs(a_holders.len() + b_holders.len(), result.len())?;
        let mut moved = Movement::operands();
        for d in result {
            for ((rows, cols), places) in &a_holders {
                let elems = overlap(*rows, d.rows).saturating_mul(cols.len());
                if elems > 0 {
                    let from = nearest(places, place(d));
                    moved.add(self, from, place(d), elems.saturating_mul(item));
                }
            }
            let b_rows = if ops.b_batched && m > 0 && !d.rows.is_empty() {
                let (first, last) = (d.rows.start / m, (d.rows.end - 1) / m);
                Span {
                    start: first.saturating_mul(k),
                    end: (last + 1).saturating_mul(k),
                }
            } else {
                Span { start: 0, end: k }
            };
            for ((rows, cols), places) in &b_holders {
                let elems = overlap(*rows, b_rows).saturating_mul(overlap(*cols, d.cols));
                if elems > 0 {
                    let from = nearest(places, place(d));
                    moved.add(self, from, place(d), elems.saturating_mul(item));
                }
            }
        }
        let matmul = rate_of(&self.matmul, dtype);
        let k = u128::from(k);
        let compute = result
            .iter()
            .map(|s| {
                let (r, c) = (u128::from(s.rows.len()), u128::from(s.cols.len()));
                let flops = (2 * r * c).saturating_mul(k);
                let elems = r
                    .saturating_mul(k)
                    .saturating_add(k.saturating_mul(c))
                    .saturating_add(r * c);
                let bytes = elems.saturating_mul(u128::from(item));
                matmul.ns(flops).max(self.pe_hbm.ns(bytes))
            })
            .max()
            .unwrap_or(0);
        Ok(moved.ns(self).saturating_add(compute))
    }

    /// Copying a tensor from shards `from` into shards `to` (same 2-D view), each piece over
    /// the links between where it is and where it goes.
    pub fn copy_ns(
        &self,
        from: &[ShardSpec],
        to: &[ShardSpec],
        dtype: DType,
    ) -> Result<u64, SimError> {
        let mut moved = Movement::copy();
        moved.regions(self, from, to, dtype.itemsize())?;
        Ok(moved.ns(self))
    }
}
