// The normal forward pass on the GPU: one layer step written once (forwardLayer), used by the
// engine's forward pass, which keeps every layer's record for the decomposed pass, and by the
// benchmark's ablation passes, which run B copies of the prompt as B x T rows. Also the
// unembedding with its vocabulary-chunked top-k, the logit lens and the tokens a neuron promotes.

import type { ForwardSummary, NeuronPromotes } from '../depass/backend';
import type { Ablation, ForwardRecord, LayerRecord, NormRecord } from '../depass/record';
import type { TopEntry } from '../depass/result';
import { dims, type ModelDescription } from '../model/description';
import { readF32, readU32, uploadStorage } from './buffers';
import { cappedLogit } from '../depass/forward';
import { layerRopeTables, layerWindow } from '../depass/rope';
import { allocate, forwardFinalLayout, forwardScratchLayout, layerRecordLayout, TOP_K, vocabChunk } from './memory';
import * as ops from './ops';
import { recordStep, type Step, type StepPool } from './step';
import type { GpuLayerWeights, GpuMatrix, GpuNorm, GpuWeights } from './weights';

/** What the engine's parts share: the device, the model and its weights, and the step pool. */
export interface EngineParts {
  device: GPUDevice;
  cfg: ModelDescription;
  weights: GpuWeights;
  pool: StepPool;
  /** Bytes one buffer binding may hold on this device. */
  maxBinding: number;
}

export type GpuLayerRecord = LayerRecord<GPUBuffer>;

export interface GpuForwardRecord extends ForwardRecord<GPUBuffer> {
  xF: Float32Array; // [T, D] final normalised state, read back for target logits
  buffers: GPUBuffer[];
}

/** Scratch of the layer step, reused by every layer. */
export type ForwardScratch = Record<keyof ReturnType<typeof forwardScratchLayout>, GPUBuffer>;

/** Rows of a layer step: B copies of T positions, interleaved by copy (row t * B + b). */
export interface Copies {
  T: number;
  B: number;
}

/** Per-pass constants of the layer step. */
export interface LayerConstants {
  /** Each layer's cos/sin table [2, T, rot/2] (layers with one base share a buffer); null without RoPE. */
  rope: (GPUBuffer | null)[];
  zeroStart: GPUBuffer; // [1] component start 0 for the one-component attention mix
}

const F32 = 4;

/** A layer record from its allocated buffers (means only for LayerNorm, output norms only for post-norm families). */
export function asLayerRecord(b: Record<keyof ReturnType<typeof layerRecordLayout>, GPUBuffer>, cfg: ModelDescription): GpuLayerRecord {
  const layerNorm = cfg.normKind === 'layer';
  const post = cfg.hasPostNorms;
  return {
    h_in: b.h_in,
    attn_norm: { scale: b.attn_scale, mean: layerNorm ? b.attn_mean : undefined },
    v: b.v,
    A: b.A,
    attn_out: b.attn_out,
    attn_out_norm: post ? { scale: b.attn_out_scale } : undefined,
    h_mid: b.h_mid,
    mlp_norm: { scale: b.mlp_scale, mean: layerNorm ? b.mlp_mean : undefined },
    act: b.act,
    mlp_out: b.mlp_out,
    mlp_out_norm: post ? { scale: b.mlp_out_scale } : undefined,
  };
}

/** h_out = h (+ delta) and its norm statistics, over R rows. */
export function residualStats(
  step: Step,
  cfg: ModelDescription,
  h: GPUBuffer,
  norm: NormRecord<GPUBuffer>,
  R: number,
  add?: { delta: GPUBuffer; out: GPUBuffer },
): Promise<void> {
  return ops.normStats(step, {
    h,
    delta: add?.delta,
    hOut: add?.out,
    scale: norm.scale,
    mean: norm.mean,
    T: R,
    D: cfg.hidden_size,
    eps: cfg.norm_eps,
    layer: cfg.normKind === 'layer',
  });
}

/** Frozen norm of R rows of the real state (beta included). */
function applyNorm(step: Step, cfg: ModelDescription, x: GPUBuffer, scale: GPUBuffer, norm: GpuNorm, y: GPUBuffer, R: number): Promise<void> {
  return ops.normApply(step, { x, scale, gamma: norm.weight, beta: norm.bias, y, R, D: cfg.hidden_size, T: R, center: cfg.normKind === 'layer' });
}

/**
 * A branch's raw output (in `raw`) through its output norm into `out`, recording the frozen scale;
 * without an output norm the branch wrote `out` directly and this does nothing.
 */
async function outputNorm(
  step: Step,
  cfg: ModelDescription,
  norm: GpuNorm | undefined,
  raw: GPUBuffer,
  rec: NormRecord<GPUBuffer> | undefined,
  out: GPUBuffer,
  R: number,
): Promise<void> {
  if (!norm || !rec) return;
  await residualStats(step, cfg, raw, rec, R);
  await applyNorm(step, cfg, raw, rec.scale, norm, out, R);
}

/**
 * One decoder layer l on R = T * B rows whose residual r.h_in and its statistics are in place:
 * attention (per copy: [T, B, H, dh] is [T, B*H, dh]) and the MLP, writing the layer's record.
 */
export async function forwardLayer(
  step: Step,
  cfg: ModelDescription,
  l: number,
  w: GpuLayerWeights,
  r: GpuLayerRecord,
  s: ForwardScratch,
  shape: Copies,
  k: LayerConstants,
  ablation: { heads: number[]; neurons: number[] } = { heads: [], neurons: [] },
): Promise<void> {
  const { D, H, Hkv, dh, I } = dims(cfg);
  const { T, B } = shape;
  const R = T * B;
  const eps = cfg.norm_eps;
  // Attention; without a pre-norm (OLMo-2) it reads the residual itself.
  const x = w.input_layernorm ? s.x : r.h_in;
  if (w.input_layernorm) await applyNorm(step, cfg, r.h_in, r.attn_norm.scale, w.input_layernorm, s.x, R);
  await ops.linear(step, { X: x, W: w.q_proj.weight, bias: w.q_proj.bias, Y: s.q, R, K: D });
  await ops.linear(step, { X: x, W: w.k_proj.weight, bias: w.k_proj.bias, Y: s.k, R, K: D });
  await ops.linear(step, { X: x, W: w.v_proj.weight, bias: w.v_proj.bias, Y: r.v, R, K: D });
  if (cfg.qkNorm === 'head') {
    await ops.headNorm(step, { gamma: w.q_norm!.weight, x: s.q, rows: R * H, dh, eps });
    await ops.headNorm(step, { gamma: w.k_norm!.weight, x: s.k, rows: R * Hkv, dh, eps });
  } else if (cfg.qkNorm === 'projection') {
    await ops.headNorm(step, { gamma: w.q_norm!.weight, x: s.q, rows: R, dh: H * dh, eps });
    await ops.headNorm(step, { gamma: w.k_norm!.weight, x: s.k, rows: R, dh: Hkv * dh, eps });
  }
  const table = k.rope[l];
  if (table) {
    const rot = cfg.rope!.dim;
    await ops.rope(step, { table, x: s.q, T, nh: B * H, dh, rot });
    await ops.rope(step, { table, x: s.k, T, nh: B * Hkv, dh, rot });
  }
  await ops.attentionProbs(step, {
    q: s.q,
    k: s.k,
    A: r.A,
    T,
    H: B * H,
    Hkv: B * Hkv,
    dh,
    scale: cfg.attention_scale,
    softcap: cfg.attn_logit_softcapping,
    window: layerWindow(cfg, l),
  });
  await ops.attentionMix(step, { A: r.A, v: r.v, start: k.zeroStart, y: s.y, M: 1, T, H: B * H, Hkv: B * Hkv, dh });
  for (const h of ablation.heads) await ops.scaleAdd(step, { y: s.y, R, C: dh, y0: h * dh, ldy: H * dh, alpha: 0, beta: 0 });
  const attnOut = w.attn_output_norm ? s.raw : r.attn_out;
  await ops.linear(step, { X: s.y, W: w.o_proj.weight, bias: w.o_proj.bias, Y: attnOut, R, K: H * dh });
  await outputNorm(step, cfg, w.attn_output_norm, s.raw, r.attn_out_norm, r.attn_out, R);
  // MLP: it reads h_mid = h_in + attn_out, or the layer's input with a parallel residual.
  await residualStats(step, cfg, r.h_in, r.mlp_norm, R, { delta: r.attn_out, out: r.h_mid });
  const mlpIn = cfg.parallelResidual ? r.h_in : r.h_mid;
  if (cfg.parallelResidual) await residualStats(step, cfg, r.h_in, r.mlp_norm, R);
  const x2 = w.post_attention_layernorm ? s.x : mlpIn;
  if (w.post_attention_layernorm) await applyNorm(step, cfg, mlpIn, r.mlp_norm.scale, w.post_attention_layernorm, s.x, R);
  if (cfg.mlpKind === 'gated') {
    await ops.linear(step, { X: x2, W: w.gate_proj!.weight, bias: w.gate_proj!.bias, Y: s.gate, R, K: D });
    await ops.linear(step, { X: x2, W: w.up_proj.weight, bias: w.up_proj.bias, Y: s.up, R, K: D });
    await ops.activation(step, { gate: s.gate, up: s.up, a: r.act, n: R * I, act: cfg.hidden_act });
  } else {
    await ops.linear(step, { X: x2, W: w.up_proj.weight, bias: w.up_proj.bias, Y: s.gate, R, K: D });
    await ops.activation(step, { gate: s.gate, a: r.act, n: R * I, act: cfg.hidden_act });
  }
  for (const j of ablation.neurons) await ops.scaleAdd(step, { y: r.act, R, C: 1, y0: j, ldy: I, alpha: 0, beta: 0 });
  const mlpOut = w.mlp_output_norm ? s.raw : r.mlp_out;
  await ops.linear(step, { X: r.act, W: w.down_proj.weight, bias: w.down_proj.bias, Y: mlpOut, R, K: I });
  await outputNorm(step, cfg, w.mlp_output_norm, s.raw, r.mlp_out_norm, r.mlp_out, R);
}

/** Token (+ learned position) embeddings of R rows times the embedding scale: out[r] = s E[ids[r]] (+ P[positions[r]]). */
export async function embed(
  step: Step,
  cfg: ModelDescription,
  weights: GpuWeights,
  ids: GPUBuffer,
  positions: GPUBuffer,
  out: GPUBuffer,
  R: number,
): Promise<void> {
  await ops.gather(step, { table: weights.embed_tokens, ids, out, T: R });
  if (cfg.embedding_scale !== 1) await ops.scaleAdd(step, { y: out, R, C: cfg.hidden_size, alpha: 0, beta: cfg.embedding_scale });
  if (weights.embed_positions) await ops.gather(step, { table: weights.embed_positions, ids: positions, out, T: R, accumulate: true });
}

export function layerConstants(device: GPUDevice, cfg: ModelDescription, T: number, list: GPUBuffer[]): LayerConstants {
  const zeroStart = uploadStorage(device, 'start 0', new Uint32Array(1));
  list.push(zeroStart);
  const byTable = new Map<Float32Array, GPUBuffer>();
  const rope = layerRopeTables(cfg, T).map((table) => {
    if (!table) return null;
    let b = byTable.get(table);
    if (!b) {
      b = uploadStorage(device, 'rope table', table);
      list.push(b);
      byTable.set(table, b);
    }
    return b;
  });
  return { rope, zeroStart };
}

/** The whole forward pass over `ids`, keeping every layer's record on the GPU. */
export async function runForward(
  parts: EngineParts,
  ids: number[],
  opts: { lens?: boolean; ablation?: Ablation },
): Promise<{ record: GpuForwardRecord; summary: ForwardSummary }> {
  const { device, cfg, weights, pool, maxBinding } = parts;
  const { D, L, V } = dims(cfg);
  const T = ids.length;
  const layerNorm = cfg.normKind === 'layer';
  const list: GPUBuffer[] = [];
  try {
    const s = await allocate(device, forwardScratchLayout(cfg, T), list, 'forward ');
    const f = await allocate(device, forwardFinalLayout(cfg, T, maxBinding, !!opts.lens), list, 'forward ');
    const layers: GpuLayerRecord[] = [];
    for (let l = 0; l < L; l++) layers.push(asLayerRecord(await allocate(device, layerRecordLayout(cfg, T), list, `layer ${l} `), cfg));
    const idsBuf = uploadStorage(device, 'token ids', Uint32Array.from(ids));
    const posBuf = uploadStorage(
      device,
      'positions',
      Uint32Array.from({ length: T }, (_, t) => t),
    );
    list.push(idsBuf, posBuf);
    const k = layerConstants(device, cfg, T, list);
    const final_norm = { scale: f.final_scale, mean: layerNorm ? f.final_mean : undefined };
    const record: GpuForwardRecord = { T, ids: ids.slice(), layers, h_final: f.h_final, final_norm, xF: new Float32Array(0), buffers: list };

    for (let l = 0; l < L; l++) {
      const r = layers[l]!;
      const ablation = {
        heads: (opts.ablation?.heads ?? []).filter((a) => a.layer === l).map((a) => a.head),
        neurons: (opts.ablation?.neurons ?? []).filter((a) => a.layer === l).map((a) => a.neuron),
      };
      // Layers queue back to back; the read-back below waits.
      await recordStep(pool, `forward layer ${l}`, async (step) => {
        if (l === 0) {
          await embed(step, cfg, weights, idsBuf, posBuf, r.h_in, T);
          await residualStats(step, cfg, r.h_in, r.attn_norm, T);
        } else {
          const p = layers[l - 1]!;
          await residualStats(step, cfg, p.h_mid, r.attn_norm, T, { delta: p.mlp_out, out: r.h_in });
        }
        await forwardLayer(step, cfg, l, weights.layers[l]!, r, s, { T, B: 1 }, k, ablation);
      });
    }

    const Vc = vocabChunk(cfg, T, maxBinding);
    const slots = Math.ceil(V / Vc) * TOP_K;
    const last = layers[L - 1]!;
    await recordStep(
      pool,
      'forward final norm and logits',
      async (step) => {
        await residualStats(step, cfg, last.h_mid, final_norm, T, { delta: last.mlp_out, out: f.h_final });
        await unembed(step, parts, f.h_final, f.final_scale, s.x, f.logits, f.top_ids, f.top_vals, 0, T, Vc, slots);
      },
      true,
    );
    record.xF = await readF32(device, s.x, 0, T * D);

    let lens: TopEntry[][][] | undefined;
    if (opts.lens) {
      const lensNorm = { scale: f.lens_scale, mean: layerNorm ? f.lens_mean : undefined };
      for (let l = 0; l < L; l++) {
        const h = l + 1 < L ? layers[l + 1]!.h_in : f.h_final;
        await recordStep(pool, `logit lens layer ${l}`, async (step) => {
          await residualStats(step, cfg, h, lensNorm, T);
          await unembed(step, parts, h, f.lens_scale, s.x, f.logits, f.lens_ids, f.lens_vals, l * T * slots, T, Vc, slots);
        });
      }
      const li = await readU32(device, f.lens_ids, 0, L * T * slots);
      const lv = await readF32(device, f.lens_vals, 0, L * T * slots);
      lens = Array.from({ length: T }, (_, t) => Array.from({ length: L }, (_, l) => capped(mergeTop(li, lv, (l * T + t) * slots, slots), cfg)));
    }
    const ti = await readU32(device, f.top_ids, 0, T * slots);
    const tv = await readF32(device, f.top_vals, 0, T * slots);
    const top = Array.from({ length: T }, (_, t) => capped(mergeTop(ti, tv, t * slots, slots), cfg));
    return { record, summary: { T, top, lens, targetLogits: async () => [] } };
  } catch (e) {
    for (const b of list) b.destroy();
    throw e;
  }
}

/** x = final norm of h (scale given), logits in vocabulary chunks, top-k of each chunk into slots. */
async function unembed(
  step: Step,
  parts: EngineParts,
  h: GPUBuffer,
  scale: GPUBuffer,
  x: GPUBuffer,
  logits: GPUBuffer,
  ids: GPUBuffer,
  vals: GPUBuffer,
  o0: number,
  T: number,
  Vc: number,
  slots: number,
): Promise<void> {
  const { cfg, weights } = parts;
  await applyNorm(step, cfg, h, scale, weights.norm, x, T);
  await topLogits(step, weights.lm_head, x, logits, ids, vals, o0, T, Vc, slots);
}

/** Logits x W^T in vocabulary chunks of Vc rows, with each chunk's top-k into slots o0.. of [T, slots]. */
async function topLogits(
  step: Step,
  W: GpuMatrix,
  x: GPUBuffer,
  logits: GPUBuffer,
  ids: GPUBuffer,
  vals: GPUBuffer,
  o0: number,
  T: number,
  Vc: number,
  slots: number,
): Promise<void> {
  for (let v0 = 0, c = 0; v0 < W.rows; v0 += Vc, c++) {
    const N = Math.min(Vc, W.rows - v0);
    await ops.linear(step, { X: x, W, n0: v0, N, Y: logits, R: T, K: W.cols });
    await ops.topk(step, { logits, ids, vals, T, Vc: N, v0, o0: o0 + c * TOP_K, ldo: slots, k: TOP_K });
  }
}

/**
 * The k (<= TOP_K) tokens each neuron's write promotes most: top-k of W_U Wdown[:, j], on the GPU.
 * Column j of Wdown [D, I] is picked out by a one-hot row (a product with the matrix as stored).
 */
export async function neuronPromotes(parts: EngineParts, layer: number, neurons: number[], k: number): Promise<NeuronPromotes[]> {
  const { device, cfg, weights, pool, maxBinding } = parts;
  const { D, I } = dims(cfg);
  const G = neurons.length;
  if (G === 0) return [];
  const Vc = vocabChunk(cfg, G, maxBinding);
  const slots = Math.ceil(cfg.vocab_size / Vc) * TOP_K;
  const oneHot = new Float32Array(G * I);
  neurons.forEach((j, g) => (oneHot[g * I + j] = 1));
  const list: GPUBuffer[] = [];
  try {
    const sel = uploadStorage(device, 'neuron one-hot rows', oneHot);
    list.push(sel);
    const b = await allocate(
      device,
      {
        cols: { what: 'down columns [G, D]', bytes: G * D * F32, count: 1 },
        logits: { what: `logits chunk [G, ${Vc}]`, bytes: G * Vc * F32, count: 1 },
        ids: { what: 'top-k candidates', bytes: G * slots * F32, count: 1 },
        vals: { what: 'top-k candidates', bytes: G * slots * F32, count: 1 },
      },
      list,
      'promotes ',
    );
    await recordStep(pool, 'neuron promotes', async (step) => {
      await ops.linear(step, { X: sel, W: weights.layers[layer]!.down_proj.weight, Y: b.cols, R: G, K: I });
      await topLogits(step, weights.lm_head, b.cols, b.logits, b.ids, b.vals, 0, G, Vc, slots);
    });
    const ids = await readU32(device, b.ids, 0, G * slots);
    const vals = await readF32(device, b.vals, 0, G * slots);
    return neurons.map((neuron, g) => ({ neuron, top: mergeTop(ids, vals, g * slots, slots).slice(0, k) }));
  } finally {
    for (const buf of list) buf.destroy();
  }
}

/** Logits as the model reports them: through Gemma 2's final soft-cap (the order does not change). */
function capped(entries: TopEntry[], cfg: ModelDescription): TopEntry[] {
  const cap = cfg.final_logit_softcapping;
  return cap ? entries.map((e) => ({ id: e.id, logit: cappedLogit(e.logit, cap) })) : entries;
}

/** The top-k of a row's candidate slots (ties to the lower id), dropping empty slots. */
function mergeTop(ids: Uint32Array, vals: Float32Array, o: number, slots: number): TopEntry[] {
  const cand: TopEntry[] = [];
  for (let q = 0; q < slots; q++) if (ids[o + q] !== 0xffffffff) cand.push({ id: ids[o + q]!, logit: vals[o + q]! });
  cand.sort((a, b) => b.logit - a.logit || a.id - b.id);
  return cand.slice(0, TOP_K);
}
