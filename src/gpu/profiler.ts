// Opt-in GPU time per kernel from timestamp queries: with a profiler attached to a StepPool,
// every dispatch runs in its own compute pass with timestamps (which serialises kernels, so use
// it to find where time goes, not to time a run). Needs the `timestamp-query` feature.

export interface KernelTime {
  kernel: string;
  dispatches: number;
  ms: number;
  /** Floating-point operations the dispatches reported (matmuls), for GFLOP/s. */
  flops: number;
}

export class GpuProfiler {
  private totals = new Map<string, KernelTime>();

  constructor(readonly device: GPUDevice) {
    if (!device.features.has('timestamp-query')) throw new Error('profiling needs the timestamp-query feature');
  }

  /** Adds measured durations (nanoseconds) of labelled dispatches. */
  add(kernel: string, ns: number, flops: number): void {
    let t = this.totals.get(kernel);
    if (!t) {
      t = { kernel, dispatches: 0, ms: 0, flops: 0 };
      this.totals.set(kernel, t);
    }
    t.dispatches++;
    t.ms += ns / 1e6;
    t.flops += flops;
  }

  /** Per-kernel totals, slowest first. */
  report(): KernelTime[] {
    return [...this.totals.values()].sort((a, b) => b.ms - a.ms);
  }

  reset(): void {
    this.totals.clear();
  }

  /** A plain-text table of the report. */
  format(): string {
    const rows = this.report();
    const total = rows.reduce((s, r) => s + r.ms, 0);
    const lines = rows.map(
      (r) =>
        `${r.kernel.padEnd(28)} ${String(r.dispatches).padStart(6)} ${r.ms.toFixed(2).padStart(10)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}%` +
        (r.flops ? ` ${(r.flops / r.ms / 1e6).toFixed(2).padStart(8)} GFLOP/s` : ''),
    );
    return [`${'kernel'.padEnd(28)} ${'count'.padStart(6)} ${'time'.padStart(13)}`, ...lines, `total ${total.toFixed(2)} ms`].join('\n');
  }
}
