// The kernels of queries, keys and attention against their TypeScript twins: q/k norms, RoPE
// (rotate-half, partial, scaled, long positions), attention probabilities (scale, soft-cap, window)
// and mixing. Part of KERNEL_CHECKS (kernel-checks.ts).

import * as twin from '../../depass/ops';
import { ropeTable } from '../../depass/rope';
import type { RopeSpec } from '../../model/description';
import * as ops from '../ops';
import { helpers, type KernelCheck } from './check-helpers';
import { randn } from './compare';

export const POSITION_CHECKS: KernelCheck[] = [];
const check = (name: string, run: KernelCheck['run']) => POSITION_CHECKS.push({ name, run });

const plainRope = (dim: number, theta: number): RopeSpec => ({ theta, dim, local_theta: null, scaling: { kind: 'none' } });

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
