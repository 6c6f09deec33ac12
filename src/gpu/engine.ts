// The WebGPU engine behind the AttributionBackend interface: the weights uploaded once, calls
// queued one at a time (a forward pass frees the record an attribution may be reading), the memory
// preflight, and the forward record kept between calls. The work itself is in forward.ts and
// decomposed.ts. Knows nothing of workers, React or Node.

import type {
  AttributeOptions,
  AttributionBackend,
  ForwardSummary,
  InitialComponents,
  ModeRequest,
  ModeScores,
  NeuronPromotes,
  TargetSpec,
} from '../depass/backend';
import { PlanError, planPass } from '../depass/plan';
import type { Ablation } from '../depass/record';
import { bytesPerElement, dims, type ModelDescription, type ModelWeights, type Weight } from '../model/description';
import { bytesToFloat32 } from '../model/dtype';
import { readWeight } from '../model/stored-tensor';
import { readF32 } from './buffers';
import type { GpuContext } from './device';
import { readInitialComponents, runDecomposed } from './decomposed';
import { type EngineParts, type GpuForwardRecord, neuronPromotes, runForward } from './forward';
import type { ShaderLoader } from './kernels';
import { checkMemory, estimateMemory, GpuMemoryError, maxComponentsFor } from './memory';
import { MAX_HEAD_DIM } from './ops';
import { devicePool } from './tuning';
import { type GpuWeights, type UploadOptions, uploadWeights } from './weights';

export interface GpuBackendOptions {
  /** Bytes of GPU memory for records, scratch and components (default 2 GiB). */
  memoryBudget?: number;
  /** Preferred neurons per MLP tile of the decomposed pass (default 1024; fewer when memory is short). */
  neuronTile?: number;
}

/** Bytes of GPU memory a run may take beside the weights unless told otherwise. */
export const DEFAULT_BUDGET = 2 * 1024 * 1024 * 1024;

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

/** Uploads a model's weights to the device and makes the step pool of its kernels. */
export async function engineParts(
  ctx: GpuContext,
  cfg: ModelDescription,
  weights: ModelWeights<Weight>,
  loadShader: ShaderLoader,
  upload: UploadOptions = {},
): Promise<EngineParts> {
  if (cfg.num_attention_heads % cfg.num_key_value_heads !== 0)
    throw new Error(`H = ${cfg.num_attention_heads} is not a multiple of Hkv = ${cfg.num_key_value_heads}`);
  if (cfg.head_dim > MAX_HEAD_DIM) throw new Error(`head_dim ${cfg.head_dim} is larger than the engine supports (${MAX_HEAD_DIM})`);
  if (cfg.positionKind === 'rope' && cfg.head_dim % 2 !== 0) throw new Error(`RoPE needs an even head_dim, got ${cfg.head_dim}`);
  const maxBinding = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  const device = ctx.device;
  device.pushErrorScope('out-of-memory');
  let w: GpuWeights | null = null;
  let failed: unknown = null;
  try {
    w = await uploadWeights(device, cfg, weights, maxBinding, upload);
  } catch (e) {
    failed = e;
  }
  // The scope is popped whatever happened, and out of memory is the message that matters.
  const oom = await device.popErrorScope();
  if (oom) throw new GpuMemoryError(`the model's weights do not fit in GPU memory: ${oom.message}`);
  if (failed || !w) throw failed;
  const pool = await devicePool(ctx, loadShader);
  return { device, cfg, weights: w, pool, maxBinding };
}

export class GpuBackend implements AttributionBackend {
  readonly kind = 'webgpu' as const;
  private record: GpuForwardRecord | null = null;
  private destroyed = false;
  /** Calls run one at a time: a forward pass frees the record an attribution may be reading. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly ctx: GpuContext,
    private readonly parts: EngineParts,
    /** The unembedding where it is (memory or the user's file) for target directions and logits. */
    private readonly lmHead: Weight,
    private readonly options: GpuBackendOptions,
  ) {}

  /** Uploads the weights (once, streamed from where they are) and prepares the kernels of this device. */
  static async create(
    device: GpuContext | GPUDevice,
    description: ModelDescription,
    weights: ModelWeights<Weight>,
    loadShader: ShaderLoader,
    options: GpuBackendOptions & UploadOptions = {},
  ): Promise<GpuBackend> {
    const ctx = contextOf(device);
    return new GpuBackend(ctx, await engineParts(ctx, description, weights, loadShader, options), weights.lm_head, options);
  }

  get description(): ModelDescription {
    return this.parts.cfg;
  }

  /** Bytes of the model's weights on the GPU. */
  get weightBytes(): number {
    return this.parts.weights.bytes;
  }

  private get limits() {
    return {
      maxStorageBufferBindingSize: this.parts.maxBinding,
      maxBufferSize: this.ctx.limits.maxBufferSize,
      budget: this.options.memoryBudget ?? DEFAULT_BUDGET,
    };
  }

  maxComponents(T: number): number {
    return maxComponentsFor(this.parts.cfg, T, this.limits);
  }

  forward(ids: number[], opts: { lens?: boolean; ablation?: Ablation } = {}): Promise<ForwardSummary> {
    return this.exclusive(async () => {
      this.alive();
      const cfg = this.parts.cfg;
      const T = ids.length;
      if (T === 0) throw new Error('forward: no tokens');
      for (const id of ids)
        if (!Number.isInteger(id) || id < 0 || id >= cfg.vocab_size) throw new RangeError(`token id ${id} is out of range (vocabulary ${cfg.vocab_size})`);
      const positions = this.parts.weights.embed_positions?.rows ?? 0;
      if (cfg.positionKind === 'learned' && T > positions) throw new RangeError(`${T} tokens exceed the ${positions} learned positions`);
      checkMemory(estimateMemory(cfg, T, null, { maxStorageBufferBindingSize: this.parts.maxBinding, lens: opts.lens }), this.limits, null);
      this.freeRecord();
      const { record, summary } = await runForward(this.parts, ids, opts);
      this.record = record;
      return { ...summary, targetLogits: (targets) => Promise.all(targets.map((tg) => this.targetLogit(record, tg))) };
    });
  }

  attribute(req: ModeRequest, targets: TargetSpec[], opts: AttributeOptions): Promise<ModeScores> {
    return this.exclusive(async () => {
      const rec = this.current();
      if (opts.signal?.aborted) throw new DOMException('Run cancelled', 'AbortError');
      const plan = planPass(this.parts.cfg, rec.T, req, opts.bosAtZero);
      const est = estimateMemory(this.parts.cfg, rec.T, req, {
        maxStorageBufferBindingSize: this.parts.maxBinding,
        budget: this.limits.budget,
        neuronTile: this.options.neuronTile,
      });
      checkMemory(est, this.limits, req);
      const rows = new Map<number, Float32Array>();
      for (const tg of targets) for (const id of [tg.id, tg.contrast_id]) if (id !== null && !rows.has(id)) rows.set(id, await this.lmHeadRow(id));
      return runDecomposed(this.parts, rec, req, plan, est.neuronTile, targets, (id) => rows.get(id)!, opts);
    });
  }

  initialComponents(req: ModeRequest): Promise<InitialComponents> {
    return this.exclusive(async () => {
      const rec = this.current();
      return readInitialComponents(this.parts, rec, planPass(this.parts.cfg, rec.T, req, false), req);
    });
  }

  neuronPromotes(layer: number, neurons: number[], k: number): Promise<NeuronPromotes[]> {
    return this.exclusive(async () => {
      this.alive();
      const { L, I } = dims(this.parts.cfg);
      if (!(Number.isInteger(layer) && layer >= 0 && layer < L)) throw new PlanError(`layer ${layer} is out of range`);
      for (const j of neurons) if (!(Number.isInteger(j) && j >= 0 && j < I)) throw new PlanError(`neuron ${j} is out of range`);
      return neuronPromotes(this.parts, layer, neurons, k);
    });
  }

  attentionPattern(layer: number, head: number): Promise<Float32Array> {
    return this.exclusive(async () => {
      const rec = this.current();
      const { L, H } = dims(this.parts.cfg);
      if (!(Number.isInteger(layer) && layer >= 0 && layer < L)) throw new RangeError(`layer ${layer} is out of range`);
      if (!(Number.isInteger(head) && head >= 0 && head < H)) throw new RangeError(`head ${head} is out of range`);
      const TT = rec.T * rec.T;
      return readF32(this.ctx.device, rec.layers[layer]!.A, head * TT, TT);
    });
  }

  async unembeddingRow(id: number): Promise<Float32Array> {
    return this.lmHeadRow(id);
  }

  /** Row `id` of the unembedding in f32, read from where the weights are. */
  private async lmHeadRow(id: number): Promise<Float32Array> {
    const { D, V } = dims(this.parts.cfg);
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new RangeError(`token id ${id} is out of range`);
    const size = bytesPerElement(this.lmHead.dtype);
    return bytesToFloat32(await readWeight(this.lmHead, id * D * size, D * size), this.lmHead.dtype);
  }

  private async targetLogit(rec: GpuForwardRecord, tg: TargetSpec): Promise<number> {
    const D = this.parts.cfg.hidden_size;
    const x = rec.xF.subarray(tg.position * D, (tg.position + 1) * D);
    const dot = async (id: number) => {
      const w = await this.lmHeadRow(id);
      let s = 0;
      for (let d = 0; d < D; d++) s += x[d]! * w[d]!;
      return s;
    };
    return (await dot(tg.id)) - (tg.contrast_id === null ? 0 : await dot(tg.contrast_id));
  }

  /** Frees every GPU buffer of the engine (at once: do not call it while a call is running). */
  destroy(): void {
    this.freeRecord();
    for (const b of this.parts.weights.buffers) b.destroy();
    this.parts.pool.destroy();
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

  private current(): GpuForwardRecord {
    this.alive();
    if (!this.record) throw new Error('forward() must run first');
    return this.record;
  }

  private exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
