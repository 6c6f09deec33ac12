// What the engine uses on one device: native f16 products for F16 weights, reductions through
// subgroups, and its matmul tile plan. Made once per device (tuning.ts: from the device's features
// and limits, and a short calibration of the tiles and of the f16 path) and carried by its StepPool.

import { plainTilePlan, type TilePlan } from './tiles';

export interface DeviceProfile {
  /** F16 weights read and multiplied as f16 (kernel matmul_f16; the device has `shader-f16`). */
  nativeF16: boolean;
  /** Workgroup reductions through subgroup operations (the device has `subgroups`). */
  subgroups: boolean;
  tiles: TilePlan;
  /** The calibration's GFLOP/s with F16 weights on each path (devices with shader-f16). */
  f16?: { expanded: number; native: number };
}

/**
 * The profile a device's features and limits give without calibration: F16 weights expanded (f16
 * products cost precision and are taken only where a calibration finds them faster).
 */
export function plainProfile(device: GPUDevice, isFallbackAdapter: boolean): DeviceProfile {
  return {
    nativeF16: false,
    subgroups: device.features.has('subgroups'),
    tiles: plainTilePlan(isFallbackAdapter),
  };
}

/** One line for logs and reports: "f16 products, subgroup reductions, large tiles 'wide' (calibration)". */
export function describeProfile(p: DeviceProfile): string {
  return [
    (p.nativeF16 ? 'f16 products for F16 weights' : 'F16 weights expanded to f32') +
      (p.f16 ? ` (calibration: ${p.f16.native.toFixed(2)} GFLOP/s native, ${p.f16.expanded.toFixed(2)} expanded)` : ''),
    p.subgroups ? 'subgroup reductions' : 'workgroup-memory reductions',
    `large tiles '${p.tiles.large}' from ${p.tiles.largeFrom} outputs (${p.tiles.source})`,
  ].join(', ');
}
