//! Costs of local ops on one rank's SIP: elementwise, matmul and copies.

use super::{CostModel, LinkClass};
use crate::sim::placement::ShardSpec;

impl CostModel {
    /// Time of an elementwise op over `shards` of `itemsize`-byte elements that moves
    /// `bytes_factor` bytes of HBM and does `flops_per_elem` flops per element: the max over
    /// shards of `max(ceil(flops / vector_gflops), ceil(bytes_moved / H))`.
    pub fn elementwise_ns(
        &self,
        shards: &[ShardSpec],
        itemsize: u64,
        bytes_factor: u64,
        flops_per_elem: u64,
    ) -> u64 {
        shards
            .iter()
            .map(|s| {
                let elems = u128::from(s.rows.len()) * u128::from(s.cols.len());
                let flops = elems.saturating_mul(u128::from(flops_per_elem));
                let moved = elems
                    .saturating_mul(u128::from(itemsize))
                    .saturating_mul(u128::from(bytes_factor));
                self.vector.ns(flops).max(self.pe_hbm.ns(moved))
            })
            .max()
            .unwrap_or(0)
    }

    /// A binary op (add, mul): 2 reads and 1 write per element, one flop.
    pub fn binary_op_ns(&self, shards: &[ShardSpec], itemsize: u64) -> u64 {
        self.elementwise_ns(shards, itemsize, 3, 1)
    }

    /// Scale by a scalar: 1 read and 1 write per element, one flop.
    pub fn scale_ns(&self, shards: &[ShardSpec], itemsize: u64) -> u64 {
        self.elementwise_ns(shards, itemsize, 2, 1)
    }

    /// Filling a new tensor: 1 write per element, no flop.
    pub fn fill_ns(&self, shards: &[ShardSpec], itemsize: u64) -> u64 {
        self.elementwise_ns(shards, itemsize, 1, 0)
    }

    /// Matmul with inner dimension `k` whose result is placed in `result_shards`: the max
    /// over result shards `r × c` of
    /// `max(ceil(2·r·c·k / matmul_gflops), ceil((r·k + k·c + r·c) · itemsize / H))`.
    pub fn matmul_ns(&self, result_shards: &[ShardSpec], k: u64, itemsize: u64) -> u64 {
        let k = u128::from(k);
        result_shards
            .iter()
            .map(|s| {
                let (r, c) = (u128::from(s.rows.len()), u128::from(s.cols.len()));
                let flops = (2 * r * c).saturating_mul(k);
                let elems = r
                    .saturating_mul(k)
                    .saturating_add(k.saturating_mul(c))
                    .saturating_add(r * c);
                let bytes = elems.saturating_mul(u128::from(itemsize));
                self.matmul.ns(flops).max(self.pe_hbm.ns(bytes))
            })
            .max()
            .unwrap_or(0)
    }

    /// Copying a tensor of `bytes` held in `cubes` cubes from SIP `src_sip` to `dst_sip`:
    /// `k · transfer(InterSip, ceil(bytes / k))` between SIPs, `transfer(InterCube, bytes)`
    /// within one SIP; never chunked.
    pub fn copy_ns(&self, bytes: u64, cubes: u32, src_sip: u32, dst_sip: u32) -> u64 {
        if src_sip == dst_sip {
            self.transfer_ns(LinkClass::InterCube, bytes, None)
        } else {
            self.flat_ns(bytes, u64::from(cubes.max(1)), None)
        }
    }
}
