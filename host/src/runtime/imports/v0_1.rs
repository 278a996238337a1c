//! The frozen `kernbench:bench@0.1.0` contract, answered by the 0.2 implementation: every
//! 0.1.0 function is a 0.2 function with the same meaning, so each adapter converts its
//! arguments and results between the two versions' generated types and delegates. A change
//! of 0.2 behaviour that 0.1.0 components must not see belongs here, never in the 0.2 code.

use super::wit_v0_1::kernbench::bench as v1;
use super::wit_v0_2::kernbench::bench as v2;
use crate::runtime::error::HostError;
use crate::runtime::state::{RankState, TensorHandle};
use crate::sim;
use wasmtime::component::Resource;

type Tensor = Resource<TensorHandle>;
type Made = Result<Tensor, HostError>;

fn dtype(d: v1::types::Dtype) -> v2::types::Dtype {
    sim::DType::from(d).into()
}

fn dtype_back(d: v2::types::Dtype) -> wasmtime::Result<v1::types::Dtype> {
    v1::types::Dtype::try_from(sim::DType::from(d)).map_err(wasmtime::Error::new)
}

fn options(o: v1::tensors::TensorOptions) -> v2::tensors::TensorOptions {
    v2::tensors::TensorOptions {
        dp: sim::DpPolicy::from(o.dp).into(),
        device: o.device,
    }
}

fn reduce_op(op: v1::types::ReduceOp) -> v2::types::ReduceOp {
    use v1::types::ReduceOp as A;
    use v2::types::ReduceOp as B;
    match op {
        A::Sum => B::Sum,
        A::Avg => B::Avg,
        A::Product => B::Product,
        A::Min => B::Min,
        A::Max => B::Max,
    }
}

impl v1::tensors::Host for RankState {}

impl v1::tensors::HostTensor for RankState {
    fn zeros(
        &mut self,
        shape: Vec<u64>,
        d: v1::types::Dtype,
        o: v1::tensors::TensorOptions,
    ) -> Made {
        v2::tensors::HostTensor::zeros(self, shape, dtype(d), options(o))
    }

    fn ones(
        &mut self,
        shape: Vec<u64>,
        d: v1::types::Dtype,
        o: v1::tensors::TensorOptions,
    ) -> Made {
        v2::tensors::HostTensor::ones(self, shape, dtype(d), options(o))
    }

    fn full(
        &mut self,
        shape: Vec<u64>,
        value: f64,
        d: v1::types::Dtype,
        o: v1::tensors::TensorOptions,
    ) -> Made {
        v2::tensors::HostTensor::full(self, shape, value, dtype(d), options(o))
    }

    fn from_bytes(
        &mut self,
        shape: Vec<u64>,
        d: v1::types::Dtype,
        data: Vec<u8>,
        o: v1::tensors::TensorOptions,
    ) -> Made {
        v2::tensors::HostTensor::from_bytes(self, shape, dtype(d), data, options(o))
    }

    fn meta(
        &mut self,
        shape: Vec<u64>,
        d: v1::types::Dtype,
        o: v1::tensors::TensorOptions,
    ) -> Made {
        v2::tensors::HostTensor::meta(self, shape, dtype(d), options(o))
    }

    fn shape(&mut self, t: Tensor) -> wasmtime::Result<Vec<u64>> {
        v2::tensors::HostTensor::shape(self, t)
    }

    fn dtype(&mut self, t: Tensor) -> wasmtime::Result<v1::types::Dtype> {
        v2::tensors::HostTensor::dtype(self, t).and_then(dtype_back)
    }

    fn device(&mut self, t: Tensor) -> wasmtime::Result<u32> {
        v2::tensors::HostTensor::device(self, t)
    }

    fn numel(&mut self, t: Tensor) -> wasmtime::Result<u64> {
        v2::tensors::HostTensor::numel(self, t)
    }

    fn nbytes(&mut self, t: Tensor) -> wasmtime::Result<u64> {
        v2::tensors::HostTensor::nbytes(self, t)
    }

    fn is_meta(&mut self, t: Tensor) -> wasmtime::Result<bool> {
        v2::tensors::HostTensor::is_meta(self, t)
    }

    fn dp_policy(&mut self, t: Tensor) -> wasmtime::Result<v1::types::DpPolicy> {
        v2::tensors::HostTensor::dp_policy(self, t).map(|p| sim::DpPolicy::from(p).into())
    }

    fn placement(&mut self, t: Tensor) -> wasmtime::Result<Vec<v1::types::ShardSpec>> {
        self.with_tensor(&t, |t| t.shards.iter().map(|s| (*s).into()).collect())
    }

    fn read_bytes(&mut self, t: Tensor, offset: u64, len: u64) -> Result<Vec<u8>, HostError> {
        v2::tensors::HostTensor::read_bytes(self, t, offset, len)
    }

    fn write_bytes(&mut self, t: Tensor, offset: u64, data: Vec<u8>) -> Result<(), HostError> {
        v2::tensors::HostTensor::write_bytes(self, t, offset, data)
    }

    fn add(&mut self, t: Tensor, other: Tensor) -> Made {
        v2::tensors::HostTensor::add(self, t, other)
    }

    fn mul(&mut self, t: Tensor, other: Tensor) -> Made {
        v2::tensors::HostTensor::mul(self, t, other)
    }

    fn scale(&mut self, t: Tensor, factor: f64) -> Made {
        v2::tensors::HostTensor::scale(self, t, factor)
    }

    fn add_assign(&mut self, t: Tensor, other: Tensor) -> Result<(), HostError> {
        v2::tensors::HostTensor::add_assign(self, t, other)
    }

    fn scale_assign(&mut self, t: Tensor, factor: f64) -> Result<(), HostError> {
        v2::tensors::HostTensor::scale_assign(self, t, factor)
    }

    fn transpose(&mut self, t: Tensor) -> Made {
        v2::tensors::HostTensor::transpose(self, t)
    }

    fn matmul(&mut self, t: Tensor, other: Tensor, o: v1::tensors::TensorOptions) -> Made {
        v2::tensors::HostTensor::matmul(self, t, other, options(o))
    }

    fn to_device(&mut self, t: Tensor, device: u32) -> Made {
        v2::tensors::HostTensor::to_device(self, t, device)
    }

    fn copy_from(&mut self, t: Tensor, src: Tensor) -> Result<(), HostError> {
        v2::tensors::HostTensor::copy_from(self, t, src)
    }

    fn drop(&mut self, t: Tensor) -> wasmtime::Result<()> {
        v2::tensors::HostTensor::drop(self, t)
    }
}

impl v1::distributed::Host for RankState {
    fn init_process_group(&mut self, backend: String) -> Result<(), HostError> {
        v2::distributed::Host::init_process_group(self, backend).map(|_| ())
    }

    fn is_initialized(&mut self) -> wasmtime::Result<bool> {
        v2::distributed::Host::is_initialized(self)
    }

    fn get_rank(&mut self) -> Result<u32, HostError> {
        v2::distributed::Host::get_rank(self)
    }

    fn get_world_size(&mut self) -> Result<u32, HostError> {
        v2::distributed::Host::get_world_size(self)
    }

    fn new_group(&mut self, ranks: Vec<u32>) -> Result<u32, HostError> {
        v2::distributed::Host::new_group(self, ranks)
    }

    fn group_rank(&mut self, g: u32) -> Result<Option<u32>, HostError> {
        v2::distributed::Host::group_rank(self, g)
    }

    fn group_size(&mut self, g: u32) -> Result<u32, HostError> {
        v2::distributed::Host::group_size(self, g)
    }

    fn get_global_rank(&mut self, g: u32, group_rank: u32) -> Result<u32, HostError> {
        v2::distributed::Host::get_global_rank(self, g, group_rank)
    }

    async fn barrier(&mut self, g: Option<u32>) -> Result<(), HostError> {
        v2::distributed::Host::barrier(self, g).await
    }

    async fn all_reduce(
        &mut self,
        t: Tensor,
        op: v1::types::ReduceOp,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        v2::distributed::Host::all_reduce(self, t, reduce_op(op), g).await
    }

    async fn broadcast(&mut self, t: Tensor, src: u32, g: Option<u32>) -> Result<(), HostError> {
        v2::distributed::Host::broadcast(self, t, src, g).await
    }

    async fn reduce(
        &mut self,
        t: Tensor,
        dst: u32,
        op: v1::types::ReduceOp,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        v2::distributed::Host::reduce(self, t, dst, reduce_op(op), g).await
    }

    async fn all_gather_into_tensor(
        &mut self,
        output: Tensor,
        input: Tensor,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        v2::distributed::Host::all_gather_into_tensor(self, output, input, g).await
    }

    async fn reduce_scatter_tensor(
        &mut self,
        output: Tensor,
        input: Tensor,
        op: v1::types::ReduceOp,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        v2::distributed::Host::reduce_scatter_tensor(self, output, input, reduce_op(op), g).await
    }

    async fn all_to_all_single(
        &mut self,
        output: Tensor,
        input: Tensor,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        v2::distributed::Host::all_to_all_single(self, output, input, g).await
    }

    async fn send(&mut self, t: Tensor, dst: u32, g: Option<u32>) -> Result<(), HostError> {
        v2::distributed::Host::send(self, t, dst, g).await
    }

    async fn recv(&mut self, t: Tensor, src: u32, g: Option<u32>) -> Result<(), HostError> {
        v2::distributed::Host::recv(self, t, src, g).await
    }
}

impl v1::ahbm::Host for RankState {
    fn set_device(&mut self, device: u32) -> Result<(), HostError> {
        v2::ahbm::Host::set_device(self, device)
    }

    fn current_device(&mut self) -> wasmtime::Result<Option<u32>> {
        v2::ahbm::Host::current_device(self)
    }

    fn device_count(&mut self) -> wasmtime::Result<u32> {
        v2::ahbm::Host::device_count(self)
    }

    fn synchronize(&mut self) -> wasmtime::Result<()> {
        v2::ahbm::Host::synchronize(self)
    }
}

impl v1::accelerator::Host for RankState {
    fn set_device_index(&mut self, index: u32) -> Result<(), HostError> {
        v2::accelerator::Host::set_device_index(self, index)
    }

    fn current_device_index(&mut self) -> wasmtime::Result<Option<u32>> {
        v2::accelerator::Host::current_device_index(self)
    }

    fn device_count(&mut self) -> wasmtime::Result<u32> {
        v2::accelerator::Host::device_count(self)
    }
}

impl v1::clock::Host for RankState {
    fn now_ns(&mut self) -> wasmtime::Result<u64> {
        v2::clock::Host::now_ns(self)
    }

    fn region_begin(&mut self, name: String) -> Result<(), HostError> {
        v2::clock::Host::region_begin(self, name)
    }

    fn region_end(&mut self) -> Result<(), HostError> {
        v2::clock::Host::region_end(self)
    }
}

impl v1::metrics::Host for RankState {
    fn report_metric(&mut self, name: String, value: f64, unit: String) -> Result<(), HostError> {
        v2::metrics::Host::report_metric(self, name, value, unit)
    }
}
