// Every WGSL kernel against its TypeScript twin in src/depass/ops.ts, as plain async functions:
// shapes that are not multiples of the workgroup or tile sizes, one-row cases, f32/f16/bf16
// weights, and the kernel registry's bindings against the WGSL declarations. The same list runs
// under Vitest (src/gpu/kernels.test.ts) and in the self-contained GPU check; matmul is in matmul-checks.ts.

import '../float16-polyfill';
import { makeShaderDataDefinitions } from 'webgpu-utils';
import * as twin from '../../depass/ops';
import { ropeTable } from '../../depass/rope';
import { type RopeSpec } from '../../model/description';
import type { DType } from '../../model/description';
import { readF32, readU32, uploadStorage } from '../buffers';
import { KernelCache, KERNELS, shaderLoaderFromModules, type KernelName } from '../kernels';
import * as ops from '../ops';
import { Step } from '../step';
import { maxAbs, randn, weightsIn } from './compare';
import type { TestGpu } from './gpu-env';
import type { Tally } from './tally';

export interface KernelCheck {
  name: string;
  run(gpu: TestGpu, t: Tally): Promise<void>;
}

const DTYPES: DType[] = ['F32', 'F16', 'BF16'];

const plainRope = (dim: number, theta: number): RopeSpec => ({ theta, dim, local_theta: null, scaling: { kind: 'none' } });

function helpers(gpu: TestGpu) {
  const up = (label: string, data: ArrayBufferView) => uploadStorage(gpu.ctx.device, label, data);
  const read = (b: GPUBuffer, n: number) => readF32(gpu.ctx.device, b, 0, n);
  const step = async (label: string, record: (s: Step) => Promise<void>) => {
    const s = new Step(gpu.pool, label);
    await record(s);
    await s.submit();
  };
  return { up, read, step };
}

/** Every kernel but matmul. */
export const KERNEL_CHECKS: KernelCheck[] = [];
const check = (name: string, run: KernelCheck['run']) => KERNEL_CHECKS.push({ name, run });

check('registry bindings match the WGSL declarations, in order inputs, outputs, params', async (gpu, t) => {
  for (const name of Object.keys(KERNELS) as KernelName[]) {
    const defs = makeShaderDataDefinitions(gpu.kernels.source(name));
    const resources = defs.entryPoints.main!.resources;
    const declared = new Map(resources.map((r) => [r.entry.binding, r]));
    const spec = KERNELS[name].bindings;
    t.equal(declared.size, spec.length, `${name}: number of bindings`);
    spec.forEach(([bname, kind], binding) => {
      const r = declared.get(binding);
      t.equal(r?.name, bname, `${name} binding ${binding}`);
      const type = r!.entry.buffer?.type ?? 'uniform';
      t.equal(type, kind === 'read' ? 'read-only-storage' : kind === 'write' ? 'storage' : 'uniform', `${name}.${bname}`);
    });
    t.equal(spec[spec.length - 1]![0], 'params', `${name}: last binding`);
  }
});

check('a loader from bundler modules finds shaders by file name', async (gpu, t) => {
  const load = shaderLoaderFromModules({ '/shaders/topk.wgsl': { default: gpu.kernels.source('topk') }, '/shaders/rope.wgsl?raw': 'x' });
  t.equal(load('topk'), gpu.kernels.source('topk'), 'topk source');
  t.equal(load('rope'), 'x', 'rope source');
  t.throws(() => load('matmul'), /matmul\.wgsl is missing/, 'missing shader');
});

check('a WGSL compile error names the shader and the line', async (gpu, t) => {
  const broken = new KernelCache(
    gpu.ctx.device,
    () => 'struct Params { n: u32, }\n@group(0) @binding(0) var<uniform> params: Params;\n@compute @workgroup_size(1) fn main() { let x: f32 = nope; }\n',
  );
  await t.rejects(broken.get('scale_add'), /shaders\/scale_add\.wgsl:3:\d+/, 'compile error');
});

for (const dtype of DTYPES) {
  check(`embedding gather from a split table (${dtype}), then learned positions accumulated`, async (gpu, t) => {
    const { up, read, step } = helpers(gpu);
    const V = 23;
    const D = 70;
    const T = 9;
    const w = weightsIn(dtype, randn(V * D, 11));
    const P = randn(12 * D, 12);
    const ids = new Uint32Array([5, 0, 22, 11, 12, 5, 13, 21, 1]);
    // Two chunks of rows, as for a table larger than one binding: rows 0..11 and 12..22.
    const chunks = [
      { row0: 0, rows: 12 },
      { row0: 12, rows: 11 },
    ];
    const want = new Float32Array(T * D);
    for (const c of chunks) twin.gatherRows(w.f32.subarray(c.row0 * D, (c.row0 + c.rows) * D), ids, D, want, c);
    twin.gatherRows(
      P,
      Uint32Array.from({ length: T }, (_, i) => i),
      D,
      want,
      { accumulate: true },
    );
    const rowBytes = D * (dtype === 'F32' ? 4 : 2);
    const tables = chunks.map((c) => up(`table ${c.row0}`, w.bytes.subarray(c.row0 * rowBytes, (c.row0 + c.rows) * rowBytes)));
    const bIds = up('ids', ids);
    const bPos = up(
      'positions',
      Uint32Array.from({ length: T }, (_, i) => i),
    );
    const bP = up('P', P);
    const out = up('out', new Float32Array(T * D));
    await step('embedding', async (s) => {
      for (const [i, c] of chunks.entries()) await ops.embedding(s, { table: tables[i]!, dtype, ids: bIds, out, T, D, ...c });
      await ops.embedding(s, { table: bP, dtype: 'F32', ids: bPos, out, T, D, row0: 0, rows: 12, accumulate: true });
    });
    t.close('embedding', await read(out, T * D), want, 0);
  });
}

for (const layer of [false, true]) {
  check(`norm statistics (${layer ? 'LayerNorm' : 'RMSNorm'}), plain and fused with the residual add`, async (gpu, t) => {
    const { up, read, step } = helpers(gpu);
    const T = 5;
    const D = 131;
    const h = randn(T * D, 21, 2);
    for (let d = 0; d < D; d++) h[d] += 3; // an offset row: the LayerNorm variance must not cancel
    const delta = randn(T * D, 22);
    const sum = h.map((v, i) => v + delta[i]!);
    const stats = (x: Float32Array) => (layer ? twin.layerNormStats(x, T, D, 1e-5) : { s: twin.rmsScale(x, T, D, 1e-5), mean: undefined });
    const bH = up('h', h);
    const bDelta = up('delta', delta);
    const bOut = up('hOut', new Float32Array(T * D));
    const scale1 = up('scale1', new Float32Array(T));
    const scale2 = up('scale2', new Float32Array(T));
    const mean1 = up('mean1', new Float32Array(T));
    const mean2 = up('mean2', new Float32Array(T));
    await step('norm stats', async (s) => {
      await ops.normStats(s, { h: bH, scale: scale1, mean: mean1, T, D, eps: 1e-5, layer });
      await ops.normStats(s, { h: bH, delta: bDelta, hOut: bOut, scale: scale2, mean: mean2, T, D, eps: 1e-5, layer });
    });
    const w1 = stats(h);
    const w2 = stats(sum);
    t.close('scale', await read(scale1, T), w1.s);
    t.close('scale, fused', await read(scale2, T), w2.s);
    t.close('residual sum', await read(bOut, T * D), sum, 1e-7);
    if (layer) {
      t.close('mean', await read(mean1, T), w1.mean!);
      t.close('mean, fused', await read(mean2, T), w2.mean!);
    }
  });
}

check('norm apply: RMSNorm rows, LayerNorm per-row centring with beta on one block, row map', async (gpu, t) => {
  const { up, read, step } = helpers(gpu);
  const T = 4;
  const M = 3;
  const D = 67;
  const x = randn(M * T * D, 31);
  const scale = randn(T, 32).map(Math.abs);
  const gamma = randn(D, 33);
  const beta = randn(D, 34);
  // RMS, all rows, one row only (R = 1) too.
  const wantRms = twin.normApply(x, M * T, D, T, scale, gamma);
  // LayerNorm with beta on block 2 only, restricted to the active rows listed in `rows`.
  const rows = new Uint32Array([1, 2, 3, 6, 7, 8, 9, 10, 11]);
  const wantLn = twin.normApply(x, M * T, D, T, scale, gamma, { center: true, beta, betaRows: (r) => Math.floor(r / T) === 2 });
  const bX = up('x', x);
  const bS = up('scale', scale);
  const bG = up('gamma', gamma);
  const bB = up('beta', beta);
  const bRows = up('rows', rows);
  const yRms = up('y rms', new Float32Array(M * T * D));
  const yLn = up('y ln', new Float32Array(M * T * D));
  await step('norm apply', async (s) => {
    await ops.normApply(s, { x: bX, scale: bS, gamma: bG, y: yRms, R: M * T, D, T, center: false });
    await ops.normApply(s, { x: bX, scale: bS, gamma: bG, beta: bB, rows: bRows, y: yLn, R: rows.length, D, T, center: true, betaBlock: 2 });
  });
  t.close('RMSNorm', await read(yRms, M * T * D), wantRms);
  const got = await read(yLn, M * T * D);
  for (const r of rows) t.close(`LayerNorm row ${r}`, got.subarray(r * D, (r + 1) * D), wantLn.subarray(r * D, (r + 1) * D));
  t.equal(maxAbs(got.subarray(0, D)), 0, 'row 0 is not in the map: untouched');
});

check('norm apply accumulating into its output (a post-norm joining the residual)', async (gpu, t) => {
  const { up, read, step } = helpers(gpu);
  const T = 5;
  const D = 70;
  const R = 3 * T;
  const x = randn(R * D, 35);
  const scale = randn(T, 36).map(Math.abs);
  const gamma = randn(D, 37);
  const y0 = randn(R * D, 38);
  const want = twin.normApply(x, R, D, T, scale, gamma, { accumulate: y0.slice() });
  const rows = new Uint32Array([0, 4, 5, 14]);
  const wantRows = y0.slice();
  for (const r of rows) wantRows.set(want.subarray(r * D, (r + 1) * D), r * D);
  const bY = up('y', y0);
  const bY2 = up('y rows', y0);
  const [bX, bS, bG, bR] = [up('x', x), up('scale', scale), up('gamma', gamma), up('rows', rows)];
  await step('norm apply accumulate', async (s) => {
    await ops.normApply(s, { x: bX, scale: bS, gamma: bG, y: bY, R, D, T, center: false, accumulate: true });
    await ops.normApply(s, { x: bX, scale: bS, gamma: bG, rows: bR, y: bY2, R: rows.length, D, T, center: false, accumulate: true });
  });
  t.close('accumulated', await read(bY, R * D), want);
  t.close('accumulated on mapped rows only', await read(bY2, R * D), wantRows);
});

check('per-head RMSNorm and rotate-half RoPE', async (gpu, t) => {
  const { up, read, step } = helpers(gpu);
  const T = 7;
  const nh = 3;
  const dh = 10;
  const x = randn(T * nh * dh, 41);
  const gamma = randn(dh, 42);
  const want = x.slice();
  const table = ropeTable(T, plainRope(dh, 10000));
  twin.headRmsNorm(want, T, nh, dh, gamma, 1e-6);
  twin.rope(want, T, nh, dh, table);
  const bX = up('x', x);
  const bG = up('gamma', gamma);
  const bT = up('rope table', table);
  await step('head norm + rope', async (s) => {
    await ops.headNorm(s, { gamma: bG, x: bX, rows: T * nh, dh, eps: 1e-6 });
    await ops.rope(s, { table: bT, x: bX, T, nh, dh });
  });
  t.close('head norm + rope', await read(bX, x.length), want);
});

check('RMSNorm over a whole projection and partial rotary RoPE with scaled frequencies', async (gpu, t) => {
  const { up, read, step } = helpers(gpu);
  const T = 9;
  const nh = 3;
  const dh = 12;
  const rot = 6; // the last 6 dims of each head pass through
  const x = randn(T * nh * dh, 44);
  const gamma = randn(nh * dh, 45);
  const spec = {
    ...plainRope(rot, 10000),
    scaling: { kind: 'llama3' as const, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
  };
  const table = ropeTable(T, spec);
  const want = x.slice();
  twin.headRmsNorm(want, T, 1, nh * dh, gamma, 1e-5);
  twin.rope(want, T, nh, dh, table, rot);
  const bX = up('x', x);
  await step('projection norm + partial rope', async (s) => {
    await ops.headNorm(s, { gamma: up('gamma', gamma), x: bX, rows: T, dh: nh * dh, eps: 1e-5 });
    await ops.rope(s, { table: up('rope table', table), x: bX, T, nh, dh, rot });
  });
  const got = await read(bX, x.length);
  t.close('projection norm + partial rope', got, want);
  // The unrotated dims are the normalised input itself.
  const normed = x.slice();
  twin.headRmsNorm(normed, T, 1, nh * dh, gamma, 1e-5);
  for (let r = 0; r < T * nh; r++) t.close(`row ${r} pass-through`, got.subarray(r * dh + rot, (r + 1) * dh), normed.subarray(r * dh + rot, (r + 1) * dh));
});

check('RoPE at long positions (angles of thousands of radians)', async (gpu, t) => {
  const { up, read, step } = helpers(gpu);
  const T = 3000;
  const dh = 4;
  const x = randn(T * dh, 43);
  const want = x.slice();
  const table = ropeTable(T, plainRope(dh, 500000));
  twin.rope(want, T, 1, dh, table);
  const bX = up('x', x);
  const bT = up('rope table', table);
  await step('rope long', (s) => ops.rope(s, { table: bT, x: bX, T, nh: 1, dh }));
  t.close('rope', await read(bX, x.length), want, 2e-6);
});

for (const [T, H, Hkv, dh] of [
  [1, 2, 1, 8],
  [70, 4, 2, 6],
  [37, 3, 1, 10],
  [19, 2, 2, 128],
  [40, 2, 1, 2],
] as const) {
  check(`attention probabilities and mixing, T=${T} H=${H} Hkv=${Hkv} dh=${dh}`, async (gpu, t) => {
    const { up, read, step } = helpers(gpu);
    const q = randn(T * H * dh, 51);
    const k = randn(T * Hkv * dh, 52);
    const wantA = twin.attentionProbs(q, k, T, H, Hkv, dh);
    const bQ = up('q', q);
    const bK = up('k', k);
    const bA = up('A', new Float32Array(H * T * T).fill(7)); // stale values must be overwritten
    await step('attention probs', (s) => ops.attentionProbs(s, { q: bQ, k: bK, A: bA, T, H, Hkv, dh }));
    const gotA = await read(bA, H * T * T);
    t.close('probabilities', gotA, wantA, 1e-6);

    // Mixing for M components with token-mode starts (component m zero before position m).
    const M = Math.min(T, 5) + 1;
    const start = Int32Array.from({ length: M }, (_, m) => (m === M - 1 ? 0 : Math.min(m * 13, T)));
    const v = randn(M * T * Hkv * dh, 53);
    for (let m = 0; m < M; m++) v.fill(NaN, m * T * Hkv * dh, (m * T + start[m]!) * Hkv * dh); // never read
    const wantY = twin.attentionMix(wantA, v, M, T, H, Hkv, dh, start);
    const bV = up('v', v);
    const bStart = up('start', Uint32Array.from(start));
    const bY = up('y', new Float32Array(M * T * H * dh));
    await step('attention mix', (s) => ops.attentionMix(s, { A: bA, v: bV, start: bStart, y: bY, M, T, H, Hkv, dh }));
    t.close('mixing', await read(bY, M * T * H * dh), wantY, 1e-5);
  });
}

for (const [label, opts] of [
  ['a sliding window of 4 keys', { window: 4 }],
  ['soft-capped scores and a query_pre_attn_scalar scale', { softcap: 1.5, scale: 0.3 }],
  ['no score scaling (GPT-Neo) and a window of 1', { scale: 1, window: 1 }],
] as const) {
  check(`attention probabilities with ${label}`, async (gpu, t) => {
    const { up, read, step } = helpers(gpu);
    const [T, H, Hkv, dh] = [23, 4, 2, 8];
    const q = randn(T * H * dh, 57);
    const k = randn(T * Hkv * dh, 58);
    const want = twin.attentionProbs(q, k, T, H, Hkv, dh, opts);
    const bA = up('A', new Float32Array(H * T * T).fill(7));
    await step('attention probs', (s) => ops.attentionProbs(s, { q: up('q', q), k: up('k', k), A: bA, T, H, Hkv, dh, ...opts }));
    t.close('probabilities', await read(bA, H * T * T), want, 1e-6);
  });
}

check('attention mixing with the largest head size (dh = 256)', async (gpu, t) => {
  const { up, read, step } = helpers(gpu);
  const T = 3;
  const H = 1;
  const dh = 256;
  const A = twin.attentionProbs(randn(T * dh, 54), randn(T * dh, 55), T, H, H, dh);
  const v = randn(T * dh, 56);
  const want = twin.attentionMix(A, v, 1, T, H, H, dh, new Int32Array(1));
  const bY = up('y', new Float32Array(T * dh));
  const [bA, bV, bS] = [up('A', A), up('v', v), up('start', new Uint32Array(1))];
  await step('attention mix 256', (s) => ops.attentionMix(s, { A: bA, v: bV, start: bS, y: bY, M: 1, T, H, Hkv: H, dh }));
  t.close('mixing', await read(bY, T * dh), want, 1e-5);
});

for (const act of ['silu', 'gelu_tanh', 'gelu'] as const) {
  check(`activation ${act}, gated and plain, including large |x|`, async (gpu, t) => {
    const { up, read, step } = helpers(gpu);
    const n = 131;
    const gate = randn(n, 61, 3);
    gate[0] = 60;
    gate[1] = -60;
    gate[2] = 0;
    const upv = randn(n, 62);
    const f = twin.activation(act);
    const wantGated = gate.map((g, i) => f(g) * upv[i]!);
    const wantPlain = gate.map((g) => f(g));
    const [bG, bU] = [up('gate', gate), up('up', upv)];
    const a1 = up('a1', new Float32Array(n));
    const a2 = up('a2', new Float32Array(n));
    await step('activation', async (s) => {
      await ops.activation(s, { gate: bG, up: bU, a: a1, n, act });
      await ops.activation(s, { gate: bG, a: a2, n, act });
    });
    t.close('gated', await read(a1, n), wantGated, 1e-6);
    t.close('plain', await read(a2, n), wantPlain, 1e-6);
  });
}

check('scale_add: broadcast bias removal, zeroing a strided block', async (gpu, t) => {
  const { up, read, step } = helpers(gpu);
  const R = 5;
  const C = 9;
  const y = randn(R * 12, 71);
  const bias = randn(C, 72);
  const want = y.slice();
  twin.scaleAdd(bias, want, { R, C, ldx: 0, ldy: 12, y0: 1, alpha: -1, beta: 1 });
  twin.scaleAdd(null, want, { R, C: 2, y0: 4, ldy: 12, alpha: 0, beta: 0 });
  const [bB, bY] = [up('bias', bias), up('y', y)];
  await step('scale add', async (s) => {
    await ops.scaleAdd(s, { x: bB, y: bY, R, C, ldx: 0, ldy: 12, y0: 1, alpha: -1, beta: 1 });
    await ops.scaleAdd(s, { y: bY, R, C: 2, y0: 4, ldy: 12, alpha: 0, beta: 0 });
  });
  t.close('scale_add', await read(bY, R * 12), want, 1e-7);
});

for (const rule of ['softmax', 'proportional'] as const) {
  for (const bos of [false, true]) {
    check(`MLP share, ${rule} rule, BOS rule ${bos ? 'on' : 'off'}, token-mode starts`, async (gpu, t) => {
      const { up, read, step } = helpers(gpu);
      const T = 6;
      const M = T + 1;
      const J = 70;
      const I = 90;
      const j0 = 13;
      const rest = T;
      // Token mode without biases: component m starts at m, the rest (empty) at T.
      const start = Int32Array.from({ length: M }, (_, m) => (m === rest ? T : m));
      const g = randn(M * T * J, 81, 0.3);
      // A near-zero denominator for the proportional guard: two opposite values at (t = 2, j = 0).
      g[(1 * T + 2) * J] = 0.5;
      g[(2 * T + 2) * J] = -0.5;
      g[(0 * T + 2) * J] = 0;
      const act = randn(T * I, 82);
      const aTile = new Float32Array(T * J);
      for (let p = 0; p < T; p++) for (let j = 0; j < J; j++) aTile[p * J + j] = act[p * I + j0 + j]!;
      const want = twin.mlpShare(g, aTile, M, T, J, start, rule, 0.1, bos);
      const [bG, bA, bS] = [up('g', g), up('act', act), up('start', Uint32Array.from(start))];
      const bC = up('c', new Float32Array(M * T * J).fill(5));
      await step('mlp share', (s) =>
        ops.mlpShare(s, { g: bG, a: bA, start: bS, c: bC, M, T, J, a0: j0, lda: I, rule, tau: 0.1, guard: twin.PROPORTIONAL_GUARD, bos }),
      );
      const got = await read(bC, M * T * J);
      t.close('shares', got, want, 1e-5);
      // The shares sum to the activation at every (t, j).
      for (let p = 0; p < T; p++) {
        let s = 0;
        for (let m = 0; m < M; m++) s += got[(m * T + p) * J + 5]!;
        t.within(`shares sum to the activation at t = ${p}`, Math.abs(s - aTile[p * J + 5]!), 1e-5);
      }
    });
  }
}

for (const center of [false, true]) {
  check(`read-out of components through the frozen final norm (${center ? 'LayerNorm' : 'RMSNorm'})`, async (gpu, t) => {
    const { up, read, step } = helpers(gpu);
    const M = 4;
    const T = 5;
    const D = 75;
    const C = randn(M * T * D, 91);
    const dirs = randn(3 * D, 92);
    const positions = new Uint32Array([4, 0, 2]);
    const scale = randn(T, 93).map(Math.abs);
    const gamma = randn(D, 94);
    const beta = center ? randn(D, 95) : undefined;
    const want = twin.readoutScores(C, M, T, D, 1, dirs, positions, scale, gamma, { center, beta });
    const out = up('out', new Float32Array(3 * M + 2));
    const b = { C: up('C', C), dirs: up('dirs', dirs), pos: up('pos', positions), scale: up('scale', scale), gamma: up('gamma', gamma) };
    await step('readout', (s) => ops.readout(s, { ...b, beta: beta && up('beta', beta), out, M, T, D, n: 3, rest: 1, center, o0: 2, ldo: M }));
    t.close('scores', (await read(out, 3 * M + 2)).subarray(2), want, 1e-5);
  });
}

check('top-k of vocabulary chunks, merged, equals ops.topK (ties to the lower id)', async (gpu, t) => {
  const { up, read, step } = helpers(gpu);
  const T = 3;
  const V = 300;
  const logits = randn(T * V, 101);
  logits[1 * V + 7] = 9;
  logits[1 * V + 250] = 9; // a tie across chunks
  logits[1 * V + 3] = 9;
  const chunks = [0, 128, 256].map((v0) => ({ v0, Vc: Math.min(128, V - v0) }));
  const K = 5;
  const ldo = chunks.length * K;
  const ids = up('ids', new Uint32Array(T * ldo));
  const vals = up('vals', new Float32Array(T * ldo));
  const bufs = chunks.map((c) => {
    const part = new Float32Array(T * c.Vc);
    for (let p = 0; p < T; p++) part.set(logits.subarray(p * V + c.v0, p * V + c.v0 + c.Vc), p * c.Vc);
    return up(`logits ${c.v0}`, part);
  });
  await step('topk', async (s) => {
    for (const [n, c] of chunks.entries()) await ops.topk(s, { logits: bufs[n]!, ids, vals, T, Vc: c.Vc, v0: c.v0, o0: n * K, ldo, k: K });
  });
  const gi = await readU32(gpu.ctx.device, ids, 0, T * ldo);
  const gv = await read(vals, T * ldo);
  for (let p = 0; p < T; p++) {
    const cand = Array.from({ length: ldo }, (_, q) => ({ id: gi[p * ldo + q]!, v: gv[p * ldo + q]! }));
    cand.sort((a, b) => b.v - a.v || a.id - b.id);
    t.sameList(
      cand.slice(0, K).map((c) => c.id),
      twin.topK(logits.subarray(p * V, (p + 1) * V), K),
      `top-${K} ids at t = ${p}`,
    );
  }
});
