//! `torch.distributed.device_mesh`: the world laid out as an n-dimensional mesh of ranks
//! (e.g. data-parallel x tensor-parallel), with one process group per line of the mesh along
//! each dimension.

use super::{ProcessGroup, get_rank, get_world_size, new_group};
use crate::error::{Error, ErrorKind, Result};

/// A mesh of the world's ranks, as PyTorch's `DeviceMesh`. Rank r sits at the row-major
/// coordinates of r in `shape` (for `[dp, tp]`: `(r / tp, r % tp)`), so the ranks of one
/// tensor-parallel group are consecutive, as Megatron lays them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceMesh {
    shape: Vec<u32>,
    coords: Vec<u32>,
    groups: Vec<ProcessGroup>,
}

/// Lay the world out as a mesh of `shape` (whose product must be the world size) and create
/// its groups, as `torch.distributed.device_mesh.init_device_mesh`. Every rank must call it
/// with the same shape: it makes the same `new_group` calls, in the same order, on every rank
/// (dimension by dimension, each dimension's lines in row-major order), `sum(world / shape[d])`
/// groups in all.
///
/// ```no_run
/// use kernbench::torch::distributed::{self as dist, init_device_mesh};
/// # fn main() -> Result<(), kernbench::Error> {
/// dist::init_process_group("ccl")?;
/// let mesh = init_device_mesh(&[2, 4])?; // 2-way data parallel x 4-way tensor parallel
/// let tp = mesh.get_group(1)?;
/// println!("tp rank {} of {}", mesh.get_local_rank(1)?, tp.size()?);
/// # Ok(())
/// # }
/// ```
pub fn init_device_mesh(shape: &[u32]) -> Result<DeviceMesh> {
    let world = get_world_size()?;
    let rank = get_rank()?;
    let size = shape
        .iter()
        .try_fold(1u32, |acc, &d| acc.checked_mul(d))
        .filter(|_| !shape.is_empty() && !shape.contains(&0));
    if size != Some(world) {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "init_device_mesh: mesh shape {shape:?} does not hold the world of {world} ranks (its product must be {world})"
            ),
        ));
    }
    // Row-major strides: stride[d] = product of shape[d + 1 ..].
    let mut strides = vec![1u32; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    let coords: Vec<u32> = (0..shape.len())
        .map(|d| rank / strides[d] % shape[d])
        .collect();
    let mut groups = Vec::with_capacity(shape.len());
    for d in 0..shape.len() {
        let mut mine = None;
        // Each line along d starts at a rank whose coordinate d is 0.
        for start in (0..world).filter(|r| (r / strides[d]).is_multiple_of(shape[d])) {
            let line: Vec<u32> = (0..shape[d]).map(|i| start + i * strides[d]).collect();
            let group = new_group(&line)?;
            if line.contains(&rank) {
                mine = Some(group);
            }
        }
        groups.push(mine.ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                "init_device_mesh: rank outside its mesh",
            )
        })?);
    }
    Ok(DeviceMesh {
        shape: shape.to_vec(),
        coords,
        groups,
    })
}

impl DeviceMesh {
    /// The mesh's shape.
    pub fn shape(&self) -> &[u32] {
        &self.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The group of the ranks that share this rank's coordinates on every dimension but
    /// `dim`: `mesh.get_group(1)` of a `[dp, tp]` mesh is this rank's TP group.
    pub fn get_group(&self, dim: usize) -> Result<ProcessGroup> {
        self.groups
            .get(dim)
            .copied()
            .ok_or_else(|| self.bad_dim(dim))
    }

    /// This rank's coordinate along `dim` (its rank in [`get_group(dim)`](Self::get_group)).
    pub fn get_local_rank(&self, dim: usize) -> Result<u32> {
        self.coords
            .get(dim)
            .copied()
            .ok_or_else(|| self.bad_dim(dim))
    }

    fn bad_dim(&self, dim: usize) -> Error {
        Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "mesh dimension {dim} does not exist: the mesh {:?} has {} dimensions",
                self.shape,
                self.shape.len()
            ),
        )
    }
}
