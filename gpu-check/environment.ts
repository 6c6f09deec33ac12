// What the GPU check runs on: the machine (OS, CPUs, glibc, NVIDIA driver), what run.sh found of
// Vulkan (passed in DEPASS_CHECK_VK_* variables), and the WebGPU adapter with every feature and
// limit it offers.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { AdapterReport, GpuCheckReport } from './report';

/** The NVIDIA kernel driver's version: as run.sh read it (a test may stand in for the driver there), else from /proc. */
function nvidiaDriverVersion(): string | null {
  const fromRunSh = process.env.DEPASS_CHECK_NVIDIA_DRIVER;
  if (fromRunSh !== undefined) return fromRunSh || null;
  try {
    // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  ..."
    const v = readFileSync('/proc/driver/nvidia/version', 'utf8');
    return /Kernel Module\s+([\d.]+)/.exec(v)?.[1] ?? v.split('\n')[0]!.trim();
  } catch {
    return null;
  }
}

export function machineInfo(): GpuCheckReport['machine'] {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    glibc: header?.glibcVersionRuntime ?? null,
    nvidiaDriver: nvidiaDriverVersion(),
  };
}

/** run.sh's findings; without run.sh, only the ICD variable the environment sets. */
export function vulkanInfo(env: NodeJS.ProcessEnv = process.env): GpuCheckReport['vulkan'] {
  const split = (s: string | undefined, sep: string) => (s ?? '').split(sep).filter((x) => x);
  if (env.DEPASS_CHECK_VK_LOADER === undefined) {
    const icds = split(env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES, ':');
    return { loader: 'not checked (run without run.sh)', icds: icds.length ? icds : ['the Vulkan loader default'], notes: [] };
  }
  return { loader: env.DEPASS_CHECK_VK_LOADER, icds: split(env.DEPASS_CHECK_VK_ICDS, ':'), notes: split(env.DEPASS_CHECK_VK_NOTES, '\n') };
}

function numericFields(o: object): Record<string, number> {
  const out: Record<string, number> = {};
  const names = new Set<string>();
  for (let p: object | null = o; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) for (const k of Object.getOwnPropertyNames(p)) names.add(k);
  for (const k in o) names.add(k);
  for (const k of [...names].sort()) {
    const v = (o as Record<string, unknown>)[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/** The adapter a high-performance request gets, with all its features and limits. */
export async function adapterReport(gpu: GPU): Promise<Omit<AdapterReport, 'deviceFeatures'> | null> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const info = adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    features: [...adapter.features].map(String).sort(),
    limits: numericFields(adapter.limits),
  };
}
