// The TypeScript twins of the WGSL kernels: each function here computes what one kernel in
// shaders/ computes, with the same memory layout, so tests can compare them element by element.
// Plain loops over Float32Array, accumulating in f64 (JS numbers); no allocation in the hot
// loops beyond the output. Layouts are row-major and stated on every function.

/** Per-row inverse RMS: s[t] = 1 / sqrt(mean_d(h[t, d]^2) + eps). h [T, D], s [T].
 *  The twin of shaders/norm_stats.wgsl for RMSNorm. */
export function rmsScale(h: Float32Array, T: number, D: number, eps: number): Float32Array {
  const s = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let d = 0; d < D; d++) ss += h[t * D + d] * h[t * D + d];
    s[t] = 1 / Math.sqrt(ss / D + eps);
  }
  return s;
}

/** Per-row mean and inverse std for LayerNorm. h [T, D]; mean [T], s [T].
 *  The twin of shaders/norm_stats.wgsl for LayerNorm. */
export function layerNormStats(h: Float32Array, T: number, D: number, eps: number): { mean: Float32Array; s: Float32Array } {
  const mean = new Float32Array(T);
  const s = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    let sum = 0;
    for (let d = 0; d < D; d++) sum += h[t * D + d];
    const mu = sum / D;
    let v = 0;
    for (let d = 0; d < D; d++) v += (h[t * D + d] - mu) ** 2;
    mean[t] = mu;
    s[t] = 1 / Math.sqrt(v / D + eps);
  }
  return { mean, s };
}

/**
 * Frozen-scale normalisation of rows: y[r, d] = gamma[d] * (x[r, d] - c[r]) * scale[pos(r)] (+ beta[d]
 * where addBeta[r]). c[r] is the row's own mean when `center` (LayerNorm on a component), else 0.
 * x, y [R, D]; scale indexed by position = r % T (rows are components x positions). With
 * `accumulate`, the result is added into that array (which is also returned).
 * The twin of shaders/norm_apply.wgsl.
 */
export function normApply(
  x: Float32Array,
  R: number,
  D: number,
  T: number,
  scale: Float32Array,
  gamma: Float32Array,
  opts: { center?: boolean; beta?: Float32Array; betaRows?: (r: number) => boolean; accumulate?: Float32Array } = {},
): Float32Array {
  const y = opts.accumulate ?? new Float32Array(R * D);
  for (let r = 0; r < R; r++) {
    let c = 0;
    if (opts.center) {
      for (let d = 0; d < D; d++) c += x[r * D + d];
      c /= D;
    }
    const s = scale[r % T];
    const addBeta = opts.beta && (!opts.betaRows || opts.betaRows(r));
    for (let d = 0; d < D; d++) {
      let v = gamma[d] * (x[r * D + d] - c) * s;
      if (addBeta) v += opts.beta![d];
      y[r * D + d] = opts.accumulate ? y[r * D + d] + v : v;
    }
  }
  return y;
}

/**
 * Rotate-half RoPE in place on x [T, nh, dh] over the first `rot` dims of each head (the rest pass
 * through), with cos/sin from a table [2, T, rot/2] (rope.ts ropeTable). The twin of shaders/rope.wgsl.
 */
export function rope(x: Float32Array, T: number, nh: number, dh: number, table: Float32Array, rot = dh): void {
  const half = rot / 2;
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const c = table[t * half + i];
      const s = table[(T + t) * half + i];
      for (let h = 0; h < nh; h++) {
        const o = (t * nh + h) * dh;
        const a = x[o + i];
        const b = x[o + i + half];
        x[o + i] = a * c - b * s;
        x[o + i + half] = b * c + a * s;
      }
    }
  }
}

/** Per-head RMSNorm of q or k rows (Qwen3): x [T, nh, dh] in place, gamma [dh]. */
export function headRmsNorm(x: Float32Array, T: number, nh: number, dh: number, gamma: Float32Array, eps: number): void {
  for (let r = 0; r < T * nh; r++) {
    let ss = 0;
    for (let i = 0; i < dh; i++) ss += x[r * dh + i] ** 2;
    const s = 1 / Math.sqrt(ss / dh + eps);
    for (let i = 0; i < dh; i++) x[r * dh + i] = gamma[i] * x[r * dh + i] * s;
  }
}

/**
 * Causal attention probabilities. q [T, H, dh], k [T, Hkv, dh] (already roped); returns
 * A [H, T, T] with A[h][q][k] = softmax over visible k of cap(q.k * scale), zeros elsewhere;
 * scale defaults to 1/sqrt(dh), cap(s) = softcap * tanh(s / softcap) when softcap > 0, and with a
 * window W > 0 the visible keys are q - W < k <= q. Query head h reads KV head floor(h / (H / Hkv)).
 * The twin of shaders/attention_probs.wgsl.
 */
export function attentionProbs(
  q: Float32Array,
  k: Float32Array,
  T: number,
  H: number,
  Hkv: number,
  dh: number,
  opts: { scale?: number; softcap?: number; window?: number } = {},
): Float32Array {
  const A = new Float32Array(H * T * T);
  const group = H / Hkv;
  const scale = opts.scale ?? 1 / Math.sqrt(dh);
  const cap = opts.softcap ?? 0;
  const W = opts.window ?? 0;
  const row = new Float64Array(T);
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / group);
    for (let i = 0; i < T; i++) {
      const j0 = W > 0 ? Math.max(0, i + 1 - W) : 0;
      let max = -Infinity;
      for (let j = j0; j <= i; j++) {
        let dot = 0;
        for (let e = 0; e < dh; e++) dot += q[(i * H + h) * dh + e] * k[(j * Hkv + g) * dh + e];
        let s = dot * scale;
        if (cap > 0) s = cap * Math.tanh(s / cap);
        row[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = j0; j <= i; j++) {
        row[j] = Math.exp(row[j] - max);
        sum += row[j];
      }
      for (let j = j0; j <= i; j++) A[(h * T + i) * T + j] = row[j] / sum;
    }
  }
  return A;
}

/**
 * Frozen attention mixing for M components at once: y[m, q, h, :] = sum_{k<=q} A[h, q, k] v[m, k, g(h), :].
 * v [M, T, Hkv, dh], y [M, T, H, dh]. Rows q < start[m] are structurally zero and skipped
 * (their inputs are zero too, so k ranges over start[m]..q). The twin of shaders/attention_mix.wgsl.
 */
export function attentionMix(A: Float32Array, v: Float32Array, M: number, T: number, H: number, Hkv: number, dh: number, start: Int32Array): Float32Array {
  const y = new Float32Array(M * T * H * dh);
  const group = H / Hkv;
  for (let m = 0; m < M; m++) {
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / group);
      for (let i = start[m]; i < T; i++) {
        const yo = ((m * T + i) * H + h) * dh;
        for (let j = start[m]; j <= i; j++) {
          const a = A[(h * T + i) * T + j];
          if (a === 0) continue;
          const vo = ((m * T + j) * Hkv + g) * dh;
          for (let e = 0; e < dh; e++) y[yo + e] += a * v[vo + e];
        }
      }
    }
  }
  return y;
}

export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** GELU with the tanh approximation (GPT-2's gelu_new, gelu_pytorch_tanh). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** Exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), with the erf below. */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/**
 * erf by Abramowitz and Stegun 7.1.26, the formula shaders/activation.wgsl evaluates in f32 (so
 * the twins differ by f32 rounding only). Its absolute error is below 1.5e-7, about one f32 step
 * of values near 1; ops.test.ts bounds it against a float64 erf. GELU inherits 0.75e-7 |x|.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return Math.sign(x) * (1 - poly * Math.exp(-ax * ax));
}

export type Activation = 'silu' | 'gelu_tanh' | 'gelu';

export function activation(kind: Activation): (x: number) => number {
  return kind === 'silu' ? silu : kind === 'gelu_tanh' ? geluTanh : geluErf;
}

/**
 * The DePass MLP share for one neuron tile. For every (t, j) of the tile, the frozen activation
 * a[t, j] is handed to the participating components in proportion to
 *   softmax_m(g[m, t, j] / tau)        (rule 'softmax'), or
 *   g[m, t, j] / sum_m g[m, t, j]      (rule 'proportional'; even split when the sum is ~0).
 * g [M, T, J] (each component's gate/fc pre-activation), a [T, J]; returns c [M, T, J] with
 * c = alpha * a. Component m takes part at t when start[m] <= t and, with the BOS rule, not
 * (m == 0 and t > 0). The pass plan makes sure someone always does (plan.ts).
 * The twin of shaders/mlp_share.wgsl.
 */
export function mlpShare(
  g: Float32Array,
  a: Float32Array,
  M: number,
  T: number,
  J: number,
  start: Int32Array,
  rule: 'softmax' | 'proportional',
  tau: number,
  bos = false,
): Float32Array {
  const c = new Float32Array(M * T * J);
  const takes = new Uint8Array(M);
  for (let t = 0; t < T; t++) {
    for (let m = 0; m < M; m++) takes[m] = start[m] <= t && !(bos && m === 0 && t > 0) ? 1 : 0;
    for (let j = 0; j < J; j++) {
      const aj = a[t * J + j];
      if (rule === 'softmax') {
        let max = -Infinity;
        for (let m = 0; m < M; m++) if (takes[m]) max = Math.max(max, g[(m * T + t) * J + j] / tau);
        let sum = 0;
        for (let m = 0; m < M; m++) if (takes[m]) sum += Math.exp(g[(m * T + t) * J + j] / tau - max);
        for (let m = 0; m < M; m++) {
          if (!takes[m]) continue;
          c[(m * T + t) * J + j] = (Math.exp(g[(m * T + t) * J + j] / tau - max) / sum) * aj;
        }
      } else {
        let sum = 0;
        let abs = 0;
        let n = 0;
        for (let m = 0; m < M; m++) {
          if (!takes[m]) continue;
          const v = g[(m * T + t) * J + j];
          sum += v;
          abs += Math.abs(v);
          n++;
        }
        const even = Math.abs(sum) <= PROPORTIONAL_GUARD * Math.max(abs, 1e-30);
        for (let m = 0; m < M; m++) {
          if (!takes[m]) continue;
          const alpha = even ? 1 / n : g[(m * T + t) * J + j] / sum;
          c[(m * T + t) * J + j] = alpha * aj;
        }
      }
    }
  }
  return c;
}

/** Below this |sum g| / sum |g| the proportional rule's shares explode; split evenly instead. */
export const PROPORTIONAL_GUARD = 1e-6;

/** Indices of the k largest values (ties by lower index), for top-k read-outs. */
export function topK(values: ArrayLike<number>, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (idx.length < k) {
      idx.push(i);
      idx.sort((a, b) => values[b] - values[a] || a - b);
    } else if (values[i] > values[idx[k - 1]]) {
      idx[k - 1] = i;
      idx.sort((a, b) => values[b] - values[a] || a - b);
    }
  }
  return idx;
}

/**
 * Embedding gather from one chunk of rows: out[t, :] = table[ids[t] - row0, :] (+ out[t, :] when
 * `accumulate`) for ids[t] in [row0, row0 + rows); other rows of out are left alone.
 * table [rows, D], out [T, D]. The twin of shaders/embedding.wgsl.
 */
export function gatherRows(
  table: Float32Array,
  ids: ArrayLike<number>,
  D: number,
  out: Float32Array,
  opts: { row0?: number; rows?: number; accumulate?: boolean } = {},
): void {
  const row0 = opts.row0 ?? 0;
  const rows = opts.rows ?? table.length / D;
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (id < row0 || id >= row0 + rows) continue;
    for (let d = 0; d < D; d++) {
      const v = table[(id - row0) * D + d];
      out[t * D + d] = opts.accumulate ? out[t * D + d] + v : v;
    }
  }
}

/**
 * Strided scaled add over a [R, C] block: y[y0 + r*ldy + c] = alpha * x[x0 + r*ldx + c] + beta * y[...],
 * y not read when beta is 0, x not read when alpha is 0; ldx = 0 broadcasts one row.
 * The twin of shaders/scale_add.wgsl.
 */
export function scaleAdd(
  x: Float32Array | null,
  y: Float32Array,
  p: { R: number; C: number; x0?: number; ldx?: number; y0?: number; ldy?: number; alpha: number; beta: number },
): void {
  const ldx = p.ldx ?? p.C;
  const ldy = p.ldy ?? p.C;
  for (let r = 0; r < p.R; r++) {
    for (let c = 0; c < p.C; c++) {
      const e = (p.y0 ?? 0) + r * ldy + c;
      let v = p.alpha !== 0 ? p.alpha * x![(p.x0 ?? 0) + r * ldx + c] : 0;
      if (p.beta !== 0) v += p.beta * y[e];
      y[e] = v;
    }
  }
}

/**
 * Per-component read-out of target directions through a frozen norm: out[i * M + m] = scale[p_i] * dir_i . (gamma * (C[m, p_i] - c_m))
 * (+ dir_i . beta for m = rest), c_m the row mean when `center`. C [M, T, D], dirs [n, D].
 * The twin of shaders/readout.wgsl.
 */
export function readoutScores(
  C: Float32Array,
  M: number,
  T: number,
  D: number,
  rest: number,
  dirs: Float32Array,
  positions: ArrayLike<number>,
  scale: Float32Array,
  gamma: Float32Array,
  opts: { center?: boolean; beta?: Float32Array } = {},
): Float64Array {
  const n = positions.length;
  const out = new Float64Array(n * M);
  for (let i = 0; i < n; i++) {
    const p = positions[i];
    for (let m = 0; m < M; m++) {
      const o = (m * T + p) * D;
      let centre = 0;
      if (opts.center) {
        for (let d = 0; d < D; d++) centre += C[o + d];
        centre /= D;
      }
      let acc = 0;
      for (let d = 0; d < D; d++) acc += dirs[i * D + d] * gamma[d] * (C[o + d] - centre);
      acc *= scale[p];
      if (m === rest && opts.beta) for (let d = 0; d < D; d++) acc += dirs[i * D + d] * opts.beta[d];
      out[i * M + m] = acc;
    }
  }
  return out;
}
