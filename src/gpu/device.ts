// WebGPU device set-up: one adapter, a device with the adapter's own limits and the optional
// features the engine uses where offered (shader-f16, subgroups), and what the engine needs to
// know about it (f16 support, binding limits, adapter identity). No kernels here.

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software or otherwise reduced-capability adapter (SwiftShader, lavapipe, WARP...). */
  isFallbackAdapter: boolean;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  /** The device has the `shader-f16` feature (the optional native f16 weight path). */
  hasF16: boolean;
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
    maxStorageBuffersPerShaderStage: number;
    minStorageBufferOffsetAlignment: number;
    minUniformBufferOffsetAlignment: number;
  };
}

export interface CreateDeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Do not request `shader-f16` even when the adapter offers it. */
  disableF16?: boolean;
  /** Do not request `subgroups` even when the adapter offers it (the reductions then use workgroup memory). */
  disableSubgroups?: boolean;
  /** Request `timestamp-query` when offered (for the kernel profiler). */
  timestamps?: boolean;
}

export class NoAdapterError extends Error {
  override readonly name = 'NoAdapterError';
}

/** The limits the engine depends on; each is requested at the adapter's own maximum. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export async function createDevice(gpu: GPU, opts: CreateDeviceOptions = {}): Promise<GpuContext> {
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new NoAdapterError('no WebGPU adapter is available (WebGPU disabled, or no supported GPU or driver)');
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const hasF16 = adapter.features.has('shader-f16') && !opts.disableF16;
  const features: GPUFeatureName[] = hasF16 ? ['shader-f16'] : [];
  if (!opts.disableSubgroups && adapter.features.has('subgroups')) features.push('subgroups');
  if (opts.timestamps && adapter.features.has('timestamp-query')) features.push('timestamp-query');
  const device = await adapter.requestDevice({
    label: 'depass device',
    requiredFeatures: features,
    requiredLimits,
  });
  const info = adapter.info;
  // Older implementations put isFallbackAdapter on the adapter, newer ones on its info.
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  const l = device.limits;
  return {
    device,
    hasF16,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: fallback,
    },
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
      minUniformBufferOffsetAlignment: l.minUniformBufferOffsetAlignment,
    },
  };
}

/** One line naming the adapter, for results and logs ("mesa llvmpipe ..., fallback"). */
export function adapterName(a: AdapterSummary): string {
  const parts = [a.vendor, a.architecture, a.device || a.description].filter((s) => s);
  return parts.join(' ') + (a.isFallbackAdapter ? ' (fallback adapter)' : '');
}
