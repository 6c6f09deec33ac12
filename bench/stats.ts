// Timing helpers for the benchmark: wall-clock samples around work that ends in a GPU fence, and
// their median. Each sample also records the CPU time the process used: on a software adapter
// (lavapipe, SwiftShader) the GPU's work runs on this process's threads, so CPU time measures the
// work itself, which other processes on a shared machine do not inflate as they do wall time.
// No GPU code here; callers pass the work and its fence.

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Timing {
  /** Median wall-clock milliseconds of one unit of work (a sample's time over its repeats). */
  ms: number;
  /** Every sample, per unit of work. */
  samples: number[];
  /** Median process CPU milliseconds (user + system, all threads) of one unit of work; NaN in a page. */
  cpuMs: number;
  /** Units of work per sample (several when one is too short to time on its own). */
  repeats: number;
}

/** Process CPU milliseconds so far; NaN where there is no process to ask (a browser page). */
function cpuNow(): number {
  const proc = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (!proc?.cpuUsage) return NaN;
  const u = proc.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Wall-clock and process CPU milliseconds of one awaited call. */
export async function timeOnce<T>(fn: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  const c0 = cpuNow();
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, cpuMs: cpuNow() - c0, value };
}

/**
 * Times several contenders on the same work, alternating them sample by sample so that a slow
 * spell of a shared machine falls on all of them alike. `run(repeats)` must return only once the
 * GPU has finished (a fence or a read-back). Each is warmed up first; repeats per sample are
 * chosen from the warm-up so that a sample lasts at least `minSampleMs` (short kernels on fast
 * GPUs are fence-dominated).
 */
export async function timeInterleaved(
  runs: Record<string, (repeats: number) => Promise<void>>,
  opts: { warmup?: number; reps?: number; minSampleMs?: number } = {},
): Promise<Record<string, Timing>> {
  const names = Object.keys(runs);
  const repeats: Record<string, number> = {};
  for (const name of names) {
    let one = Infinity;
    for (let i = 0; i < Math.max(1, opts.warmup ?? 1); i++) one = (await timeOnce(() => runs[name]!(1))).ms;
    repeats[name] = Math.max(1, Math.min(1000, Math.ceil((opts.minSampleMs ?? 0) / Math.max(one, 1e-3))));
  }
  const wall: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < Math.max(1, opts.reps ?? 3); i++) {
    for (const name of names) {
      const r = repeats[name]!;
      const t = await timeOnce(() => runs[name]!(r));
      wall[name]!.push(t.ms / r);
      cpu[name]!.push(t.cpuMs / r);
    }
  }
  return Object.fromEntries(names.map((n) => [n, { ms: median(wall[n]!), samples: wall[n]!, cpuMs: median(cpu[n]!), repeats: repeats[n]! }]));
}

/** Spearman rank correlation (average ranks for ties). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const rank = (x: ArrayLike<number>) => {
    const idx = Array.from({ length: x.length }, (_, i) => i).sort((i, j) => x[i]! - x[j]!);
    const r = new Array<number>(x.length);
    for (let i = 0; i < idx.length;) {
      let j = i;
      while (j + 1 < idx.length && x[idx[j + 1]!] === x[idx[i]!]) j++;
      for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = ra.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n;
  const mb = rb.reduce((s, v) => s + v, 0) / n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}
