// The WebGPU engine's public surface for the worker and the CLI (browser-safe: Node's device and
// file-based shader loader live in ./node). Everything else in src/gpu is internal.

export { GpuBackend, type GpuBackendOptions } from './engine';
export { createDevice, adapterName, NoAdapterError, type GpuContext, type AdapterSummary, type CreateDeviceOptions } from './device';
export { shaderLoaderFromModules, ShaderCompileError, KERNELS, type ShaderLoader, type KernelName } from './kernels';
export {
  estimateMemory,
  checkMemory,
  maxComponentsFor,
  GpuMemoryError,
  type MemoryEstimate,
  type MemoryLimits,
  type BufferPlan,
} from './memory';
export { GpuProfiler, type KernelTime } from './profiler';

// Kernel-level API, for benchmarks and tests: record dispatches into a Step, submit, read back.
export { kernelCache, KernelCache } from './kernels';
export { Step, StepPool } from './step';
export { matmul, linear, largeTiles, type MatmulArgs } from './ops';
export { createStorage, uploadStorage, readF32, readU32 } from './buffers';
