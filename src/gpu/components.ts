// The initial components of each granularity on the GPU, [M, T, D], built from the forward
// record, and those that join a pass later: the GPU twin of src/depass/components.ts (same
// formulas; bias-placement.test.ts checks both against the weights).

import type { ModeRequest } from '../depass/backend';
import { joining, type PassPlan } from '../depass/plan';
import { residualAfter } from '../depass/record';
import { dims, type ModelDescription } from '../model/description';
import { createStorage, uploadStorage } from './buffers';
import type { EngineParts, GpuForwardRecord } from './forward';
import * as ops from './ops';
import type { Step } from './step';
import { f32Matrix, type GpuNorm } from './weights';

const F32 = 4;

/** Scratch the builders may use: bufA [T, Hkv*dh] at least, bufB [T, H*dh] at least, O [M, T, D] (post-norm families). */
export interface BuilderScratch {
  bufA: GPUBuffer;
  bufB: GPUBuffer;
  O: GPUBuffer;
  /** Small buffers made here are pushed to it, for the caller to free. */
  list: GPUBuffer[];
}

/**
 * Raw components in O ([n parts, then minus their sum], T rows each) through an output norm at its
 * frozen scale into C; the rest block then gains the state `base`.
 */
async function joinThroughNorm(
  step: Step,
  cfg: ModelDescription,
  norm: GpuNorm,
  scale: GPUBuffer,
  O: GPUBuffer,
  C: GPUBuffer,
  n: number,
  T: number,
  base: GPUBuffer,
): Promise<void> {
  const D = cfg.hidden_size;
  await ops.normApply(step, { x: O, scale, gamma: norm.weight, y: C, R: (n + 1) * T, D, T, center: cfg.normKind === 'layer' });
  await ops.scaleAdd(step, { x: base, y: C, R: T, C: D, y0: n * T * D, alpha: 1, beta: 1 });
}

/**
 * The heads' writes at layer l into blocks first..first+H-1 of C, and minus their sum into block
 * `rest` (after `base` is copied there, when given). Head h's write is Wo_h (A_h v^_h), v^ the value
 * without LayerNorm's beta and without b_v: v^ = v - (Wv beta + b_v). Those constants, like b_o,
 * stay with the rest. With an output norm the heads and minus their sum are built raw in O at the
 * same blocks and join C through the norm at its frozen scale.
 */
async function headWrites(
  step: Step,
  parts: EngineParts,
  rec: GpuForwardRecord,
  l: number,
  C: GPUBuffer,
  s: BuilderScratch,
  at: { first: number; rest: number; base: GPUBuffer | null },
): Promise<void> {
  const { device, cfg, weights } = parts;
  const { D, H, Hkv, dh } = dims(cfg);
  const { T } = rec;
  const block = T * D;
  const lr = rec.layers[l]!;
  const w = weights.layers[l]!;
  const norm = w.attn_output_norm;
  const target = norm ? s.O : C;
  step.copy(lr.v, 0, s.bufA, 0, T * Hkv * dh * F32);
  const beta = w.input_layernorm?.bias;
  if (beta || w.v_proj.bias) {
    const constant = createStorage(device, 'value constant Wv beta + b_v', Hkv * dh * F32);
    s.list.push(constant);
    if (beta) await ops.linear(step, { X: beta, W: w.v_proj.weight, bias: w.v_proj.bias, Y: constant, R: 1, K: D });
    else step.copy(w.v_proj.bias!, 0, constant, 0, Hkv * dh * F32);
    await ops.scaleAdd(step, { x: constant, y: s.bufA, R: T, C: Hkv * dh, ldx: 0, alpha: -1, beta: 1 });
  }
  const zero = uploadStorage(device, 'start 0', new Uint32Array(1));
  s.list.push(zero);
  await ops.attentionMix(step, { A: lr.A, v: s.bufA, start: zero, y: s.bufB, M: 1, T, H, Hkv, dh });
  const Wo = w.o_proj.weight;
  if (norm) step.clear(s.O);
  await ops.linear(step, { X: s.bufB, W: Wo, batch: H, ldx: H * dh, xb: dh, K: dh, k0: 0, wb: dh, Y: target, y0: at.first * block, yb: block, ldy: D, R: T });
  if (at.base && !norm) step.copy(at.base, 0, C, at.rest * block * F32, block * F32);
  await ops.linear(step, { X: s.bufB, W: Wo, K: H * dh, Y: target, y0: at.rest * block, ldy: D, R: T, alpha: -1, accumulate: true });
  if (!norm) return;
  // The raw blocks through the norm, added to C (the heads' blocks are zero there).
  const blocks = [at.rest, ...Array.from({ length: H }, (_, h) => at.first + h)];
  const rows = uploadStorage(device, 'head rows', Uint32Array.from(blocks.flatMap((b) => Array.from({ length: T }, (_, t) => b * T + t))));
  s.list.push(rows);
  await ops.normApply(step, {
    x: s.O,
    scale: lr.attn_out_norm!.scale,
    gamma: norm.weight,
    rows,
    y: C,
    R: blocks.length * T,
    D,
    T,
    center: cfg.normKind === 'layer',
    accumulate: true,
  });
  if (at.base) await ops.scaleAdd(step, { x: at.base, y: C, R: T, C: D, y0: at.rest * block, alpha: 1, beta: 1 });
}

/**
 * The components joining the pass at layer l (plan.enter), into C: in the one-pass head map the
 * heads of layer l, taken from the rest so that the components still sum to the real residual.
 */
export async function joinAt(step: Step, parts: EngineParts, rec: GpuForwardRecord, plan: PassPlan, l: number, C: GPUBuffer, s: BuilderScratch): Promise<void> {
  const [first, end] = joining(plan, l);
  if (first === end) return;
  if (plan.kind !== 'head_map' || end - first !== parts.cfg.num_attention_heads) throw new Error(`joinAt: nothing joins a ${plan.kind} pass`);
  await headWrites(step, parts, rec, l, C, s, { first, rest: plan.rest, base: null });
}

export async function buildComponents(step: Step, parts: EngineParts, rec: GpuForwardRecord, req: ModeRequest, C: GPUBuffer, s: BuilderScratch): Promise<void> {
  const { device, cfg, weights } = parts;
  const { D, H, I } = dims(cfg);
  const { T } = rec;
  const block = T * D; // elements of one component
  step.clear(C);
  switch (req.kind) {
    case 'token': {
      // Component m holds token m's embedding (and learned position) at position m; the rest starts empty.
      const h0 = rec.layers[0]!.h_in;
      for (let m = 0; m < T; m++) step.copy(h0, m * D * F32, C, (m * T + m) * D * F32, D * F32);
      return;
    }
    case 'head': {
      // The heads' writes (headWrites), and the rest: the state after the attention (after the
      // layer, with a parallel residual) minus every head.
      const base = cfg.parallelResidual ? residualAfter(rec, req.layer) : rec.layers[req.layer]!.h_mid;
      await headWrites(step, parts, rec, req.layer, C, s, { first: 0, rest: H, base });
      return;
    }
    case 'head_map': {
      // The rest (component 0) starts as the embeddings; every head joins later (joinAt).
      step.copy(rec.layers[0]!.h_in, 0, C, 0, block * F32);
      return;
    }
    case 'neuron': {
      // Neuron j's write a[t][j] * Wdown[:, j]; the rest is the state after the MLP minus them
      // (through the MLP's output norm as for heads).
      const lr = rec.layers[req.layer]!;
      const w = weights.layers[req.layer]!;
      const norm = w.mlp_output_norm;
      const target = norm ? s.O : C;
      const Wd = w.down_proj.weight;
      const G = req.to - req.from;
      if (norm) step.clear(s.O);
      await ops.linear(step, { X: lr.act, x0: req.from, ldx: I, xb: 1, K: 1, W: Wd, k0: req.from, wb: 1, batch: G, Y: target, yb: block, ldy: D, R: T });
      const base = residualAfter(rec, req.layer);
      if (!norm) step.copy(base, 0, C, G * block * F32, block * F32);
      await ops.linear(step, {
        X: lr.act,
        x0: req.from,
        ldx: I,
        K: G,
        W: Wd,
        k0: req.from,
        Y: target,
        y0: G * block,
        ldy: D,
        R: T,
        alpha: -1,
        accumulate: true,
      });
      if (norm) await joinThroughNorm(step, cfg, norm, lr.mlp_out_norm!.scale, s.O, C, G, T, base);
      return;
    }
    case 'module': {
      // The incoming residual (the rest), the attention's and the MLP's whole outputs.
      const lr = rec.layers[req.layer]!;
      step.copy(lr.h_in, 0, C, 0, block * F32);
      step.copy(lr.attn_out, 0, C, block * F32, block * F32);
      step.copy(lr.mlp_out, 0, C, 2 * block * F32, block * F32);
      return;
    }
    case 'subspace': {
      // Projection (h.u / u.u) u and the orthogonal rest of the residual entering the layer.
      const h = req.layer < rec.layers.length ? rec.layers[req.layer]!.h_in : rec.h_final;
      const u = req.direction;
      let uu = 0;
      for (let d = 0; d < D; d++) uu += u[d]! * u[d]!;
      const uBuf = uploadStorage(device, 'subspace direction', Float32Array.from(u));
      const uScaled = uploadStorage(
        device,
        'subspace direction / |u|^2',
        Float32Array.from(u, (x) => (uu > 0 ? x / uu : 0)),
      );
      s.list.push(uBuf, uScaled);
      await ops.linear(step, { X: h, W: f32Matrix('u / |u|^2', uScaled, 1, D), K: D, Y: s.bufA, R: T }); // coefficients [T]
      const uCol = f32Matrix('u', uBuf, D, 1);
      await ops.linear(step, { X: s.bufA, K: 1, W: uCol, Y: C, R: T });
      step.copy(h, 0, C, block * F32, block * F32);
      await ops.linear(step, { X: s.bufA, K: 1, W: uCol, Y: C, y0: block, R: T, alpha: -1, accumulate: true });
      return;
    }
  }
}
