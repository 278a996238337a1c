//! `tensors`: the tensor resource. Handles live in the rank's resource table; data, placement
//! and HBM live in the simulator, so collectives can reach every rank's tensors.

use crate::runtime::bindings::v0_2::kernbench::bench::tensors::{
    self, ArithOp, Distribution, Reduction, TensorOptions, UnaryOp,
};
use crate::runtime::bindings::v0_2::kernbench::bench::types::{DpPolicy, Dtype, ShardSpec};
use crate::runtime::error::HostError;
use crate::runtime::state::{RankState, TensorHandle};
use crate::runtime::world::lock;
use crate::sim::{self, BinaryOp, Init, NewTensor, SimError, TensorId};
use wasmtime::component::Resource;

impl RankState {
    fn create_tensor(
        &mut self,
        shape: Vec<u64>,
        dtype: Dtype,
        options: TensorOptions,
        init: Init,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let device = options.device.unwrap_or_else(|| self.default_device());
        let req = NewTensor {
            shape,
            dtype: dtype.into(),
            dp: options.dp.into(),
            device,
            init,
        };
        let id = lock(&self.world).sim.create(self.index, req)?;
        self.adopt(id)
    }

    /// Put a new simulator tensor in this rank's table (freeing it if the table is full).
    fn adopt(&mut self, id: TensorId) -> Result<Resource<TensorHandle>, HostError> {
        match self.table().push(TensorHandle { id }) {
            Ok(handle) => Ok(handle),
            Err(err) => {
                lock(&self.world).sim.store.free(id);
                Err(HostError::Trap(wasmtime::Error::new(err)))
            }
        }
    }

    /// The simulator id behind a handle; a handle that is not this rank's traps (wasmtime
    /// already refuses foreign and dropped handles before the call reaches here).
    fn tensor_id(&mut self, handle: &Resource<TensorHandle>) -> wasmtime::Result<TensorId> {
        Ok(self.table().get(handle)?.id)
    }

    pub(super) fn with_tensor<R>(
        &mut self,
        handle: &Resource<TensorHandle>,
        f: impl FnOnce(&sim::tensor::Tensor) -> R,
    ) -> wasmtime::Result<R> {
        let id = self.tensor_id(handle)?;
        let world = lock(&self.world);
        let tensor = world.sim.store.tensor(id).map_err(wasmtime::Error::new)?;
        Ok(f(tensor))
    }

    /// The seed of this rank's next random tensor: its random-number seed (from the run's
    /// seed and the rank) mixed with how many it drew before.
    fn next_tensor_seed(&mut self) -> u64 {
        self.random_draws += 1;
        crate::runtime::capabilities::rank_seed(self.tensor_seed, self.random_draws as u32)
            ^ self.random_draws.rotate_left(32)
    }

    fn check_buffer(&self, op: &str, len: u64) -> Result<(), SimError> {
        if len > self.max_buffer_bytes {
            return Err(SimError::LimitExceeded(format!(
                "{op} of {len} bytes exceeds the {} byte limit for one buffer; move the data in pieces",
                self.max_buffer_bytes
            )));
        }
        Ok(())
    }
}

impl tensors::Host for RankState {}

impl tensors::HostTensor for RankState {
    fn zeros(
        &mut self,
        shape: Vec<u64>,
        dtype: Dtype,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        self.create_tensor(shape, dtype, options, Init::Zeros)
    }

    fn ones(
        &mut self,
        shape: Vec<u64>,
        dtype: Dtype,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        self.create_tensor(shape, dtype, options, Init::Ones)
    }

    fn full(
        &mut self,
        shape: Vec<u64>,
        value: f64,
        dtype: Dtype,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        self.create_tensor(shape, dtype, options, Init::Full(value))
    }

    fn from_bytes(
        &mut self,
        shape: Vec<u64>,
        dtype: Dtype,
        data: Vec<u8>,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        self.check_buffer("from_bytes", data.len() as u64)?;
        self.create_tensor(shape, dtype, options, Init::Bytes(data))
    }

    fn meta(
        &mut self,
        shape: Vec<u64>,
        dtype: Dtype,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        self.create_tensor(shape, dtype, options, Init::Meta)
    }

    fn shape(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<Vec<u64>> {
        self.with_tensor(&t, |t| t.shape.clone())
    }

    fn dtype(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<Dtype> {
        self.with_tensor(&t, |t| t.dtype.into())
    }

    fn device(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<u32> {
        self.with_tensor(&t, |t| t.device)
    }

    fn numel(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<u64> {
        self.with_tensor(&t, |t| t.numel())
    }

    fn nbytes(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<u64> {
        self.with_tensor(&t, |t| t.nbytes())
    }

    fn is_meta(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<bool> {
        self.with_tensor(&t, |t| t.data.is_none())
    }

    fn dp_policy(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<DpPolicy> {
        self.with_tensor(&t, |t| t.dp.into())
    }

    fn placement(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<Vec<ShardSpec>> {
        self.with_tensor(&t, |t| t.shards.iter().map(|s| (*s).into()).collect())
    }

    fn read_bytes(
        &mut self,
        t: Resource<TensorHandle>,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, HostError> {
        self.check_buffer("read_bytes", len)?;
        let id = self.tensor_id(&t)?;
        Ok(lock(&self.world).sim.store.read_bytes(id, offset, len)?)
    }

    fn write_bytes(
        &mut self,
        t: Resource<TensorHandle>,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), HostError> {
        self.check_buffer("write_bytes", data.len() as u64)?;
        let id = self.tensor_id(&t)?;
        Ok(lock(&self.world).sim.store.write_bytes(id, offset, &data)?)
    }

    fn add(
        &mut self,
        t: Resource<TensorHandle>,
        other: Resource<TensorHandle>,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let (a, b) = (self.tensor_id(&t)?, self.tensor_id(&other)?);
        let id = lock(&self.world)
            .sim
            .binary(self.index, BinaryOp::Add, a, b)?;
        self.adopt(id)
    }

    fn mul(
        &mut self,
        t: Resource<TensorHandle>,
        other: Resource<TensorHandle>,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let (a, b) = (self.tensor_id(&t)?, self.tensor_id(&other)?);
        let id = lock(&self.world)
            .sim
            .binary(self.index, BinaryOp::Mul, a, b)?;
        self.adopt(id)
    }

    fn scale(
        &mut self,
        t: Resource<TensorHandle>,
        factor: f64,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let a = self.tensor_id(&t)?;
        let id = lock(&self.world).sim.scaled(self.index, a, factor)?;
        self.adopt(id)
    }

    fn add_assign(
        &mut self,
        t: Resource<TensorHandle>,
        other: Resource<TensorHandle>,
    ) -> Result<(), HostError> {
        let (a, b) = (self.tensor_id(&t)?, self.tensor_id(&other)?);
        Ok(lock(&self.world).sim.add_assign(self.index, a, b)?)
    }

    fn scale_assign(&mut self, t: Resource<TensorHandle>, factor: f64) -> Result<(), HostError> {
        let a = self.tensor_id(&t)?;
        Ok(lock(&self.world).sim.scale_assign(self.index, a, factor)?)
    }

    fn transpose(
        &mut self,
        t: Resource<TensorHandle>,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let a = self.tensor_id(&t)?;
        let id = lock(&self.world).sim.transpose(self.index, a)?;
        self.adopt(id)
    }

    fn matmul(
        &mut self,
        t: Resource<TensorHandle>,
        other: Resource<TensorHandle>,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let (a, b) = (self.tensor_id(&t)?, self.tensor_id(&other)?);
        let id = {
            let mut world = lock(&self.world);
            if let Some(d) = options.device {
                world.sim.store.check_device(d)?;
            }
            world
                .sim
                .matmul(self.index, a, b, options.dp.into(), options.device)?
        };
        self.adopt(id)
    }

    fn to_device(
        &mut self,
        t: Resource<TensorHandle>,
        device: u32,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let a = self.tensor_id(&t)?;
        let id = {
            let mut world = lock(&self.world);
            world.sim.store.check_device(device)?;
            world.sim.to_device(self.index, a, device)?
        };
        self.adopt(id)
    }

    fn copy_from(
        &mut self,
        t: Resource<TensorHandle>,
        src: Resource<TensorHandle>,
    ) -> Result<(), HostError> {
        let (dst, src) = (self.tensor_id(&t)?, self.tensor_id(&src)?);
        Ok(lock(&self.world).sim.copy_from(self.index, dst, src)?)
    }

    fn arange(
        &mut self,
        start: f64,
        end: f64,
        step: f64,
        dtype: Dtype,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let device = options.device.unwrap_or_else(|| self.default_device());
        let id = lock(&self.world).sim.arange(
            self.index,
            (start, end, step),
            dtype.into(),
            options.dp.into(),
            device,
        )?;
        self.adopt(id)
    }

    fn random(
        &mut self,
        shape: Vec<u64>,
        dist: Distribution,
        dtype: Dtype,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let device = options.device.unwrap_or_else(|| self.default_device());
        let dist = match dist {
            Distribution::Uniform => sim::Distribution::Uniform,
            Distribution::Normal => sim::Distribution::Normal,
        };
        let seed = self.next_tensor_seed();
        let id = lock(&self.world).sim.random(
            self.index,
            dist,
            shape,
            dtype.into(),
            options.dp.into(),
            device,
            seed,
        )?;
        self.adopt(id)
    }

    fn cat(
        &mut self,
        tensors: Vec<Resource<TensorHandle>>,
        dim: i64,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let max = lock(&self.world).sim.store.limits().max_tensors_per_rank;
        if tensors.len() as u64 > max {
            return Err(SimError::LimitExceeded(format!(
                "cat of {} tensors: more than a rank may hold (tensors_per_rank = {max})",
                tensors.len()
            ))
            .into());
        }
        let ids = tensors
            .iter()
            .map(|t| self.tensor_id(t))
            .collect::<wasmtime::Result<Vec<_>>>()?;
        let id = lock(&self.world).sim.cat(self.index, &ids, dim)?;
        self.adopt(id)
    }

    fn arith(
        &mut self,
        t: Resource<TensorHandle>,
        op: ArithOp,
        other: Resource<TensorHandle>,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let (a, b) = (self.tensor_id(&t)?, self.tensor_id(&other)?);
        let op = match op {
            ArithOp::Add => sim::Arith::Add,
            ArithOp::Sub => sim::Arith::Sub,
            ArithOp::Mul => sim::Arith::Mul,
            ArithOp::Div => sim::Arith::Div,
        };
        let id = lock(&self.world).sim.arith(self.index, op, a, b)?;
        self.adopt(id)
    }

    fn unary(
        &mut self,
        t: Resource<TensorHandle>,
        op: UnaryOp,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let a = self.tensor_id(&t)?;
        let op = match op {
            UnaryOp::Neg => sim::Unary::Neg,
            UnaryOp::Relu => sim::Unary::Relu,
            UnaryOp::Gelu => sim::Unary::Gelu,
        };
        let id = lock(&self.world).sim.unary(self.index, op, a)?;
        self.adopt(id)
    }

    fn reduce_dim(
        &mut self,
        t: Resource<TensorHandle>,
        op: Reduction,
        dim: Option<i64>,
        keepdim: bool,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let a = self.tensor_id(&t)?;
        let op = match op {
            Reduction::Sum => sim::Reduction::Sum,
            Reduction::Mean => sim::Reduction::Mean,
            Reduction::Max => sim::Reduction::Max,
            Reduction::Min => sim::Reduction::Min,
        };
        let id = lock(&self.world)
            .sim
            .reduce_dim(self.index, op, a, dim, keepdim)?;
        self.adopt(id)
    }

    fn softmax(
        &mut self,
        t: Resource<TensorHandle>,
        dim: i64,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let a = self.tensor_id(&t)?;
        let id = lock(&self.world).sim.softmax(self.index, a, dim)?;
        self.adopt(id)
    }

    fn reshape(
        &mut self,
        t: Resource<TensorHandle>,
        shape: Vec<i64>,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let a = self.tensor_id(&t)?;
        let id = lock(&self.world).sim.reshape(self.index, a, &shape)?;
        self.adopt(id)
    }

    fn narrow(
        &mut self,
        t: Resource<TensorHandle>,
        dim: i64,
        start: u64,
        length: u64,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let a = self.tensor_id(&t)?;
        let id = lock(&self.world)
            .sim
            .narrow(self.index, a, dim, start, length)?;
        self.adopt(id)
    }

    fn to_dtype(
        &mut self,
        t: Resource<TensorHandle>,
        dtype: Dtype,
    ) -> Result<Resource<TensorHandle>, HostError> {
        let a = self.tensor_id(&t)?;
        let id = lock(&self.world)
            .sim
            .to_dtype(self.index, a, dtype.into())?;
        self.adopt(id)
    }

    fn drop(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<()> {
        let handle = self.table().delete(t)?;
        lock(&self.world).sim.store.free(handle.id);
        Ok(())
    }
}
