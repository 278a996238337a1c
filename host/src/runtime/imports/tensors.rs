//! `tensors`: the tensor resource. Handles live in the rank's resource table; data, placement
//! and HBM live in the simulator, so collectives can reach every rank's tensors.

use crate::runtime::bindings::kernbench::bench::tensors::{self, TensorOptions};
use crate::runtime::bindings::kernbench::bench::types::{DpPolicy, Dtype, ShardSpec};
use crate::runtime::error::HostError;
use crate::runtime::state::{RankState, TensorHandle};
use crate::runtime::world::lock;
use crate::sim::{self, Init, NewTensor, SimError, TensorId};
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
        match self.table().push(TensorHandle { id }) {
            Ok(handle) => Ok(handle),
            Err(err) => {
                lock(&self.world).sim.free(id);
                Err(HostError::Trap(wasmtime::Error::new(err)))
            }
        }
    }

    /// The simulator id behind a handle; a handle that is not this rank's traps (wasmtime
    /// already refuses foreign and dropped handles before the call reaches here).
    fn tensor_id(&mut self, handle: &Resource<TensorHandle>) -> wasmtime::Result<TensorId> {
        Ok(self.table().get(handle)?.id)
    }

    fn with_tensor<R>(
        &mut self,
        handle: &Resource<TensorHandle>,
        f: impl FnOnce(&sim::tensor::Tensor) -> R,
    ) -> wasmtime::Result<R> {
        let id = self.tensor_id(handle)?;
        let world = lock(&self.world);
        let tensor = world.sim.tensor(id).map_err(wasmtime::Error::new)?;
        Ok(f(tensor))
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

fn not_yet(what: &str) -> HostError {
    SimError::Unsupported(format!("{what} is not implemented by this host yet")).into()
}

impl tensors::Host for RankState {}

impl tensors::HostTensor for RankState {
    async fn zeros(
        &mut self,
        shape: Vec<u64>,
        dtype: Dtype,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        self.create_tensor(shape, dtype, options, Init::Zeros)
    }

    async fn ones(
        &mut self,
        shape: Vec<u64>,
        dtype: Dtype,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        self.create_tensor(shape, dtype, options, Init::Ones)
    }

    async fn full(
        &mut self,
        shape: Vec<u64>,
        value: f64,
        dtype: Dtype,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        self.create_tensor(shape, dtype, options, Init::Full(value))
    }

    async fn from_bytes(
        &mut self,
        shape: Vec<u64>,
        dtype: Dtype,
        data: Vec<u8>,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        self.check_buffer("from_bytes", data.len() as u64)?;
        self.create_tensor(shape, dtype, options, Init::Bytes(data))
    }

    async fn meta(
        &mut self,
        shape: Vec<u64>,
        dtype: Dtype,
        options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        self.create_tensor(shape, dtype, options, Init::Meta)
    }

    async fn shape(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<Vec<u64>> {
        self.with_tensor(&t, |t| t.shape.clone())
    }

    async fn dtype(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<Dtype> {
        self.with_tensor(&t, |t| t.dtype.into())
    }

    async fn device(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<u32> {
        self.with_tensor(&t, |t| t.device)
    }

    async fn numel(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<u64> {
        self.with_tensor(&t, |t| t.numel())
    }

    async fn nbytes(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<u64> {
        self.with_tensor(&t, |t| t.nbytes())
    }

    async fn is_meta(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<bool> {
        self.with_tensor(&t, |t| t.data.is_none())
    }

    async fn dp_policy(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<DpPolicy> {
        self.with_tensor(&t, |t| t.dp.into())
    }

    async fn placement(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<Vec<ShardSpec>> {
        self.with_tensor(&t, |t| t.shards.iter().map(|s| (*s).into()).collect())
    }

    async fn read_bytes(
        &mut self,
        t: Resource<TensorHandle>,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, HostError> {
        self.check_buffer("read_bytes", len)?;
        let id = self.tensor_id(&t)?;
        Ok(lock(&self.world).sim.read_bytes(id, offset, len)?)
    }

    async fn write_bytes(
        &mut self,
        t: Resource<TensorHandle>,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<(), HostError> {
        self.check_buffer("write_bytes", data.len() as u64)?;
        let id = self.tensor_id(&t)?;
        Ok(lock(&self.world).sim.write_bytes(id, offset, &data)?)
    }

    async fn add(
        &mut self,
        _t: Resource<TensorHandle>,
        _other: Resource<TensorHandle>,
    ) -> Result<Resource<TensorHandle>, HostError> {
        Err(not_yet("add"))
    }

    async fn mul(
        &mut self,
        _t: Resource<TensorHandle>,
        _other: Resource<TensorHandle>,
    ) -> Result<Resource<TensorHandle>, HostError> {
        Err(not_yet("mul"))
    }

    async fn scale(
        &mut self,
        _t: Resource<TensorHandle>,
        _factor: f64,
    ) -> Result<Resource<TensorHandle>, HostError> {
        Err(not_yet("scale"))
    }

    async fn add_assign(
        &mut self,
        _t: Resource<TensorHandle>,
        _other: Resource<TensorHandle>,
    ) -> Result<(), HostError> {
        Err(not_yet("add_assign"))
    }

    async fn scale_assign(
        &mut self,
        _t: Resource<TensorHandle>,
        _factor: f64,
    ) -> Result<(), HostError> {
        Err(not_yet("scale_assign"))
    }

    async fn matmul(
        &mut self,
        _t: Resource<TensorHandle>,
        _other: Resource<TensorHandle>,
        _options: TensorOptions,
    ) -> Result<Resource<TensorHandle>, HostError> {
        Err(not_yet("matmul"))
    }

    async fn to_device(
        &mut self,
        _t: Resource<TensorHandle>,
        _device: u32,
    ) -> Result<Resource<TensorHandle>, HostError> {
        Err(not_yet("to_device"))
    }

    async fn copy_from(
        &mut self,
        _t: Resource<TensorHandle>,
        _src: Resource<TensorHandle>,
    ) -> Result<(), HostError> {
        Err(not_yet("copy_from"))
    }

    async fn drop(&mut self, t: Resource<TensorHandle>) -> wasmtime::Result<()> {
        let handle = self.table().delete(t)?;
        lock(&self.world).sim.free(handle.id);
        Ok(())
    }
}
