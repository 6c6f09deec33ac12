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

/** Ranks 1..n with ties given their mean rank. */
function ranks(xs: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: xs.length }, (_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const r = new Float64Array(xs.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1]] === xs[order[i]]) j++;
    for (let k = i; k <= j; k++) r[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation: Pearson's on the ranks (ties averaged); 0 when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} scores against ${b.length}`);
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}
