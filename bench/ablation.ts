// Neuron ablation on the GPU, the baseline that DePass's neuron mode is measured against: the
// target logit with one MLP neuron of a layer zeroed, for many neurons, each a forward pass from
// the layer after it on. Not part of an attribution run (the benchmark and validation use it).
// B ablated copies of the prompt share one pass as B x T rows, interleaved by copy (row t*B + b):
// matmuls and norms see B*T rows, while attention stays per copy because [T, B, H, dh] is exactly
// [T, B*H, dh], i.e. B*H heads of T positions for the existing attention kernels.

import type { TargetSpec } from '../src/depass/backend';
import { targetDirections } from '../src/depass/plan';
import { bytesPerElement, dims, type ModelDescription, type ModelWeights } from '../src/model/description';
import { bytesToFloat32 } from '../src/model/dtype';
import { createStorage, readF32, uploadStorage } from '../src/gpu/buffers';
import type { GpuContext } from '../src/gpu/device';
import { engineParts } from '../src/gpu/engine';
import {
  asLayerRecord,
  embed,
  type EngineParts,
  type ForwardScratch,
  forwardLayer,
  type GpuLayerRecord,
  type LayerConstants,
  layerConstants,
  residualStats,
} from '../src/gpu/forward';
import type { ShaderLoader } from '../src/gpu/kernels';
import { allocate, forwardScratchLayout, layerRecordLayout } from '../src/gpu/memory';
import * as ops from '../src/gpu/ops';
import { recordStep } from '../src/gpu/step';
import { f32Matrix } from '../src/gpu/weights';

const F32 = 4;
const MAX_GROUPS = 65535; // per dispatch dimension: norm rows, embedding rows and attention heads index it

/** Buffers for up to `copies` copies of T rows: one reused layer record, the layer step's scratch, the target logits. */
interface Scratch {
  T: number;
  n: number;
  copies: number;
  r: GpuLayerRecord; // [T*B, ...]; A [B*H, T, T]
  s: ForwardScratch;
  out: GPUBuffer; // [B, n] target logits
}

interface Prepared {
  T: number;
  layer: number;
  targets: TargetSpec[];
  hAfter: GPUBuffer; // [T, D] residual after layer `layer` (its MLP included)
  act: GPUBuffer; // [T, I] activations of layer `layer`
  dirs: GPUBuffer; // [n, D] unembedding rows (minus contrast rows) of the targets
  k: LayerConstants; // RoPE table of T positions, start 0
  positions: GPUBuffer; // [T] 0..T-1 (learned position embeddings)
  clean: Float64Array; // [n] target logits without ablation
  buffers: GPUBuffer[];
}

export class NeuronAblation {
  private prepared: Prepared | null = null;
  private scratch: Scratch | null = null;
  private scratchBuffers: GPUBuffer[] = [];

  private constructor(
    private readonly parts: EngineParts,
    private readonly modelWeights: ModelWeights,
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
    return new NeuronAblation(await engineParts(ctx, description, weights, loadShader), weights, opts.memoryBudget ?? 1024 * 1024 * 1024);
  }

  /** Bytes of scratch per copy of T rows, and the largest single buffer per copy. */
  private perCopy(T: number): { total: number; largest: number } {
    const cfg = this.parts.cfg;
    const plans = [...Object.values(layerRecordLayout(cfg, T)), ...Object.values(forwardScratchLayout(cfg, T))];
    return { total: plans.reduce((a, p) => a + p.bytes, 0), largest: Math.max(...plans.map((p) => p.bytes)) };
  }

  /** The most ablated copies one pass holds for T tokens (binding, budget and dispatch limits). */
  maxCopies(T: number): number {
    const c = this.perCopy(T);
    const byDispatch = Math.min(Math.floor(MAX_GROUPS / T), Math.floor(MAX_GROUPS / this.parts.cfg.num_attention_heads));
    return Math.max(1, Math.min(Math.floor(this.parts.maxBinding / c.largest), Math.floor(this.memoryBudget / c.total), byDispatch));
  }

  private lmHeadRow(id: number): Float32Array {
    const D = this.parts.cfg.hidden_size;
    const t = this.modelWeights.lm_head;
    const size = bytesPerElement(t.dtype);
    return bytesToFloat32(t.bytes.subarray(id * D * size, (id + 1) * D * size), t.dtype);
  }

  private async ensureScratch(T: number, copies: number): Promise<Scratch> {
    const n = this.prepared?.targets.length ?? 1;
    const have = this.scratch;
    if (have && have.T === T && have.n === n && have.copies >= copies) return have;
    for (const b of this.scratchBuffers) b.destroy();
    this.scratchBuffers = [];
    const { device, cfg } = this.parts;
    const list = this.scratchBuffers;
    const r = asLayerRecord(await allocate(device, layerRecordLayout(cfg, T, 1, copies), list, 'ablation '), cfg);
    const s = await allocate(device, forwardScratchLayout(cfg, T, copies), list, 'ablation ');
    const out = createStorage(device, 'ablation logits', copies * n * F32);
    list.push(out);
    this.scratch = { T, n, copies, r, s, out };
    return this.scratch;
  }

  /**
   * The clean forward pass (one copy): keeps the residual after `layer` and its activations, from
   * which every ablation of that layer starts. Returns the clean target logits [n].
   */
  async prepare(ids: number[], layer: number, targets: TargetSpec[]): Promise<Float64Array> {
    const { device, cfg } = this.parts;
    const T = ids.length;
    const { D, I, L } = dims(cfg);
    if (!(Number.isInteger(layer) && layer >= 0 && layer < L)) throw new RangeError(`layer ${layer} is out of range`);
    if (T === 0 || targets.length === 0) throw new Error('ablation: no tokens or no targets');
    for (const tg of targets) if (!(tg.position >= 0 && tg.position < T)) throw new RangeError(`target position ${tg.position} is out of range`);
    this.release();
    const buffers: GPUBuffer[] = [];
    const keep = <B extends GPUBuffer>(b: B) => (buffers.push(b), b);
    const p: Prepared = {
      T,
      layer,
      targets: targets.slice(),
      hAfter: keep(createStorage(device, 'ablation start state', T * D * F32)),
      act: keep(createStorage(device, 'ablation clean activations', T * I * F32)),
      dirs: keep(
        uploadStorage(
          device,
          'ablation target directions',
          targetDirections((id) => this.lmHeadRow(id), D, targets),
        ),
      ),
      k: layerConstants(device, cfg, T, buffers),
      positions: keep(
        uploadStorage(
          device,
          'ablation positions',
          Uint32Array.from({ length: T }, (_, t) => t),
        ),
      ),
      clean: new Float64Array(0),
      buffers,
    };
    this.prepared = p;
    const sc = await this.ensureScratch(T, 1);
    const idBuf = keep(uploadStorage(device, 'ablation token ids', Uint32Array.from(ids)));
    await recordStep(this.parts.pool, 'clean embedding', (step) => embed(step, this.parts.cfg, this.parts.weights, idBuf, p.positions, sc.r.h_in, T));
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
    const { device, cfg, pool, weights } = this.parts;
    const { D, I } = dims(cfg);
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from < to && to <= I))
      throw new RangeError(`neurons ${from}-${to - 1} are out of range`);
    const B = Math.max(1, Math.min(copies, to - from, this.maxCopies(p.T)));
    const T = p.T;
    const n = p.targets.length;
    const sc = await this.ensureScratch(T, B);
    // Row t*b + c of a pass of b copies starts as row t of the clean state: one gather with ids t repeated b times.
    const gatherIds = new Map<number, GPUBuffer>();
    const idsFor = (b: number) => {
      let buf = gatherIds.get(b);
      if (!buf) {
        buf = uploadStorage(
          device,
          `ablation rows of ${b} copies`,
          Uint32Array.from({ length: T * b }, (_, r) => Math.floor(r / b)),
        );
        gatherIds.set(b, buf);
      }
      return buf;
    };
    const startTable = f32Matrix('ablation start state', p.hAfter, T, D);
    const down = weights.layers[p.layer]!.down_proj.weight;
    const result = new Float64Array((to - from) * n);
    try {
      for (let j0 = from; j0 < to; j0 += B) {
        const b = Math.min(B, to - j0);
        await recordStep(pool, `ablate neurons ${j0}-${j0 + b - 1}`, async (step) => {
          await ops.gather(step, { table: startTable, ids: idsFor(b), out: sc.r.h_in, T: T * b });
          // Copy c loses neuron j0 + c's write a[t][j] * Wdown[:, j] at every position t.
          await ops.linear(step, {
            X: p.act,
            x0: j0,
            ldx: I,
            xb: 1,
            K: 1,
            W: down,
            k0: j0,
            wb: 1,
            batch: b,
            Y: sc.r.h_in,
            yb: D,
            ldy: b * D,
            R: T,
            alpha: -1,
            accumulate: true,
          });
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
   * Layers `from`.. over B copies whose state enters in r.h_in (statistics not yet taken), each the
   * engine's own layer step, then the target logits read back [B, n]. `save` keeps the residual
   * after a layer and its activations.
   */
  private async pass(from: number, B: number, save?: { layer: number; act: GPUBuffer; hAfter: GPUBuffer }): Promise<Float32Array> {
    const p = this.prepared!;
    const { device, cfg, pool, weights } = this.parts;
    const { D, I, L } = dims(cfg);
    const T = p.T;
    const R = T * B;
    const { r, s, out } = await this.ensureScratch(T, B);
    // The residual entering layer l (or the final norm) and its statistics.
    const residual = async (step: Parameters<typeof residualStats>[0], l: number) => {
      if (l === from) await residualStats(step, cfg, r.h_in, r.attn_norm, R);
      else await residualStats(step, cfg, r.h_mid, r.attn_norm, R, { delta: r.mlp_out, out: r.h_in });
      if (save && l === save.layer + 1) step.copy(r.h_in, 0, save.hAfter, 0, T * D * F32);
    };
    for (let l = from; l < L; l++) {
      await recordStep(pool, `ablation layer ${l}`, async (step) => {
        await residual(step, l);
        await forwardLayer(step, cfg, l, weights.layers[l]!, r, s, { T, B }, p.k);
        if (save && l === save.layer) step.copy(r.act, 0, save.act, 0, T * I * F32);
      });
    }
    // Final norm of the target positions' rows only (rows p*B.. of the interleaved layout), then one dot per target.
    const n = p.targets.length;
    await recordStep(pool, 'ablation read-out', async (step) => {
      await residual(step, L);
      const fn = weights.norm;
      await ops.normApply(step, { x: r.h_in, scale: r.attn_norm.scale, gamma: fn.weight, beta: fn.bias, y: s.x, R, D, T: R, center: cfg.normKind === 'layer' });
      const dirs = f32Matrix('ablation target directions', p.dirs, n, D);
      for (const [i, tg] of p.targets.entries()) {
        await ops.linear(step, { X: s.x, x0: tg.position * B * D, W: dirs, n0: i, N: 1, Y: out, y0: i, ldy: n, R: B, K: D });
      }
    });
    return readF32(device, out, 0, B * n);
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
    for (const b of this.parts.weights.buffers) b.destroy();
    this.parts.pool.destroy();
  }
}
