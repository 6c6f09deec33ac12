// The engine host: owns the loaded model, the tokenizer and the backend (WebGPU when an adapter
// exists, else the TypeScript reference), and answers protocol requests. It is independent of
// the worker global so Node tests can drive it; engine.worker.ts binds it to `self`.

import type { AttributionBackend } from '../depass/backend';
import { CpuBackend } from '../depass/cpu-backend';
import { toReferenceModel, type ReferenceModel } from '../depass/reference-model';
import type { TopEntry } from '../depass/result';
import { encodeResult } from './codec';
import { runDepass, RunInputError } from '../depass/run';
import { topK } from '../depass/ops';
import { loadCheckpoint, type Checkpoint } from '../model/checkpoint';
import { weightStats } from '../model/weight-stats';
import { ModelFormatError } from '../model/errors';
import { loadTokenizer } from '../model/tokenizer';
import type { Tokenizer } from '../model/tokenizer-types';
import type { AdapterInfo, ErrorKind, ModelInfo, Reply, Request, RunSettings } from './protocol';

/** A GPU that can build backends; implemented over WebGPU in gpu-provider.ts. */
export interface GpuSession {
  adapter: AdapterInfo;
  createBackend(checkpoint: Checkpoint): Promise<AttributionBackend & { destroy(): void }>;
  /** Bytes the backend would need for this model and a run of T tokens in token mode. */
  estimateBytes(checkpoint: Checkpoint, T: number): number;
  /** Resolves with a reason when the device is lost. */
  lost: Promise<string>;
  destroy(): void;
}

export interface GpuProvider {
  /** A fresh device session, or null (with the reason) when no adapter exists. */
  acquire(): Promise<GpuSession | { unavailable: string }>;
}

export type Post = (reply: Reply, transfer?: Transferable[]) => void;

interface Loaded {
  checkpoint: Checkpoint;
  tokenizer: Tokenizer;
  backend: AttributionBackend & { destroy?(): void };
  reference?: ReferenceModel;
}

export class EngineHost {
  private loaded: Loaded | null = null;
  private gpu: GpuSession | null = null;
  private gpuNote: string | undefined;
  private deviceLost: string | null = null;
  private readonly running = new Map<number, AbortController>();
  /** Requests run one at a time, in order; cancel and ping bypass the queue. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly post: Post,
    private readonly gpuProvider: GpuProvider | null,
  ) {}

  handle(req: Request): void {
    if (req.type === 'cancel') {
      this.running.get(req.target)?.abort();
      return;
    }
    if (req.type === 'ping') {
      this.post({ type: 'pong', id: req.id });
      return;
    }
    if (req.type === 'lose-device') {
      this.gpu?.destroy();
      this.post({ type: 'pong', id: req.id });
      return;
    }
    const controller = new AbortController();
    if (req.type === 'run') this.running.set(req.id, controller);
    this.queue = this.queue.then(async () => {
      try {
        await this.dispatch(req, controller.signal);
      } catch (err) {
        this.post({ type: 'error', id: req.id, ...describeError(err, this.deviceLost) });
        if (this.deviceLost) await this.dropGpu();
      } finally {
        this.running.delete(req.id);
      }
    });
  }

  private async dispatch(req: Request, signal: AbortSignal): Promise<void> {
    switch (req.type) {
      case 'load':
        return this.load(req.id, req.files);
      case 'tokenize': {
        const { tokenizer } = this.need();
        const tokens = tokenizer.encode(req.text);
        this.post({ type: 'tokens', id: req.id, tokens, bosAtZero: bosAtZero(tokenizer, tokens) });
        return;
      }
      case 'run':
        return this.run(req.id, req.prompt, req.settings, signal);
      case 'ablate':
        return this.ablate(req);
      case 'attention': {
        const backend = await this.backend();
        const A = await backend.attentionPattern(req.layer, req.head);
        this.post({ type: 'attention', id: req.id, T: Math.round(Math.sqrt(A.length)), A }, [A.buffer]);
        return;
      }
      case 'promotes':
        this.post({ type: 'promotes', id: req.id, tokens: this.promotes(req.layer, req.neurons, req.k) });
        return;
      case 'vocab':
        this.post({ type: 'vocab', id: req.id, matches: this.vocab(req.query, req.limit) });
        return;
    }
  }

  private need(): Loaded {
    if (!this.loaded) throw new RunInputError('no model is loaded');
    return this.loaded;
  }

  private async load(id: number, files: Request & { type: 'load' } extends { files: infer F } ? F : never): Promise<void> {
    const checkpoint = await loadCheckpoint(files);
    const tokenizer = await loadTokenizer(files);
    if (tokenizer.vocabSize > checkpoint.description.vocab_size) {
      throw new ModelFormatError(
        'mismatch',
        'tokenizer',
        `the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary has ${checkpoint.description.vocab_size}`,
      );
    }
    this.loaded?.backend.destroy?.();
    this.loaded = null;
    const backend = await this.makeBackend(checkpoint);
    this.loaded = { checkpoint, tokenizer, backend };
    this.post({ type: 'loaded', id, info: this.info() });
  }

  private async makeBackend(checkpoint: Checkpoint): Promise<AttributionBackend & { destroy?(): void }> {
    const session = await this.session();
    if (session) {
      try {
        return await session.createBackend(checkpoint);
      } catch (err) {
        if (this.deviceLost) throw err;
        this.gpuNote = `the GPU could not hold this model (${errorMessage(err)}); running on the CPU`;
      }
    }
    return new CpuBackend(this.reference(checkpoint));
  }

  private async session(): Promise<GpuSession | null> {
    if (this.gpu) return this.gpu;
    if (!this.gpuProvider) {
      this.gpuNote = 'WebGPU is not available here; running on the CPU';
      return null;
    }
    const s = await this.gpuProvider.acquire();
    if ('unavailable' in s) {
      this.gpuNote = `${s.unavailable}; running on the CPU`;
      return null;
    }
    this.gpu = s;
    this.gpuNote = undefined;
    this.deviceLost = null;
    void s.lost.then((reason) => {
      if (this.gpu === s) this.deviceLost = reason || 'the GPU device was lost';
    });
    return s;
  }

  /** After a device loss: forget the session and rebuild the backend on a fresh device. */
  private async dropGpu(): Promise<void> {
    this.gpu = null;
    this.deviceLost = null;
    if (!this.loaded) return;
    this.loaded.backend.destroy?.();
    this.loaded.backend = await this.makeBackend(this.loaded.checkpoint).catch(
      () => new CpuBackend(this.reference(this.loaded!.checkpoint)),
    );
  }

  private async backend(): Promise<AttributionBackend> {
    return this.need().backend;
  }

  private reference(checkpoint: Checkpoint): ReferenceModel {
    if (this.loaded?.checkpoint === checkpoint && this.loaded.reference) return this.loaded.reference;
    const ref = toReferenceModel(checkpoint.description, checkpoint.weights);
    if (this.loaded?.checkpoint === checkpoint) this.loaded.reference = ref;
    return ref;
  }

  private info(): ModelInfo {
    const { checkpoint, backend } = this.need();
    const d = checkpoint.description;
    const { parameters, bytes } = weightStats(checkpoint.weights);
    return {
      name: d.name,
      fingerprint: checkpoint.fingerprint,
      format: checkpoint.format,
      description: d,
      parameters,
      weightBytes: bytes,
      estimatedGpuBytes: this.gpu ? this.gpu.estimateBytes(checkpoint, 64) : bytes,
      backend: backend.kind,
      adapter: backend.kind === 'webgpu' && this.gpu ? this.gpu.adapter : null,
      backendNote: backend.kind === 'cpu' ? this.gpuNote : undefined,
    };
  }

  private async run(id: number, prompt: string, settings: RunSettings, signal: AbortSignal): Promise<void> {
    const { checkpoint, tokenizer, backend } = this.need();
    const tokens = tokenizer.encode(prompt);
    const result = await runDepass(
      backend,
      {
        model: { name: checkpoint.description.name, fingerprint: checkpoint.fingerprint, description: checkpoint.description },
        prompt,
        tokens,
        bosAtZero: bosAtZero(tokenizer, tokens),
      },
      { ...settings, direction: settings.direction ? Float32Array.from(settings.direction) : undefined, signal },
      (p) => this.post({ type: 'progress', id, ...p }),
      (mode, partial) => {
        const json = encodeResult(partial);
        this.post({ type: 'partial', id, mode, json }, [json]);
      },
    );
    if (result.engine && this.gpu && backend.kind === 'webgpu') result.engine.adapter = this.gpu.adapter.description;
    const json = encodeResult(result);
    this.post({ type: 'result', id, json }, [json]);
  }

  private async ablate(req: Request & { type: 'ablate' }): Promise<void> {
    const { tokenizer, backend } = this.need();
    const ids = tokenizer.encode(req.prompt).map((t) => t.id);
    const base = await backend.forward(ids);
    const baseline = base.targetLogits(req.targets);
    const removed = new Set(req.ablation.tokens ?? []);
    // Removing tokens shifts later positions left; targets follow their token.
    const keptIds = ids.filter((_, t) => !removed.has(t));
    const shift = (p: number) => p - [...removed].filter((r) => r < p).length;
    const targets = req.targets.map((tg) => ({ ...tg, position: shift(tg.position) }));
    if (keptIds.length === 0) throw new RunInputError('every token was removed');
    for (const tg of req.targets) {
      if (removed.has(tg.position)) throw new RunInputError(`position ${tg.position} is the target and cannot be removed`);
    }
    const ablated = await backend.forward(keptIds, { ablation: { heads: req.ablation.heads, neurons: req.ablation.neurons } });
    const logits = ablated.targetLogits(targets);
    const top = targets.map((tg) => ablated.top[tg.position]);
    // Leave the clean record in place for later requests (attention patterns, attributions).
    await backend.forward(ids);
    this.post({ type: 'ablated', id: req.id, logits, baseline, top });
  }

  /** The tokens each neuron's write promotes: top-k of W_U Wdown[:, j] (read from the weights). */
  private promotes(layer: number, neurons: number[], k: number): { neuron: number; top: TopEntry[] }[] {
    const { checkpoint } = this.need();
    const ref = this.reference(checkpoint);
    const d = ref.description;
    if (!(layer >= 0 && layer < d.num_hidden_layers)) throw new RunInputError(`layer ${layer} is out of range`);
    const D = d.hidden_size;
    const I = d.intermediate_size;
    const Wd = ref.layers[layer].down_proj.weight; // [D, I]
    return neurons.map((j) => {
      if (!(j >= 0 && j < I)) throw new RunInputError(`neuron ${j} is out of range`);
      const logits = new Float32Array(d.vocab_size);
      for (let v = 0; v < d.vocab_size; v++) {
        let acc = 0;
        for (let e = 0; e < D; e++) acc += ref.lm_head[v * D + e] * Wd[e * I + j];
        logits[v] = acc;
      }
      return { neuron: j, top: topK(logits, k).map((id) => ({ id, logit: logits[id] })) };
    });
  }

  private vocab(query: string, limit: number): { id: number; text: string }[] {
    const { tokenizer } = this.need();
    const q = query.trim().toLowerCase();
    const exact: { id: number; text: string }[] = [];
    const prefix: { id: number; text: string }[] = [];
    const inner: { id: number; text: string }[] = [];
    const asId = /^#?\d+$/.test(q) ? Number(q.replace('#', '')) : -1;
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      const text = tokenizer.tokenText(id);
      const t = text.trim().toLowerCase();
      if (id === asId || t === q) exact.push({ id, text });
      else if (t.startsWith(q)) prefix.push({ id, text });
      else if (q && t.includes(q)) inner.push({ id, text });
      if (exact.length >= limit) break;
    }
    return [...exact, ...prefix, ...inner].slice(0, limit);
  }
}

function bosAtZero(tokenizer: Tokenizer, tokens: { id: number }[]): boolean {
  return tokens.length > 0 && tokenizer.bosId !== null && tokens[0].id === tokenizer.bosId && tokenizer.isSpecial(tokens[0].id);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function describeError(err: unknown, deviceLost: string | null): { kind: ErrorKind; message: string; file?: string } {
  if (deviceLost) return { kind: 'device-lost', message: `The GPU was lost (${deviceLost}); the next run starts it again` };
  if (err instanceof DOMException && err.name === 'AbortError') return { kind: 'cancelled', message: 'Run cancelled' };
  if (err instanceof ModelFormatError) return { kind: 'model', message: err.message, file: err.file };
  if (err instanceof RunInputError) return { kind: 'input', message: err.message };
  return { kind: 'internal', message: `Internal error: ${errorMessage(err).split('\n')[0]}` };
}
