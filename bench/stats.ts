// Timing helpers for the benchmark: wall-clock samples around work that ends in a GPU fence, and
// their median. No GPU code here; callers pass the work and its fence.

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Timing {
  /** Median milliseconds of one unit of work (a sample's time over its repeats). */
  ms: number;
  /** Every sample, per unit of work. */
  samples: number[];
  /** Units of work per sample (several when one is too short to time on its own). */
  repeats: number;
}

/**
 * Times `run(repeats)`, which must return only once the GPU has finished (a fence or a read-back):
 * `warmup` untimed calls, then `reps` samples. Repeats per sample are chosen from the last warm-up
 * so that a sample lasts at least `minSampleMs` (short kernels on fast GPUs are fence-dominated).
 */
export async function timeIt(run: (repeats: number) => Promise<void>, opts: { warmup?: number; reps?: number; minSampleMs?: number } = {}): Promise<Timing> {
  const warmup = Math.max(1, opts.warmup ?? 1);
  const reps = Math.max(1, opts.reps ?? 3);
  let one = Infinity;
  for (let i = 0; i < warmup; i++) {
    const t0 = performance.now();
    await run(1);
    one = performance.now() - t0;
  }
  const repeats = Math.max(1, Math.min(1000, Math.ceil((opts.minSampleMs ?? 0) / Math.max(one, 1e-3))));
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run(repeats);
    samples.push((performance.now() - t0) / repeats);
  }
  return { ms: median(samples), samples, repeats };
}

/** Wall-clock milliseconds of one awaited call. */
export async function timeOnce<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** Spearman rank correlation (average ranks for ties). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const rank = (x: ArrayLike<number>) => {
    const idx = Array.from({ length: x.length }, (_, i) => i).sort((i, j) => x[i]! - x[j]!);
    const r = new Array<number>(x.length);
    for (let i = 0; i < idx.length; ) {
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

/**
 * Times several contenders on the same work, alternating them sample by sample so that a slow
 * spell of a shared machine falls on all of them alike. Each is warmed up first; repeats per
 * sample are chosen per contender as in timeIt.
 */
export async function timeInterleaved(
  runs: Record<string, (repeats: number) => Promise<void>>,
  opts: { warmup?: number; reps?: number; minSampleMs?: number } = {},
): Promise<Record<string, Timing>> {
  const names = Object.keys(runs);
  const repeats: Record<string, number> = {};
  for (const name of names) {
    let one = Infinity;
    for (let i = 0; i < Math.max(1, opts.warmup ?? 1); i++) {
      const t0 = performance.now();
      await runs[name]!(1);
      one = performance.now() - t0;
    }
    repeats[name] = Math.max(1, Math.min(1000, Math.ceil((opts.minSampleMs ?? 0) / Math.max(one, 1e-3))));
  }
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < Math.max(1, opts.reps ?? 3); i++) {
    for (const name of names) {
      const t0 = performance.now();
      await runs[name]!(repeats[name]!);
      samples[name]!.push((performance.now() - t0) / repeats[name]!);
    }
  }
  return Object.fromEntries(names.map((n) => [n, { ms: median(samples[n]!), samples: samples[n]!, repeats: repeats[n]! }]));
}
