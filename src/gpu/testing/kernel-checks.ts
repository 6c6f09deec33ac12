// Every WGSL kernel against its TypeScript twin in src/depass/ops.ts, as plain async functions:
// shapes that are not multiples of the workgroup or tile sizes, one-row cases, f32/f16/bf16
// weights, and the kernel registry's bindings against the WGSL declarations; each with both
// reduction preludes. The same list runs under Vitest (src/gpu/kernels.test.ts) and in the
// self-contained GPU check; matmul is in matmul-checks.ts.

import '../float16-polyfill';
import { makeShaderDataDefinitions } from 'webgpu-utils';
import * as twin from '../../depass/ops';
import type { DType } from '../../model/description';
import { readU32 } from '../buffers';
import { plainProfile } from '../profile';
import { KernelCache, KERNELS, shaderLoaderFromModules, type KernelName } from '../kernels';
import * as ops from '../ops';
import { maxAbs, randn, weightsIn } from './compare';
import { helpers, lacks, onPaths, type KernelCheck } from './check-helpers';
import { POSITION_CHECKS } from './position-checks';

export type { KernelCheck };

const DTYPES: DType[] = ['F32', 'F16', 'BF16'];

/** Every kernel but matmul. */
const checks: KernelCheck[] = [];
const check = (name: string, run: KernelCheck['run']) => checks.push({ name, run });

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

check('a compile error in a prelude names the prelude file and its own line', async (gpu, t) => {
  const files: Record<string, string> = {
    reduce_workgroup: '// a prelude\nconst BROKEN: u32 = nope;\n',
    norm_stats: '@compute @workgroup_size(1) fn main() {}\n',
  };
  const broken = new KernelCache(gpu.ctx.device, (name) => files[name]!);
  t.sameList(broken.files('norm_stats'), ['reduce_workgroup', 'norm_stats'], 'files of norm_stats');
  await t.rejects(broken.get('norm_stats'), /shaders\/reduce_workgroup\.wgsl:2:\d+/, 'compile error');
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

/** Every kernel but matmul: these, then the RoPE and attention kernels. */
/**
 * Every check twice: with the reductions through workgroup memory (every device) and through
 * subgroups (devices offering `subgroups`), the two preludes of the reducing kernels.
 */
export const KERNEL_CHECKS: KernelCheck[] = [false, true].flatMap((subgroups) =>
  [...checks, ...POSITION_CHECKS].map((c): KernelCheck => ({
    name: `${c.name} (${subgroups ? 'subgroup' : 'workgroup'} reductions)`,
    unsupported: (gpu) => (subgroups ? lacks(gpu, 'subgroups') : null),
    run: (gpu, t) => c.run(onPaths(gpu, { subgroups, nativeF16: false }), t),
    refused: async (gpu, t) => {
      t.equal(plainProfile(gpu.ctx.device, gpu.ctx.adapter.isFallbackAdapter).subgroups, false, 'the profile keeps workgroup-memory reductions');
      // A kernel without a reduction has no subgroup variant and runs; one with a reduction is refused.
      const refusal = await c.run(onPaths(gpu, { subgroups: true, nativeF16: false }), t).then(
        () => null,
        (e: Error) => e.message,
      );
      t.ok(refusal === null || /lacks subgroups/.test(refusal), `the subgroup variant runs or is refused naming the feature (${refusal})`);
    },
  })),
);
