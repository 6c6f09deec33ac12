// The kernel part of the benchmark inside a browser page: our matmul against TF.js's WebGPU
// backend on the page's adapter. bench/browser/chromium.ts builds this page with Vite, opens it in
// Chromium and calls window.benchKernels; nothing here runs in Node.

import { adapterName, createDevice } from '../../src/gpu/device';
import { shaderLoaderFromModules } from '../../src/gpu/kernels';
import { devicePool } from '../../src/gpu/tuning';
import { benchKernels, type KernelRow, type KernelShape } from '../kernel';
import { loadTfMatmul, type TfLayout } from '../tfjs';

const shaders = import.meta.glob('/shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

export interface PageKernelResult {
  adapter: string;
  description: string;
  userAgent: string;
  rows: KernelRow[];
  log: string[];
}

async function benchKernelsInPage(
  shapes: KernelShape[],
  fallbackShapes: KernelShape[],
  opts: { reps: number; minSampleMs: number; tfPrograms: number[]; tfLayouts: TfLayout[] },
): Promise<PageKernelResult> {
  const ctx = await createDevice(navigator.gpu);
  const pool = await devicePool(ctx, shaderLoaderFromModules(shaders), { calibrate: true }); // as the Node part does
  const log: string[] = [];
  const tf = await loadTfMatmul();
  const rows = await benchKernels(pool, tf, ctx.adapter.isFallbackAdapter ? fallbackShapes : shapes, { ...opts, log: (s) => log.push(s) });
  ctx.device.destroy();
  return { adapter: adapterName(ctx.adapter), description: ctx.adapter.description, userAgent: navigator.userAgent, rows, log };
}

(window as unknown as { benchKernels: typeof benchKernelsInPage }).benchKernels = benchKernelsInPage;
document.title = 'ready';
