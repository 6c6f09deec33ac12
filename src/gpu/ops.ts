// One function per WGSL kernel: each records a dispatch into a Step with the kernel's bindings,
// uniform parameters, override variant and grid, mirroring the arguments of its TypeScript twin
// in src/depass/ops.ts. No orchestration here (that is engine.ts).

import type { DType } from '../model/description';
import { type Step, grid } from './step';
import { tileCols, tileFor, type TileName, tileOverrides, tileRows, TILES } from './tiles';
import type { GpuMatrix } from './weights';

export const DTYPE_CODE: Record<DType, number> = { F32: 0, F16: 1, BF16: 2 };

export interface MatmulArgs {
  X: GPUBuffer; // f32
  W: GPUBuffer; // weights in `wDtype`
  wDtype: DType;
  Y: GPUBuffer; // f32
  bias?: GPUBuffer; // f32
  rowScale?: GPUBuffer; // f32, indexed by row
  rows?: GPUBuffer; // u32 row map of R entries
  R: number;
  N: number;
  K: number;
  batch?: number;
  x0?: number;
  ldx?: number;
  xb?: number;
  w0?: number;
  ldw?: number;
  wb?: number;
  y0?: number;
  ldy?: number;
  yb?: number;
  alpha?: number;
  T?: number;
  bias0?: number;
  biasBlock?: number;
  accumulate?: boolean;
  /** Tile shape; default the device's plan for this output size (tiles.tileFor). */
  tiles?: TileName;
  /** F16 weights multiplied as f16 (default: the device profile's choice); ignored for other dtypes. */
  nativeF16?: boolean;
}

/** Y = alpha X W^T (* scale) (+ bias) (+ Y) with strides; see shaders/matmul.wgsl and ops.gemm. */
export function matmul(step: Step, a: MatmulArgs): Promise<void> {
  const batch = a.batch ?? 1;
  const p = {
    R: a.R,
    N: a.N,
    K: a.K,
    T: a.T ?? Math.max(1, a.R),
    x0: a.x0 ?? 0,
    ldx: a.ldx ?? a.K,
    xb: a.xb ?? 0,
    w0: a.w0 ?? 0,
    ldw: a.ldw ?? a.K,
    wb: a.wb ?? 0,
    y0: a.y0 ?? 0,
    ldy: a.ldy ?? a.N,
    yb: a.yb ?? 0,
    bias0: a.bias0 ?? 0,
    biasBlock: a.biasBlock ?? -1,
    alpha: a.alpha ?? 1,
    flags: 0,
  };
  const vec4 = [p.K, p.x0, p.ldx, p.w0, p.ldw].every((v) => v % 4 === 0) && (batch === 1 || (p.xb % 4 === 0 && p.wb % 4 === 0));
  p.flags = (a.bias ? 1 : 0) | (a.rowScale ? 2 : 0) | (a.rows ? 4 : 0) | (a.accumulate ? 8 : 0) | (vec4 ? 16 : 0);
  const shape = a.tiles ?? tileFor(a.R, a.N, step.pool.profile.tiles);
  const native = a.wDtype === 'F16' && (a.nativeF16 ?? step.pool.profile.nativeF16);
  const kernel = native ? 'matmul_f16' : 'matmul';
  const overrides = native ? tileOverrides(shape) : { ...tileOverrides(shape), W_DTYPE: DTYPE_CODE[a.wDtype] };
  const groups = [Math.ceil(a.N / tileCols(shape)), Math.ceil(a.R / tileRows(shape)), batch] as const;
  return step.run(kernel, overrides, [a.X, a.W, a.bias ?? null, a.rowScale ?? null, a.rows ?? null, a.Y], p, groups, 2 * a.R * a.N * a.K * batch, {
    // Each row of workgroups reads all N x K weights, each column all R x K activations (f32).
    bytes: batch * (groups[1] * a.N * a.K * (a.wDtype === 'F32' ? 4 : 2) + groups[0] * a.R * a.K * 4 + a.R * a.N * 4 * (a.accumulate ? 2 : 1)),
    staged: groups[0] * groups[1] * batch * Math.ceil(a.K / TILES[shape].tk) * TILES[shape].tk * (tileRows(shape) + tileCols(shape)) * (native ? 2 : 4),
  });
}

const WG = 64;

/** out[t] (+)= table[ids[t] - row0] for ids within [row0, row0 + rows); twin ops.gatherRows. */
export function embedding(
  step: Step,
  a: { table: GPUBuffer; dtype: DType; ids: GPUBuffer; out: GPUBuffer; T: number; D: number; row0: number; rows: number; accumulate?: boolean },
): Promise<void> {
  return step.run(
    'embedding',
    { W_DTYPE: DTYPE_CODE[a.dtype] },
    [a.table, a.ids, a.out],
    { T: a.T, D: a.D, row0: a.row0, rows: a.rows, flags: a.accumulate ? 1 : 0 },
    [Math.ceil(a.D / WG), a.T],
  );
}

/** Norm statistics of h (or of h + delta, written to hOut); twins ops.rmsScale, ops.layerNormStats. */
export function normStats(
  step: Step,
  a: { h: GPUBuffer; delta?: GPUBuffer; hOut?: GPUBuffer; scale: GPUBuffer; mean?: GPUBuffer; T: number; D: number; eps: number; layer: boolean },
): Promise<void> {
  if (!!a.delta !== !!a.hOut) throw new Error('normStats: delta and hOut go together');
  if (a.layer && !a.mean) throw new Error('normStats: LayerNorm needs a mean buffer');
  return step.run(
    'norm_stats',
    {},
    [a.h, a.delta ?? null, a.hOut ?? null, a.scale, a.mean ?? null],
    { T: a.T, D: a.D, eps: a.eps, flags: (a.layer ? 1 : 0) | (a.delta ? 2 : 0) },
    [a.T],
  );
}

/** Frozen-scale norm of R rows (optionally row-mapped); twin ops.normApply with betaRows = block betaBlock. */
export function normApply(
  step: Step,
  a: {
    x: GPUBuffer;
    scale: GPUBuffer;
    gamma: GPUBuffer;
    beta?: GPUBuffer;
    rows?: GPUBuffer;
    y: GPUBuffer;
    R: number;
    D: number;
    T: number;
    center: boolean;
    betaBlock?: number;
    /** Add the result to y. */
    accumulate?: boolean;
  },
): Promise<void> {
  return step.run(
    'norm_apply',
    {},
    [a.x, a.scale, a.gamma, a.beta ?? null, a.rows ?? null, a.y],
    {
      R: a.R,
      D: a.D,
      T: a.T,
      betaBlock: a.betaBlock ?? -1,
      flags: (a.center ? 1 : 0) | (a.beta ? 2 : 0) | (a.rows ? 4 : 0) | (a.accumulate ? 8 : 0),
    },
    grid(a.R),
  );
}

/** Per-head RMSNorm in place on x [rows, dh]; twin ops.headRmsNorm. */
export function headNorm(step: Step, a: { gamma: GPUBuffer; x: GPUBuffer; rows: number; dh: number; eps: number }): Promise<void> {
  return step.run('head_norm', {}, [a.gamma, a.x], { rows: a.rows, dh: a.dh, eps: a.eps }, grid(a.rows));
}

/** Rotate-half RoPE in place on x [T, nh, dh] over the first `rot` dims, from a rope.ts table [2, T, rot/2]; twin ops.rope. */
export function rope(step: Step, a: { table: GPUBuffer; x: GPUBuffer; T: number; nh: number; dh: number; rot?: number }): Promise<void> {
  const rot = a.rot ?? a.dh;
  const n = a.T * a.nh * (rot / 2);
  return step.run('rope', {}, [a.table, a.x], { T: a.T, nh: a.nh, dh: a.dh, rot }, grid(Math.ceil(n / WG)));
}

/** A [H, T, T] from q [T, H, dh] and k [T, Hkv, dh], scores scaled (default 1/sqrt(dh)), capped and windowed; twin ops.attentionProbs. */
export function attentionProbs(
  step: Step,
  a: { q: GPUBuffer; k: GPUBuffer; A: GPUBuffer; T: number; H: number; Hkv: number; dh: number; scale?: number; softcap?: number | null; window?: number },
): Promise<void> {
  const params = { T: a.T, H: a.H, Hkv: a.Hkv, dh: a.dh, scale: a.scale ?? 1 / Math.sqrt(a.dh), softcap: a.softcap ?? 0, window: a.window ?? 0 };
  return step.run('attention_probs', {}, [a.q, a.k, a.A], params, [a.T, a.H]);
}

/** The most head_dim attention_mix.wgsl handles (64 invocations of 4 columns). */
export const MAX_HEAD_DIM = 256;

/** y [M, T, H, dh] = A x v for M components with start skip; twin ops.attentionMix. */
export function attentionMix(
  step: Step,
  a: { A: GPUBuffer; v: GPUBuffer; start: GPUBuffer; y: GPUBuffer; M: number; T: number; H: number; Hkv: number; dh: number },
): Promise<void> {
  if (a.dh > MAX_HEAD_DIM) throw new Error(`attention_mix: head_dim ${a.dh} exceeds ${MAX_HEAD_DIM}`);
  const cg = Math.ceil(a.dh / 4); // column groups of four
  const S = Math.min(32, Math.floor(WG / cg)); // query slots; 4 S queries per workgroup (<= 128, attention_mix's tile)
  return step.run('attention_mix', {}, [a.A, a.v, a.start, a.y], { M: a.M, T: a.T, H: a.H, Hkv: a.Hkv, dh: a.dh, cg, S }, [Math.ceil(a.T / (4 * S)), a.H, a.M]);
}

export const ACTIVATION_CODE = { silu: 0, gelu_tanh: 1, gelu: 2 } as const;

/** a = act(gate) * up (gated) or act(gate) over n elements; twin ops.activation. */
export function activation(step: Step, a: { gate: GPUBuffer; up?: GPUBuffer; a: GPUBuffer; n: number; act: keyof typeof ACTIVATION_CODE }): Promise<void> {
  return step.run('activation', {}, [a.gate, a.up ?? null, a.a], { n: a.n, act: ACTIVATION_CODE[a.act], gated: a.up ? 1 : 0 }, grid(Math.ceil(a.n / WG)));
}

/** y = alpha x + beta y over a strided [R, C] block; twin ops.scaleAdd. */
export function scaleAdd(
  step: Step,
  a: { x?: GPUBuffer; y: GPUBuffer; R: number; C: number; x0?: number; ldx?: number; y0?: number; ldy?: number; alpha: number; beta: number },
): Promise<void> {
  if (!a.x && a.alpha !== 0) throw new Error('scaleAdd: alpha needs x');
  return step.run(
    'scale_add',
    {},
    [a.x ?? null, a.y],
    { R: a.R, C: a.C, x0: a.x0 ?? 0, ldx: a.ldx ?? a.C, y0: a.y0 ?? 0, ldy: a.ldy ?? a.C, alpha: a.alpha, beta: a.beta },
    grid(Math.ceil((a.R * a.C) / WG)),
  );
}

/** c [M, T, J] = shares of the frozen activations; twin ops.mlpShare. */
export function mlpShare(
  step: Step,
  a: {
    g: GPUBuffer;
    a: GPUBuffer;
    start: GPUBuffer;
    c: GPUBuffer;
    M: number;
    T: number;
    J: number;
    a0: number;
    lda: number;
    rule: 'softmax' | 'proportional';
    tau: number;
    guard: number;
    bos: boolean;
  },
): Promise<void> {
  return step.run(
    'mlp_share',
    {},
    [a.g, a.a, a.start, a.c],
    {
      M: a.M,
      T: a.T,
      J: a.J,
      a0: a.a0,
      lda: a.lda,
      tau: a.tau,
      guard: a.guard,
      flags: (a.rule === 'proportional' ? 1 : 0) | (a.bos ? 2 : 0),
    },
    [Math.ceil(a.J / WG), a.T],
  );
}

/** Per-component scores of n target directions; twin ops.readoutScores. */
export function readout(
  step: Step,
  a: {
    C: GPUBuffer;
    dirs: GPUBuffer;
    pos: GPUBuffer;
    scale: GPUBuffer;
    gamma: GPUBuffer;
    beta?: GPUBuffer;
    out: GPUBuffer;
    M: number;
    T: number;
    D: number;
    n: number;
    rest: number;
    center: boolean;
    o0?: number;
    ldo?: number;
  },
): Promise<void> {
  return step.run(
    'readout',
    {},
    [a.C, a.dirs, a.pos, a.scale, a.gamma, a.beta ?? null, a.out],
    { M: a.M, T: a.T, D: a.D, n: a.n, rest: a.rest, o0: a.o0 ?? 0, ldo: a.ldo ?? a.M, flags: (a.center ? 1 : 0) | (a.beta ? 2 : 0) },
    [a.M, a.n],
  );
}

/** Top-k (k <= 8) of each row of logits [T, Vc] into slots o0.. of ids/vals [T, ldo]; twin ops.topK. */
export function topk(
  step: Step,
  a: { logits: GPUBuffer; ids: GPUBuffer; vals: GPUBuffer; T: number; Vc: number; v0: number; o0: number; ldo: number; k: number },
): Promise<void> {
  if (a.k < 1 || a.k > 8) throw new Error(`topk: k = ${a.k} is outside 1..8`);
  return step.run('topk', {}, [a.logits, a.ids, a.vals], { T: a.T, Vc: a.Vc, v0: a.v0, o0: a.o0, ldo: a.ldo, k: a.k }, [a.T]);
}

export interface LinearArgs extends Omit<MatmulArgs, 'W' | 'wDtype' | 'w0' | 'ldw' | 'N' | 'bias0'> {
  W: GpuMatrix;
  /** First row of W used (output column y0 of Y); default 0. */
  n0?: number;
  /** Rows of W used; default all from n0. */
  N?: number;
  /** Offset along each row of W (the K slice starts there); default 0. */
  k0?: number;
}

/**
 * Y = alpha X W[n0:n0+N, k0:k0+K]^T (+ bias[n]) (+ Y) for a model matrix split into row chunks:
 * one matmul dispatch per chunk the row range touches. Bias entries follow W's rows.
 */
export async function linear(step: Step, a: LinearArgs): Promise<void> {
  const n0 = a.n0 ?? 0;
  const N = a.N ?? a.W.rows - n0;
  const k0 = a.k0 ?? 0;
  const cols = a.W.cols;
  if (n0 + N > a.W.rows || k0 + a.K > cols) throw new Error(`linear: ${a.W.name} [${a.W.rows}, ${cols}] has no rows ${n0}+${N}, columns ${k0}+${a.K}`);
  for (const c of a.W.chunks) {
    const ns = Math.max(n0, c.row0);
    const ne = Math.min(n0 + N, c.row0 + c.rows);
    if (ns >= ne) continue;
    await matmul(step, {
      ...a,
      W: c.buffer,
      wDtype: a.W.dtype,
      w0: (ns - c.row0) * cols + k0,
      ldw: cols,
      N: ne - ns,
      y0: (a.y0 ?? 0) + (ns - n0),
      ldy: a.ldy ?? N,
      bias0: ns,
    });
  }
}

/** Embedding rows ids[t] of a (possibly chunked) table into out [T, D], one dispatch per chunk. */
export async function gather(step: Step, a: { table: GpuMatrix; ids: GPUBuffer; out: GPUBuffer; T: number; accumulate?: boolean }): Promise<void> {
  for (const c of a.table.chunks) {
    await embedding(step, {
      table: c.buffer,
      dtype: a.table.dtype,
      ids: a.ids,
      out: a.out,
      T: a.T,
      D: a.table.cols,
      row0: c.row0,
      rows: c.rows,
      accumulate: a.accumulate,
    });
  }
}
