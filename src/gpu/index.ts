// The WebGPU engine's public surface for the worker and the CLI (browser-safe: Node's device and
// file-based shader loader live in ./node). Everything else in src/gpu is internal.

export { GpuBackend, type GpuBackendOptions } from './engine';
export { createDevice, adapterName, NoAdapterError, type GpuContext, type AdapterSummary, type CreateDeviceOptions } from './device';
export { shaderLoaderFromModules, ShaderCompileError, KERNELS, type ShaderLoader, type KernelName } from './kernels';
export {
  estimateMemory,
  checkMemory,
  maxComponentsFor,
  componentsOf,
  GpuMemoryError,
  type MemoryEstimate,
  type MemoryLimits,
  type BufferPlan,
} from './memory';
export { GpuProfiler, type KernelTime } from './profiler';
