// The WebGPU engine behind the AttributionBackend interface: the normal forward pass of every
// supported family with its frozen record kept on the GPU, and one decomposed pass whose initial
// components the granularity chooses (the GPU mirror of cpu-backend.ts's builders). One command
// encoder per layer step; read-back only of results. Knows nothing of workers, React or Node.

import type { AttributeOptions, AttributionBackend, ForwardSummary, InitialComponents, ModeRequest, ModeScores, TargetSpec } from '../depass/backend';
import type { Ablation } from '../depass/forward';
import { PROPORTIONAL_GUARD } from '../depass/ops';
import type { TopEntry } from '../depass/result';
import type { ModelDescription, ModelWeights, Tensor } from '../model/description';
import { bytesPerElement } from '../model/description';
import { bytesToFloat32 } from '../model/dtype';
import { createStorage, readF32, readU32, uploadStorage } from './buffers';
import type { GpuContext } from './device';
import { kernelCache, type ShaderLoader } from './kernels';
import {
  checkMemory,
  componentsOf,
  decomposedBuffers,
  estimateMemory,
  GpuMemoryError,
  maxComponentsFor,
  TOP_K,
  vocabChunk,
} from './memory';
import * as ops from './ops';
import { Step, StepPool } from './step';
import { f32Matrix, type GpuMatrix, type GpuWeights, uploadWeights } from './weights';

export interface GpuBackendOptions {
  /** Bytes of GPU memory for records, scratch and components (default 2 GiB). */
  memoryBudget?: number;
  /** Preferred neurons per MLP tile of the decomposed pass (default 1024; fewer when memory is short). */
  neuronTile?: number;
}

/** What one layer's forward pass leaves on the GPU for the decomposed pass (cf. forward.ts LayerRecord). */
interface GpuLayerRecord {
  h_in: GPUBuffer; // [T, D] residual entering the layer
  h_mid: GPUBuffer; // [T, D] h_in + attn_out
  attn_out: GPUBuffer; // [T, D]
  mlp_out: GPUBuffer; // [T, D]
  v: GPUBuffer; // [T, Hkv*dh] values of the real state, biases included
  A: GPUBuffer; // [H, T, T]
  act: GPUBuffer; // [T, I]
  attnScale: GPUBuffer; // [T]
  attnMean?: GPUBuffer; // [T] LayerNorm only
  mlpScale: GPUBuffer; // [T]
  mlpMean?: GPUBuffer; // [T]
}

interface GpuForwardRecord {
  T: number;
  ids: number[];
  layers: GpuLayerRecord[];
  h_final: GPUBuffer; // [T, D]
  finalScale: GPUBuffer; // [T]
  finalMean?: GPUBuffer; // [T]
  xF: Float32Array; // [T, D] final normalised state, read back for target logits
  buffers: GPUBuffer[];
}

/** How a granularity starts the decomposed pass. */
interface Plan {
  M: number;
  rest: number;
  from: number;
  startAtMlp: boolean;
  start: Int32Array; // [M]
  bosRule: boolean;
}

const F32 = 4;
const DEFAULT_BUDGET = 2 * 1024 * 1024 * 1024;

function abortError(): DOMException {
  return new DOMException('Run cancelled', 'AbortError');
}

/** A GpuContext from a bare device (when the caller set the device up itself). */
function contextOf(d: GpuContext | GPUDevice): GpuContext {
  if ('device' in d) return d;
  const l = d.limits;
  return {
    device: d,
    hasF16: d.features.has('shader-f16'),
    adapter: { vendor: '', architecture: '', device: '', description: d.label, isFallbackAdapter: false },
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
      minUniformBufferOffsetAlignment: l.minUniformBufferOffsetAlignment,
    },
  };
}

export class GpuBackend implements AttributionBackend {
  readonly kind = 'webgpu' as const;
  private record: GpuForwardRecord | null = null;
  private destroyed = false;
  /** Calls run one at a time: a forward pass frees the record an attribution may be reading. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly ctx: GpuContext,
    readonly description: ModelDescription,
    private readonly weights: GpuWeights,
    /** The unembedding on the CPU (a reference, not a copy) for target directions and logits. */
    private readonly lmHead: Tensor,
    private readonly pool: StepPool,
    private readonly options: GpuBackendOptions,
  ) {}

  /** Uploads the weights (once) and prepares the kernels of this device. */
  static async create(
    device: GpuContext | GPUDevice,
    description: ModelDescription,
    weights: ModelWeights,
    loadShader: ShaderLoader,
    options: GpuBackendOptions = {},
  ): Promise<GpuBackend> {
    const ctx = contextOf(device);
    const cfg = description;
    if (cfg.num_attention_heads % cfg.num_key_value_heads !== 0) throw new Error(`H = ${cfg.num_attention_heads} is not a multiple of Hkv = ${cfg.num_key_value_heads}`);
    if (cfg.head_dim > ops.MAX_HEAD_DIM) throw new Error(`head_dim ${cfg.head_dim} is larger than the engine supports (${ops.MAX_HEAD_DIM})`);
    if (cfg.positionKind === 'rope' && cfg.head_dim % 2 !== 0) throw new Error(`RoPE needs an even head_dim, got ${cfg.head_dim}`);
    const maxOne = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
    const dev = ctx.device;
    dev.pushErrorScope('out-of-memory');
    let w: GpuWeights;
    try {
      w = uploadWeights(dev, cfg, weights, maxOne);
    } finally {
      const oom = await dev.popErrorScope();
      if (oom) throw new GpuMemoryError(`the model's weights do not fit in GPU memory: ${oom.message}`);
    }
    const pool = new StepPool(dev, kernelCache(dev, loadShader));
    if (ctx.adapter.isFallbackAdapter) pool.largeTileOutputs = 4 * 128 * 128;
    return new GpuBackend(ctx, cfg, w, weights.lm_head, pool, options);
  }

  /** Bytes of the model's weights on the GPU. */
  get weightBytes(): number {
    return this.weights.bytes;
  }

  private get limits() {
    return {
      maxStorageBufferBindingSize: this.ctx.limits.maxStorageBufferBindingSize,
      maxBufferSize: this.ctx.limits.maxBufferSize,
      budget: this.options.memoryBudget ?? DEFAULT_BUDGET,
    };
  }

  private get maxBinding(): number {
    return Math.min(this.ctx.limits.maxStorageBufferBindingSize, this.ctx.limits.maxBufferSize);
  }

  maxComponents(T: number): number {
    return maxComponentsFor(this.description, T, this.limits);
  }

  attentionPattern(layer: number, head: number): Promise<Float32Array> {
    return this.exclusive(() => this.readPattern(layer, head));
  }

  private async readPattern(layer: number, head: number): Promise<Float32Array> {
    this.alive();
    const rec = this.record;
    if (!rec) throw new Error('forward() must run before attentionPattern()');
    const cfg = this.description;
    if (!(Number.isInteger(layer) && layer >= 0 && layer < cfg.num_hidden_layers)) throw new RangeError(`layer ${layer} is out of range`);
    if (!(Number.isInteger(head) && head >= 0 && head < cfg.num_attention_heads)) throw new RangeError(`head ${head} is out of range`);
    const TT = rec.T * rec.T;
    return readF32(this.ctx.device, rec.layers[layer]!.A, head * TT, TT);
  }

  async unembeddingRow(id: number): Promise<Float32Array> {
    return this.lmHeadRow(id);
  }

  private lmHeadRow(id: number): Float32Array {
    const D = this.description.hidden_size;
    if (!Number.isInteger(id) || id < 0 || id >= this.description.vocab_size) throw new RangeError(`token id ${id} is out of range`);
    const size = bytesPerElement(this.lmHead.dtype);
    return bytesToFloat32(this.lmHead.bytes.subarray(id * D * size, (id + 1) * D * size), this.lmHead.dtype);
  }

  /** Frees every GPU buffer of the engine (at once: do not call it while a call is running). */
  destroy(): void {
    this.freeRecord();
    for (const b of this.weights.buffers) b.destroy();
    this.pool.destroy();
    this.destroyed = true;
  }

  private freeRecord(): void {
    if (!this.record) return;
    for (const b of this.record.buffers) b.destroy();
    this.record = null;
  }

  private alive(): void {
    if (this.destroyed) throw new Error('the GPU engine was destroyed');
  }

  private exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Allocates labelled buffers inside an out-of-memory error scope. */
  private async allocate<T extends Record<string, number>>(sizes: T, list: GPUBuffer[], prefix: string): Promise<{ [K in keyof T]: GPUBuffer }> {
    const dev = this.ctx.device;
    dev.pushErrorScope('out-of-memory');
    const out = {} as { [K in keyof T]: GPUBuffer };
    for (const [name, bytes] of Object.entries(sizes)) {
      const b = createStorage(dev, `${prefix}${name}`, bytes);
      list.push(b);
      (out as Record<string, GPUBuffer>)[name] = b;
    }
    const oom = await dev.popErrorScope();
    if (oom) {
      for (const b of list) b.destroy();
      throw new GpuMemoryError(`GPU out of memory allocating ${prefix.trim() || 'buffers'}: ${oom.message}; use fewer tokens`);
    }
    return out;
  }

  // ---------------------------------------------------------------- forward pass

  forward(ids: number[], opts: { lens?: boolean; ablation?: Ablation } = {}): Promise<ForwardSummary> {
    return this.exclusive(() => this.runForward(ids, opts));
  }

  private async runForward(ids: number[], opts: { lens?: boolean; ablation?: Ablation }): Promise<ForwardSummary> {
    this.alive();
    const cfg = this.description;
    const T = ids.length;
    const D = cfg.hidden_size;
    const H = cfg.num_attention_heads;
    const Hkv = cfg.num_key_value_heads;
    const dh = cfg.head_dim;
    const I = cfg.intermediate_size;
    const L = cfg.num_hidden_layers;
    const V = cfg.vocab_size;
    const layerNorm = cfg.normKind === 'layer';
    const eps = cfg.norm_eps;
    if (T === 0) throw new Error('forward: no tokens');
    for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= V) throw new RangeError(`token id ${id} is out of range (vocabulary ${V})`);
    if (cfg.positionKind === 'learned' && T > (this.weights.embed_positions?.rows ?? 0)) {
      throw new RangeError(`${T} tokens exceed the ${this.weights.embed_positions?.rows ?? 0} learned positions`);
    }
    checkMemory(estimateMemory(cfg, T, null, { maxStorageBufferBindingSize: this.maxBinding, lens: opts.lens }), this.limits, null);
    this.freeRecord();

    const list: GPUBuffer[] = [];
    const row = T * D * F32;
    const Vc = vocabChunk(cfg, T, this.maxBinding);
    const slots = Math.ceil(V / Vc) * TOP_K;
    const s = await this.allocate(
      {
        x: row,
        q: T * H * dh * F32,
        k: T * Hkv * dh * F32,
        y: T * H * dh * F32,
        gate: T * I * F32,
        up: T * I * F32,
        h_final: row,
        finalScale: T * F32,
        finalMean: layerNorm ? T * F32 : 0,
        logits: T * Vc * F32,
        topIds: T * slots * F32,
        topVals: T * slots * F32,
        lensIds: opts.lens ? L * T * slots * F32 : 0,
        lensVals: opts.lens ? L * T * slots * F32 : 0,
      },
      list,
      'forward ',
    );
    const layers: GpuLayerRecord[] = [];
    for (let l = 0; l < L; l++) {
      const r = await this.allocate(
        {
          h_in: row,
          h_mid: row,
          attn_out: row,
          mlp_out: row,
          v: T * Hkv * dh * F32,
          A: H * T * T * F32,
          act: T * I * F32,
          attnScale: T * F32,
          attnMean: layerNorm ? T * F32 : 0,
          mlpScale: T * F32,
          mlpMean: layerNorm ? T * F32 : 0,
        },
        list,
        `layer ${l} `,
      );
      layers.push({ ...r, attnMean: layerNorm ? r.attnMean : undefined, mlpMean: layerNorm ? r.mlpMean : undefined });
    }
    const dev = this.ctx.device;
    const idsBuf = uploadStorage(dev, 'token ids', Uint32Array.from(ids));
    const posBuf = uploadStorage(dev, 'positions', Uint32Array.from({ length: T }, (_, t) => t));
    const zeroStart = uploadStorage(dev, 'start 0', new Uint32Array(1));
    list.push(idsBuf, posBuf, zeroStart);
    const ropeBuf = cfg.positionKind === 'rope' ? uploadStorage(dev, 'rope table', ops.ropeTable(T, dh, cfg.rope_theta)) : null;
    if (ropeBuf) list.push(ropeBuf);
    const record: GpuForwardRecord = {
      T,
      ids: ids.slice(),
      layers,
      h_final: s.h_final,
      finalScale: s.finalScale,
      finalMean: layerNorm ? s.finalMean : undefined,
      xF: new Float32Array(0),
      buffers: list,
    };

    try {
      for (let l = 0; l < L; l++) {
        const w = this.weights.layers[l]!;
        const r = layers[l]!;
        const step = new Step(this.pool, `forward layer ${l}`);
        try {
          if (l === 0) {
            await ops.gather(step, { table: this.weights.embed_tokens, ids: idsBuf, out: r.h_in, T });
            if (this.weights.embed_positions) await ops.gather(step, { table: this.weights.embed_positions, ids: posBuf, out: r.h_in, T, accumulate: true });
            await ops.normStats(step, { h: r.h_in, scale: r.attnScale, mean: r.attnMean, T, D, eps, layer: layerNorm });
          } else {
            const p = layers[l - 1]!;
            await ops.normStats(step, { h: p.h_mid, delta: p.mlp_out, hOut: r.h_in, scale: r.attnScale, mean: r.attnMean, T, D, eps, layer: layerNorm });
          }
          // Attention.
          const n1 = w.input_layernorm;
          await ops.normApply(step, { x: r.h_in, scale: r.attnScale, gamma: n1.weight, beta: n1.bias, y: s.x, R: T, D, T, center: layerNorm });
          await ops.linear(step, { X: s.x, W: w.q_proj.weight, bias: w.q_proj.bias, Y: s.q, R: T, K: D });
          await ops.linear(step, { X: s.x, W: w.k_proj.weight, bias: w.k_proj.bias, Y: s.k, R: T, K: D });
          await ops.linear(step, { X: s.x, W: w.v_proj.weight, bias: w.v_proj.bias, Y: r.v, R: T, K: D });
          if (cfg.hasQkNorm) {
            await ops.headNorm(step, { gamma: w.q_norm!.weight, x: s.q, rows: T * H, dh, eps });
            await ops.headNorm(step, { gamma: w.k_norm!.weight, x: s.k, rows: T * Hkv, dh, eps });
          }
          if (ropeBuf) {
            await ops.rope(step, { table: ropeBuf, x: s.q, T, nh: H, dh });
            await ops.rope(step, { table: ropeBuf, x: s.k, T, nh: Hkv, dh });
          }
          await ops.attentionProbs(step, { q: s.q, k: s.k, A: r.A, T, H, Hkv, dh });
          await ops.attentionMix(step, { A: r.A, v: r.v, start: zeroStart, y: s.y, M: 1, T, H, Hkv, dh });
          for (const a of opts.ablation?.heads ?? []) {
            if (a.layer === l) await ops.scaleAdd(step, { y: s.y, R: T, C: dh, y0: a.head * dh, ldy: H * dh, alpha: 0, beta: 0 });
          }
          await ops.linear(step, { X: s.y, W: w.o_proj.weight, bias: w.o_proj.bias, Y: r.attn_out, R: T, K: H * dh });
          // MLP.
          await ops.normStats(step, { h: r.h_in, delta: r.attn_out, hOut: r.h_mid, scale: r.mlpScale, mean: r.mlpMean, T, D, eps, layer: layerNorm });
          const n2 = w.post_attention_layernorm;
          await ops.normApply(step, { x: r.h_mid, scale: r.mlpScale, gamma: n2.weight, beta: n2.bias, y: s.x, R: T, D, T, center: layerNorm });
          if (cfg.mlpKind === 'gated') {
            await ops.linear(step, { X: s.x, W: w.gate_proj!.weight, bias: w.gate_proj!.bias, Y: s.gate, R: T, K: D });
            await ops.linear(step, { X: s.x, W: w.up_proj.weight, bias: w.up_proj.bias, Y: s.up, R: T, K: D });
            await ops.activation(step, { gate: s.gate, up: s.up, a: r.act, n: T * I, act: cfg.hidden_act });
          } else {
            await ops.linear(step, { X: s.x, W: w.up_proj.weight, bias: w.up_proj.bias, Y: s.gate, R: T, K: D });
            await ops.activation(step, { gate: s.gate, a: r.act, n: T * I, act: cfg.hidden_act });
          }
          for (const a of opts.ablation?.neurons ?? []) {
            if (a.layer === l) await ops.scaleAdd(step, { y: r.act, R: T, C: 1, y0: a.neuron, ldy: I, alpha: 0, beta: 0 });
          }
          await ops.linear(step, { X: r.act, W: w.down_proj.weight, bias: w.down_proj.bias, Y: r.mlp_out, R: T, K: I });
        } catch (e) {
          await step.abandon();
          throw e;
        }
        await step.submit(false); // layers queue back to back; the read-back below waits
      }

      // Final norm, logits and their top-k.
      const last = layers[L - 1]!;
      const step = new Step(this.pool, 'forward final norm and logits');
      try {
        await ops.normStats(step, { h: last.h_mid, delta: last.mlp_out, hOut: s.h_final, scale: s.finalScale, mean: record.finalMean, T, D, eps, layer: layerNorm });
        await this.unembed(step, s.h_final, s.finalScale, s.x, s.logits, s.topIds, s.topVals, 0, T, Vc, slots);
      } catch (e) {
        await step.abandon();
        throw e;
      }
      await step.submit();
      record.xF = await readF32(dev, s.x, 0, T * D);

      let lens: TopEntry[][][] | undefined;
      if (opts.lens) {
        const lensScale = createStorage(dev, 'lens scale', T * F32);
        const lensMean = createStorage(dev, 'lens mean', T * F32);
        list.push(lensScale, lensMean);
        for (let l = 0; l < L; l++) {
          const h = l + 1 < L ? layers[l + 1]!.h_in : s.h_final;
          const ls = new Step(this.pool, `logit lens layer ${l}`);
          try {
            await ops.normStats(ls, { h, scale: lensScale, mean: lensMean, T, D, eps, layer: layerNorm });
            await this.unembed(ls, h, lensScale, s.x, s.logits, s.lensIds, s.lensVals, l * T * slots, T, Vc, slots);
          } catch (e) {
            await ls.abandon();
            throw e;
          }
          await ls.submit(false);
        }
        const li = await readU32(dev, s.lensIds, 0, L * T * slots);
        const lv = await readF32(dev, s.lensVals, 0, L * T * slots);
        lens = Array.from({ length: T }, (_, t) => Array.from({ length: L }, (_, l) => mergeTop(li, lv, (l * T + t) * slots, slots)));
      }
      const ti = await readU32(dev, s.topIds, 0, T * slots);
      const tv = await readF32(dev, s.topVals, 0, T * slots);
      const top = Array.from({ length: T }, (_, t) => mergeTop(ti, tv, t * slots, slots));
      this.record = record;
      return { T, top, lens, targetLogits: (targets) => targets.map((tg) => this.targetLogit(record, tg)) };
    } catch (e) {
      for (const b of list) b.destroy();
      throw e;
    }
  }

  /** x = final norm of h (scale given), logits in vocabulary chunks, top-k of each chunk into slots. */
  private async unembed(
    step: Step,
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
    const cfg = this.description;
    const D = cfg.hidden_size;
    const n = this.weights.norm;
    await ops.normApply(step, { x: h, scale, gamma: n.weight, beta: n.bias, y: x, R: T, D, T, center: cfg.normKind === 'layer' });
    for (let v0 = 0, c = 0; v0 < cfg.vocab_size; v0 += Vc, c++) {
      const N = Math.min(Vc, cfg.vocab_size - v0);
      await ops.linear(step, { X: x, W: this.weights.lm_head, n0: v0, N, Y: logits, R: T, K: D });
      await ops.topk(step, { logits, ids, vals, T, Vc: N, v0, o0: o0 + c * TOP_K, ldo: slots, k: TOP_K });
    }
  }

  private targetLogit(rec: GpuForwardRecord, tg: TargetSpec): number {
    const D = this.description.hidden_size;
    const x = rec.xF.subarray(tg.position * D, (tg.position + 1) * D);
    const dot = (id: number) => {
      const w = this.lmHeadRow(id);
      let s = 0;
      for (let d = 0; d < D; d++) s += x[d]! * w[d]!;
      return s;
    };
    return dot(tg.id) - (tg.contrast_id === null ? 0 : dot(tg.contrast_id));
  }

  // ---------------------------------------------------------------- decomposed pass

  private plan(req: ModeRequest, T: number, opts: AttributeOptions): Plan {
    const cfg = this.description;
    const L = cfg.num_hidden_layers;
    const layerOk = (l: number) => {
      if (!Number.isInteger(l) || l < 0 || l >= L) throw new RangeError(`layer ${l} is out of range: the model has layers 0-${L - 1}`);
    };
    const M = componentsOf(cfg, T, req);
    const start = new Int32Array(M);
    switch (req.kind) {
      case 'token': {
        for (let m = 0; m < T; m++) start[m] = m;
        const biases = cfg.hasQkvBias || cfg.hasOBias || cfg.hasMlpBias || cfg.normKind === 'layer';
        start[T] = biases ? 0 : T; // the rest only ever fills from biases and LayerNorm betas
        return { M, rest: T, from: 0, startAtMlp: false, start, bosRule: opts.bosAtZero };
      }
      case 'head':
        layerOk(req.layer);
        return { M, rest: M - 1, from: req.layer, startAtMlp: true, start, bosRule: false };
      case 'neuron':
        layerOk(req.layer);
        if (!(Number.isInteger(req.from) && Number.isInteger(req.to) && 0 <= req.from && req.from < req.to && req.to <= cfg.intermediate_size)) {
          throw new RangeError(`neurons ${req.from}-${req.to - 1} are out of range: the layer has ${cfg.intermediate_size}`);
        }
        return { M, rest: M - 1, from: req.layer + 1, startAtMlp: false, start, bosRule: false };
      case 'module':
        layerOk(req.layer);
        return { M, rest: 0, from: req.layer + 1, startAtMlp: false, start, bosRule: false };
      case 'subspace':
        layerOk(req.layer);
        if (req.direction.length !== cfg.hidden_size) throw new RangeError(`the direction has ${req.direction.length} numbers, not D = ${cfg.hidden_size}`);
        return { M, rest: 1, from: req.layer, startAtMlp: false, start, bosRule: false };
    }
  }

  attribute(req: ModeRequest, targets: TargetSpec[], opts: AttributeOptions): Promise<ModeScores> {
    return this.exclusive(() => this.runAttribute(req, targets, opts));
  }

  initialComponents(req: ModeRequest): Promise<InitialComponents> {
    return this.exclusive(async () => {
      this.alive();
      const rec = this.record;
      if (!rec) throw new Error('forward() must run before initialComponents()');
      const { M, rest } = this.plan(req, rec.T, { rule: 'softmax', tau: 1, bosAtZero: false });
      const plans = decomposedBuffers(this.description, rec.T, M, 1);
      const list: GPUBuffer[] = [];
      try {
        const b = await this.allocate({ C: plans[0]!.bytes, bufA: plans[2]!.bytes, bufB: plans[3]!.bytes }, list, `${req.kind} components `);
        await this.runStep(`${req.kind} components`, false, (step) => this.buildComponents(step, req, rec, b.C, b.bufA, b.bufB, list));
        const data = await readF32(this.ctx.device, b.C, 0, M * rec.T * this.description.hidden_size);
        return { M, rest, data };
      } finally {
        for (const buf of list) buf.destroy();
      }
    });
  }

  private async runAttribute(req: ModeRequest, targets: TargetSpec[], opts: AttributeOptions): Promise<ModeScores> {
    this.alive();
    const rec = this.record;
    if (!rec) throw new Error('forward() must run before attribute()');
    if (opts.signal?.aborted) throw abortError();
    const cfg = this.description;
    const { T } = rec;
    const D = cfg.hidden_size;
    const H = cfg.num_attention_heads;
    const Hkv = cfg.num_key_value_heads;
    const dh = cfg.head_dim;
    const I = cfg.intermediate_size;
    const L = cfg.num_hidden_layers;
    const layerNorm = cfg.normKind === 'layer';
    const plan = this.plan(req, T, opts);
    const { M, rest } = plan;
    const n = targets.length;
    for (const tg of targets) if (!(Number.isInteger(tg.position) && tg.position >= 0 && tg.position < T)) throw new RangeError(`target position ${tg.position} is out of range`);

    const est = estimateMemory(cfg, T, req, { maxStorageBufferBindingSize: this.maxBinding, budget: this.limits.budget, neuronTile: this.options.neuronTile });
    checkMemory(est, this.limits, req);
    const J = est.neuronTile;
    const plans = decomposedBuffers(cfg, T, M, J);
    const byLayer = req.kind === 'token' && req.byLayer;
    const dev = this.ctx.device;

    // Where nobody takes part in the MLP the rest takes the activation, so it is not zero from
    // there on. Lowering its start before the first layer changes nothing earlier: its rows there
    // are zero and carry no bias (biases make the rest start at 0).
    const start = plan.start;
    for (let t = 0; t < T; t++) {
      let any = false;
      for (let m = 0; m < M && !any; m++) any = start[m]! <= t && !(plan.bosRule && m === 0 && t > 0);
      if (!any) {
        start[rest] = Math.min(start[rest]!, t);
        break;
      }
    }
    const active: number[] = [];
    for (let m = 0; m < M; m++) for (let t = start[m]!; t < T; t++) active.push(m * T + t);
    const R = active.length;

    const list: GPUBuffer[] = [];
    try {
      const b = await this.allocate(
        {
          C: plans[0]!.bytes,
          X: plans[1]!.bytes,
          bufA: plans[2]!.bytes,
          bufB: plans[3]!.bytes,
          out: n * M * F32,
          byLayer: byLayer ? n * L * M * F32 : 0,
        },
        list,
        `${req.kind} mode `,
      );
      const rows = uploadStorage(dev, 'active rows', Uint32Array.from(active));
      const startBuf = uploadStorage(dev, 'component starts', Uint32Array.from(start));
      const dirs = new Float32Array(n * D);
      targets.forEach((tg, i) => {
        const w = this.lmHeadRow(tg.id);
        if (tg.contrast_id !== null) {
          const c = this.lmHeadRow(tg.contrast_id);
          for (let d = 0; d < D; d++) w[d] = w[d]! - c[d]!;
        }
        dirs.set(w, i * D);
      });
      const dirBuf = uploadStorage(dev, 'target directions', dirs);
      const posBuf = uploadStorage(dev, 'target positions', Uint32Array.from(targets, (tg) => tg.position));
      list.push(rows, startBuf, dirBuf, posBuf);

      await this.runStep(`${req.kind} components`, false, (step) => this.buildComponents(step, req, rec, b.C, b.bufA, b.bufB, list));

      const fnorm = this.weights.norm;
      // One layer stays queued behind the one the GPU runs, so it never waits for the CPU;
      // progress is reported (and cancellation checked) as each layer finishes.
      let running: { layer: number; done: Promise<void> } | null = null;
      const finished = async () => {
        if (!running) return;
        await running.done;
        if (opts.signal?.aborted) throw abortError();
        opts.onLayer?.(running.layer, L);
        running = null;
      };
      for (let l = plan.from; l < L; l++) {
        if (opts.signal?.aborted) throw abortError();
        const w = this.weights.layers[l]!;
        const lr = rec.layers[l]!;
        await this.runStep(`decomposed layer ${l}`, false, async (step) => {
          if (!(plan.startAtMlp && l === plan.from)) {
            const n1 = w.input_layernorm;
            await ops.normApply(step, { x: b.C, scale: lr.attnScale, gamma: n1.weight, beta: n1.bias, rows, y: b.X, R, D, T, center: layerNorm, betaBlock: rest });
            // The value bias goes to the rest: rows of A sum to one, so it reaches every position whole.
            await ops.linear(step, { X: b.X, W: w.v_proj.weight, bias: w.v_proj.bias, biasBlock: rest, T, rows, Y: b.bufA, R, K: D });
            await ops.attentionMix(step, { A: lr.A, v: b.bufA, start: startBuf, y: b.bufB, M, T, H, Hkv, dh });
            await ops.linear(step, { X: b.bufB, W: w.o_proj.weight, bias: w.o_proj.bias, biasBlock: rest, T, rows, Y: b.C, R, K: H * dh, accumulate: true });
          }
          const n2 = w.post_attention_layernorm;
          await ops.normApply(step, { x: b.C, scale: lr.mlpScale, gamma: n2.weight, beta: n2.bias, rows, y: b.X, R, D, T, center: layerNorm, betaBlock: rest });
          const pre = cfg.mlpKind === 'gated' ? w.gate_proj! : w.up_proj;
          for (let j0 = 0; j0 < I; j0 += J) {
            const Jt = Math.min(J, I - j0);
            await ops.linear(step, { X: b.X, W: pre.weight, n0: j0, N: Jt, bias: pre.bias, biasBlock: rest, T, rows, Y: b.bufA, R, K: D });
            await ops.mlpShare(step, {
              g: b.bufA,
              a: lr.act,
              start: startBuf,
              c: b.bufB,
              M,
              T,
              J: Jt,
              a0: j0,
              lda: I,
              rest,
              rule: opts.rule,
              tau: opts.tau,
              guard: PROPORTIONAL_GUARD,
              bos: plan.bosRule,
            });
            await ops.linear(step, {
              X: b.bufB,
              W: w.down_proj.weight,
              k0: j0,
              K: Jt,
              bias: j0 === 0 ? w.down_proj.bias : undefined,
              biasBlock: rest,
              T,
              rows,
              Y: b.C,
              R,
              accumulate: true,
            });
          }
          if (byLayer) {
            const next = l + 1 < L ? rec.layers[l + 1]! : null;
            await ops.readout(step, {
              C: b.C,
              dirs: dirBuf,
              pos: posBuf,
              scale: next ? next.attnScale : rec.finalScale,
              gamma: fnorm.weight,
              beta: fnorm.bias,
              out: b.byLayer,
              M,
              T,
              D,
              n,
              rest,
              center: layerNorm,
              o0: l * M,
              ldo: L * M,
            });
          }
        });
        const done = dev.queue.onSubmittedWorkDone();
        await finished();
        running = { layer: l, done };
      }
      await finished();

      await this.runStep('read-out', false, (step) =>
        ops.readout(step, { C: b.C, dirs: dirBuf, pos: posBuf, scale: rec.finalScale, gamma: fnorm.weight, beta: fnorm.bias, out: b.out, M, T, D, n, rest, center: layerNorm }),
      );
      const scores = Float64Array.from(await readF32(dev, b.out, 0, n * M));
      const result: ModeScores = { M, rest, scores };
      if (byLayer) result.byLayer = Float64Array.from(await readF32(dev, b.byLayer, 0, n * L * M));
      return result;
    } finally {
      for (const buf of list) buf.destroy();
    }
  }

  /** Records and submits one step; with `wait`, resolves once the GPU has finished it. */
  private async runStep(label: string, wait: boolean, record: (step: Step) => Promise<void>): Promise<void> {
    const step = new Step(this.pool, label);
    try {
      await record(step);
    } catch (e) {
      await step.abandon();
      throw e;
    }
    await step.submit(wait);
  }

  /** The initial components of each granularity (the GPU mirror of cpu-backend.ts's builders). */
  private async buildComponents(
    step: Step,
    req: ModeRequest,
    rec: GpuForwardRecord,
    C: GPUBuffer,
    bufA: GPUBuffer,
    bufB: GPUBuffer,
    list: GPUBuffer[],
  ): Promise<void> {
    const cfg = this.description;
    const { T } = rec;
    const D = cfg.hidden_size;
    const H = cfg.num_attention_heads;
    const Hkv = cfg.num_key_value_heads;
    const dh = cfg.head_dim;
    const I = cfg.intermediate_size;
    const L = cfg.num_hidden_layers;
    const block = T * D; // elements of one component
    const dev = this.ctx.device;
    step.clear(C);
    switch (req.kind) {
      case 'token': {
        // Component m holds token m's embedding (and learned position) at position m.
        const h0 = rec.layers[0]!.h_in;
        for (let m = 0; m < T; m++) step.copy(h0, m * D * F32, C, (m * T + m) * D * F32, D * F32);
        return;
      }
      case 'head': {
        // Head h's write Wo_h (A_h v^_h), v^ the value without LayerNorm's beta and without b_v:
        // v^ = v - (Wv beta + b_v). Those constants, like b_o, stay in the rest (h_mid minus all heads).
        const lr = rec.layers[req.layer]!;
        const w = this.weights.layers[req.layer]!;
        step.copy(lr.v, 0, bufA, 0, T * Hkv * dh * F32);
        const beta = w.input_layernorm.bias;
        if (beta || w.v_proj.bias) {
          const constant = createStorage(dev, 'value constant Wv beta + b_v', Hkv * dh * F32);
          list.push(constant);
          if (beta) await ops.linear(step, { X: beta, W: w.v_proj.weight, bias: w.v_proj.bias, Y: constant, R: 1, K: D });
          else step.copy(w.v_proj.bias!, 0, constant, 0, Hkv * dh * F32);
          await ops.scaleAdd(step, { x: constant, y: bufA, R: T, C: Hkv * dh, ldx: 0, alpha: -1, beta: 1 });
        }
        const zero = uploadStorage(dev, 'start 0', new Uint32Array(1));
        list.push(zero);
        await ops.attentionMix(step, { A: lr.A, v: bufA, start: zero, y: bufB, M: 1, T, H, Hkv, dh });
        const Wo = w.o_proj.weight;
        await ops.linear(step, { X: bufB, W: Wo, batch: H, ldx: H * dh, xb: dh, K: dh, k0: 0, wb: dh, Y: C, yb: block, ldy: D, R: T });
        step.copy(lr.h_mid, 0, C, H * block * F32, block * F32);
        await ops.linear(step, { X: bufB, W: Wo, K: H * dh, Y: C, y0: H * block, ldy: D, R: T, alpha: -1, accumulate: true });
        return;
      }
      case 'neuron': {
        // Neuron j's write a[t][j] * Wdown[:, j]; the rest is the state after the MLP minus them.
        const lr = rec.layers[req.layer]!;
        const Wd = this.weights.layers[req.layer]!.down_proj.weight;
        const G = req.to - req.from;
        await ops.linear(step, { X: lr.act, x0: req.from, ldx: I, xb: 1, K: 1, W: Wd, k0: req.from, wb: 1, batch: G, Y: C, yb: block, ldy: D, R: T });
        const after = req.layer + 1 < L ? rec.layers[req.layer + 1]!.h_in : rec.h_final;
        step.copy(after, 0, C, G * block * F32, block * F32);
        await ops.linear(step, { X: lr.act, x0: req.from, ldx: I, K: G, W: Wd, k0: req.from, Y: C, y0: G * block, ldy: D, R: T, alpha: -1, accumulate: true });
        return;
      }
      case 'module': {
        const lr = rec.layers[req.layer]!;
        step.copy(lr.h_in, 0, C, 0, block * F32);
        step.copy(lr.attn_out, 0, C, block * F32, block * F32);
        step.copy(lr.mlp_out, 0, C, 2 * block * F32, block * F32);
        return;
      }
      case 'subspace': {
        // Projection (h.u / u.u) u and the orthogonal rest of the residual entering the layer.
        const h = req.layer < L ? rec.layers[req.layer]!.h_in : rec.h_final;
        const u = req.direction;
        let uu = 0;
        for (let d = 0; d < D; d++) uu += u[d]! * u[d]!;
        const uBuf = uploadStorage(dev, 'subspace direction', Float32Array.from(u));
        const uScaled = uploadStorage(dev, 'subspace direction / |u|^2', Float32Array.from(u, (x) => (uu > 0 ? x / uu : 0)));
        list.push(uBuf, uScaled);
        await ops.linear(step, { X: h, W: f32Matrix('u / |u|^2', uScaled, 1, D), K: D, Y: bufA, R: T }); // coefficients [T]
        const uCol = f32Matrix('u', uBuf, D, 1);
        await ops.linear(step, { X: bufA, K: 1, W: uCol, Y: C, R: T });
        step.copy(h, 0, C, block * F32, block * F32);
        await ops.linear(step, { X: bufA, K: 1, W: uCol, Y: C, y0: block, R: T, alpha: -1, accumulate: true });
        return;
      }
    }
  }
}

/** The top-k of a row's candidate slots (ties to the lower id), dropping empty slots. */
function mergeTop(ids: Uint32Array, vals: Float32Array, o: number, slots: number): TopEntry[] {
  const cand: TopEntry[] = [];
  for (let q = 0; q < slots; q++) if (ids[o + q] !== 0xffffffff) cand.push({ id: ids[o + q]!, logit: vals[o + q]! });
  cand.sort((a, b) => b.logit - a.logit || a.id - b.id);
  return cand.slice(0, TOP_K);
}

export type { GpuMatrix };
