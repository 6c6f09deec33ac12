// Neuron ablation on the GPU, the baseline that DePass's neuron mode is measured against: the
// target logit with one MLP neuron of a layer zeroed, for many neurons, each a forward pass from
// the layer after it on. Not part of an attribution run (the benchmark and validation use it).
// B ablated copies of the prompt share one pass as B x T rows, interleaved by copy (row t*B + b):
// matmuls and norms see B*T rows, while attention stays per copy because [T, B, H, dh] is exactly
// [T, B*H, dh], i.e. B*H heads of T positions for the existing attention kernels.

import type { TargetSpec } from '../depass/backend';
import type { ModelDescription, ModelWeights } from '../model/description';
import { bytesPerElement } from '../model/description';
import { bytesToFloat32 } from '../model/dtype';
import { createStorage, readF32, uploadStorage } from './buffers';
import type { GpuContext } from './device';
import { kernelCache, type ShaderLoader } from './kernels';
import * as ops from './ops';
import { Step, StepPool } from './step';
import { f32Matrix, type GpuWeights, uploadWeights } from './weights';

const F32 = 4;
const MAX_GROUPS = 65535; // per dispatch dimension: norm rows, embedding rows and attention heads index it

/** Scratch for up to `copies` copies of T rows (every name is a [rows, width] f32 matrix). */
interface Scratch {
  T: number;
  n: number;
  copies: number;
  hIn: GPUBuffer; // [T*B, D] residual entering the layer (the ablated state at the start)
  hMid: GPUBuffer; // [T*B, D]
  attnOut: GPUBuffer; // [T*B, D]
  mlpOut: GPUBuffer; // [T*B, D]
  x: GPUBuffer; // [T*B, D] normalised state
  q: GPUBuffer; // [T*B, H*dh]
  y: GPUBuffer; // [T*B, H*dh]
  k: GPUBuffer; // [T*B, Hkv*dh]
  v: GPUBuffer; // [T*B, Hkv*dh]
  gate: GPUBuffer; // [T*B, I]
  up: GPUBuffer; // [T*B, I]
  act: GPUBuffer; // [T*B, I]
  A: GPUBuffer; // [B*H, T, T]
  scale: GPUBuffer; // [T*B]
  mean: GPUBuffer; // [T*B] LayerNorm only
  out: GPUBuffer; // [B, n] target logits
}

interface Prepared {
  T: number;
  layer: number;
  targets: TargetSpec[];
  hAfter: GPUBuffer; // [T, D] residual after layer `layer` (its MLP included)
  act: GPUBuffer; // [T, I] activations of layer `layer`
  dirs: GPUBuffer; // [n, D] unembedding rows (minus contrast rows) of the targets
  rope: GPUBuffer | null; // [2, T, dh/2]
  positions: GPUBuffer; // [T] 0..T-1 (learned position embeddings)
  zeroStart: GPUBuffer; // [1]
  clean: Float64Array; // [n] target logits without ablation
  buffers: GPUBuffer[];
}

export class NeuronAblation {
  private prepared: Prepared | null = null;
  private scratch: Scratch | null = null;
  private scratchBuffers: GPUBuffer[] = [];

  private constructor(
    readonly ctx: GpuContext,
    readonly description: ModelDescription,
    private readonly modelWeights: ModelWeights,
    private readonly weights: GpuWeights,
    private readonly pool: StepPool,
    /** Bytes of scratch one pass may take (its copies are sized by it). */
    readonly memoryBudget: number,
  ) {}

  static async create(
    ctx: GpuContext,
    description: ModelDescription,
    weights: ModelWeights,
    loadShader: ShaderLoader,
    opts: { memoryBudget?: number } = {},
  ): Promise<NeuronAblation> {
    const maxOne = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
    const w = uploadWeights(ctx.device, description, weights, maxOne);
    const pool = new StepPool(ctx.device, kernelCache(ctx.device, loadShader));
    if (ctx.adapter.isFallbackAdapter) pool.largeTileOutputs = 4 * 128 * 128; // as the engine does
    return new NeuronAblation(ctx, description, weights, w, pool, opts.memoryBudget ?? 1024 * 1024 * 1024);
  }

  private get maxBinding(): number {
    return Math.min(this.ctx.limits.maxStorageBufferBindingSize, this.ctx.limits.maxBufferSize);
  }

  /** Bytes of scratch per copy of T rows, and the largest single buffer per copy. */
  private perCopy(T: number): { total: number; largest: number } {
    const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh, intermediate_size: I } = this.description;
    const widths = [D, D, D, D, D, H * dh, H * dh, Hkv * dh, Hkv * dh, I, I, I, H * T, 2];
    return { total: T * F32 * widths.reduce((a, b) => a + b, 0), largest: T * F32 * Math.max(D, H * dh, I, H * T) };
  }

  /** The most ablated copies one pass holds for T tokens (binding, budget and dispatch limits). */
  maxCopies(T: number): number {
    const c = this.perCopy(T);
    const byDispatch = Math.min(Math.floor(MAX_GROUPS / T), Math.floor(MAX_GROUPS / this.description.num_attention_heads));
    return Math.max(1, Math.min(Math.floor(this.maxBinding / c.largest), Math.floor(this.memoryBudget / c.total), byDispatch));
  }

  private lmHeadRow(id: number): Float32Array {
    const D = this.description.hidden_size;
    const t = this.modelWeights.lm_head;
    const size = bytesPerElement(t.dtype);
    return bytesToFloat32(t.bytes.subarray(id * D * size, (id + 1) * D * size), t.dtype);
  }

  private ensureScratch(T: number, copies: number): Scratch {
    const n = this.prepared?.targets.length ?? 1;
    const have = this.scratch;
    if (have && have.T === T && have.n === n && have.copies >= copies) return have;
    for (const b of this.scratchBuffers) b.destroy();
    this.scratchBuffers = [];
    const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh, intermediate_size: I } = this.description;
    const R = T * copies;
    const make = (name: string, elems: number) => {
      const b = createStorage(this.ctx.device, `ablation ${name}`, elems * F32);
      this.scratchBuffers.push(b);
      return b;
    };
    this.scratch = {
      T,
      n,
      copies,
      hIn: make('h_in', R * D),
      hMid: make('h_mid', R * D),
      attnOut: make('attn_out', R * D),
      mlpOut: make('mlp_out', R * D),
      x: make('x', R * D),
      q: make('q', R * H * dh),
      y: make('y', R * H * dh),
      k: make('k', R * Hkv * dh),
      v: make('v', R * Hkv * dh),
      gate: make('gate', R * I),
      up: make('up', R * I),
      act: make('act', R * I),
      A: make('A', copies * H * T * T),
      scale: make('scale', R),
      mean: make('mean', R),
      out: make('logits', copies * n),
    };
    return this.scratch;
  }

  /**
   * The clean forward pass (one copy): keeps the residual after `layer` and its activations, from
   * which every ablation of that layer starts. Returns the clean target logits [n].
   */
  async prepare(ids: number[], layer: number, targets: TargetSpec[]): Promise<Float64Array> {
    const cfg = this.description;
    const T = ids.length;
    const { hidden_size: D, intermediate_size: I } = cfg;
    if (!(Number.isInteger(layer) && layer >= 0 && layer < cfg.num_hidden_layers)) throw new RangeError(`layer ${layer} is out of range`);
    if (T === 0 || targets.length === 0) throw new Error('ablation: no tokens or no targets');
    for (const tg of targets) if (!(tg.position >= 0 && tg.position < T)) throw new RangeError(`target position ${tg.position} is out of range`);
    this.release();
    const dev = this.ctx.device;
    const buffers: GPUBuffer[] = [];
    const keep = <B extends GPUBuffer>(b: B) => (buffers.push(b), b);
    const dirs = new Float32Array(targets.length * D);
    targets.forEach((tg, i) => {
      const w = this.lmHeadRow(tg.id);
      if (tg.contrast_id !== null) {
        const c = this.lmHeadRow(tg.contrast_id);
        for (let d = 0; d < D; d++) w[d] = w[d]! - c[d]!;
      }
      dirs.set(w, i * D);
    });
    const p: Prepared = {
      T,
      layer,
      targets: targets.slice(),
      hAfter: keep(createStorage(dev, 'ablation start state', T * D * F32)),
      act: keep(createStorage(dev, 'ablation clean activations', T * I * F32)),
      dirs: keep(uploadStorage(dev, 'ablation target directions', dirs)),
      rope: cfg.positionKind === 'rope' ? keep(uploadStorage(dev, 'ablation rope table', ops.ropeTable(T, cfg.head_dim, cfg.rope_theta))) : null,
      positions: keep(uploadStorage(dev, 'ablation positions', Uint32Array.from({ length: T }, (_, t) => t))),
      zeroStart: keep(uploadStorage(dev, 'ablation start 0', new Uint32Array(1))),
      clean: new Float64Array(0),
      buffers,
    };
    this.prepared = p;
    const s = this.ensureScratch(T, 1);
    const idBuf = keep(uploadStorage(dev, 'ablation token ids', Uint32Array.from(ids)));
    await this.record('clean embedding', async (step) => {
      await ops.gather(step, { table: this.weights.embed_tokens, ids: idBuf, out: s.hIn, T });
      if (this.weights.embed_positions) await ops.gather(step, { table: this.weights.embed_positions, ids: p.positions, out: s.hIn, T, accumulate: true });
    });
    p.clean = Float64Array.from(await this.pass(0, 1, { layer, act: p.act, hAfter: p.hAfter }));
    return p.clean;
  }

  /** Clean target logits of the prepared prompt [n]. */
  get clean(): Float64Array {
    if (!this.prepared) throw new Error('ablation: prepare() first');
    return this.prepared.clean;
  }

  /**
   * Target logits [to - from, n] with neuron j of the prepared layer zeroed, for j in from..to-1,
   * `copies` neurons per pass (1: one pass per neuron) and one read-back per pass.
   */
  async ablate(from: number, to: number, copies: number): Promise<Float64Array> {
    const p = this.prepared;
    if (!p) throw new Error('ablation: prepare() first');
    const cfg = this.description;
    const { hidden_size: D, intermediate_size: I } = cfg;
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= I)) throw new RangeError(`neurons ${from}-${to - 1} are out of range`);
    const B = Math.max(1, Math.min(copies, to - from, this.maxCopies(p.T)));
    const T = p.T;
    const n = p.targets.length;
    const s = this.ensureScratch(T, B);
    const dev = this.ctx.device;
    // Row t*b + c of a pass of b copies starts as row t of the clean state: one gather with ids t repeated b times.
    const gatherIds = new Map<number, GPUBuffer>();
    const idsFor = (b: number) => {
      let buf = gatherIds.get(b);
      if (!buf) {
        buf = uploadStorage(dev, `ablation rows of ${b} copies`, Uint32Array.from({ length: T * b }, (_, r) => Math.floor(r / b)));
        gatherIds.set(b, buf);
      }
      return buf;
    };
    const startTable = f32Matrix('ablation start state', p.hAfter, T, D);
    const down = this.weights.layers[p.layer]!.down_proj.weight;
    const result = new Float64Array((to - from) * n);
    try {
      for (let j0 = from; j0 < to; j0 += B) {
        const b = Math.min(B, to - j0);
        await this.record(`ablate neurons ${j0}-${j0 + b - 1}`, async (step) => {
          await ops.gather(step, { table: startTable, ids: idsFor(b), out: s.hIn, T: T * b });
          // Copy c loses neuron j0 + c's write a[t][j] * Wdown[:, j] at every position t.
          await ops.linear(step, { X: p.act, x0: j0, ldx: I, xb: 1, K: 1, W: down, k0: j0, wb: 1, batch: b, Y: s.hIn, yb: D, ldy: b * D, R: T, alpha: -1, accumulate: true });
        });
        const logits = await this.pass(p.layer + 1, b);
        for (let i = 0; i < b * n; i++) result[(j0 - from) * n + i] = logits[i]!;
      }
    } finally {
      for (const buf of gatherIds.values()) buf.destroy();
    }
    return result;
  }

  /**
   * Layers `from`.. over B copies whose state enters in hIn (statistics not yet taken), then the
   * target logits read back [B, n]. `save` keeps the residual after a layer and its activations.
   */
  private async pass(from: number, B: number, save?: { layer: number; act: GPUBuffer; hAfter: GPUBuffer }): Promise<Float32Array> {
    const p = this.prepared!;
    const cfg = this.description;
    const T = p.T;
    const R = T * B;
    const { hidden_size: D, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh, intermediate_size: I, num_hidden_layers: L } = cfg;
    const layerNorm = cfg.normKind === 'layer';
    const eps = cfg.norm_eps;
    const s = this.ensureScratch(T, B);
    const mean = layerNorm ? s.mean : undefined;
    // The residual entering layer l (or the final norm) and its statistics.
    const residual = async (step: Step, l: number) => {
      if (l === from) await ops.normStats(step, { h: s.hIn, scale: s.scale, mean, T: R, D, eps, layer: layerNorm });
      else await ops.normStats(step, { h: s.hMid, delta: s.mlpOut, hOut: s.hIn, scale: s.scale, mean, T: R, D, eps, layer: layerNorm });
      if (save && l === save.layer + 1) step.copy(s.hIn, 0, save.hAfter, 0, T * D * F32);
    };
    for (let l = from; l < L; l++) {
      const w = this.weights.layers[l]!;
      await this.record(`ablation layer ${l}`, async (step) => {
        await residual(step, l);
        const n1 = w.input_layernorm;
        await ops.normApply(step, { x: s.hIn, scale: s.scale, gamma: n1.weight, beta: n1.bias, y: s.x, R, D, T: R, center: layerNorm });
        await ops.linear(step, { X: s.x, W: w.q_proj.weight, bias: w.q_proj.bias, Y: s.q, R, K: D });
        await ops.linear(step, { X: s.x, W: w.k_proj.weight, bias: w.k_proj.bias, Y: s.k, R, K: D });
        await ops.linear(step, { X: s.x, W: w.v_proj.weight, bias: w.v_proj.bias, Y: s.v, R, K: D });
        if (cfg.hasQkNorm) {
          await ops.headNorm(step, { gamma: w.q_norm!.weight, x: s.q, rows: R * H, dh, eps });
          await ops.headNorm(step, { gamma: w.k_norm!.weight, x: s.k, rows: R * Hkv, dh, eps });
        }
        if (p.rope) {
          await ops.rope(step, { table: p.rope, x: s.q, T, nh: B * H, dh });
          await ops.rope(step, { table: p.rope, x: s.k, T, nh: B * Hkv, dh });
        }
        await ops.attentionProbs(step, { q: s.q, k: s.k, A: s.A, T, H: B * H, Hkv: B * Hkv, dh });
        await ops.attentionMix(step, { A: s.A, v: s.v, start: p.zeroStart, y: s.y, M: 1, T, H: B * H, Hkv: B * Hkv, dh });
        await ops.linear(step, { X: s.y, W: w.o_proj.weight, bias: w.o_proj.bias, Y: s.attnOut, R, K: H * dh });
        await ops.normStats(step, { h: s.hIn, delta: s.attnOut, hOut: s.hMid, scale: s.scale, mean, T: R, D, eps, layer: layerNorm });
        const n2 = w.post_attention_layernorm;
        await ops.normApply(step, { x: s.hMid, scale: s.scale, gamma: n2.weight, beta: n2.bias, y: s.x, R, D, T: R, center: layerNorm });
        if (cfg.mlpKind === 'gated') {
          await ops.linear(step, { X: s.x, W: w.gate_proj!.weight, bias: w.gate_proj!.bias, Y: s.gate, R, K: D });
          await ops.linear(step, { X: s.x, W: w.up_proj.weight, bias: w.up_proj.bias, Y: s.up, R, K: D });
          await ops.activation(step, { gate: s.gate, up: s.up, a: s.act, n: R * I, act: cfg.hidden_act });
        } else {
          await ops.linear(step, { X: s.x, W: w.up_proj.weight, bias: w.up_proj.bias, Y: s.gate, R, K: D });
          await ops.activation(step, { gate: s.gate, a: s.act, n: R * I, act: cfg.hidden_act });
        }
        if (save && l === save.layer) step.copy(s.act, 0, save.act, 0, T * I * F32);
        await ops.linear(step, { X: s.act, W: w.down_proj.weight, bias: w.down_proj.bias, Y: s.mlpOut, R, K: I });
      });
    }
    // Final norm of the target positions' rows only (rows p*B.. of the interleaved layout), then one dot per target.
    const n = p.targets.length;
    await this.record('ablation read-out', async (step) => {
      await residual(step, L);
      const fn = this.weights.norm;
      await ops.normApply(step, { x: s.hIn, scale: s.scale, gamma: fn.weight, beta: fn.bias, y: s.x, R, D, T: R, center: layerNorm });
      const dirs = f32Matrix('ablation target directions', p.dirs, n, D);
      for (const [i, tg] of p.targets.entries()) {
        await ops.linear(step, { X: s.x, x0: tg.position * B * D, W: dirs, n0: i, N: 1, Y: s.out, y0: i, ldy: n, R: B, K: D });
      }
    });
    return readF32(this.ctx.device, s.out, 0, B * n);
  }

  private async record(label: string, fn: (step: Step) => Promise<void>): Promise<void> {
    const step = new Step(this.pool, label);
    try {
      await fn(step);
    } catch (e) {
      await step.abandon();
      throw e;
    }
    await step.submit(false);
  }

  private release(): void {
    if (this.prepared) for (const b of this.prepared.buffers) b.destroy();
    this.prepared = null;
  }

  destroy(): void {
    this.release();
    for (const b of this.scratchBuffers) b.destroy();
    this.scratchBuffers = [];
    this.scratch = null;
    for (const b of this.weights.buffers) b.destroy();
    this.pool.destroy();
  }
}
