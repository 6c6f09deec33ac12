// The engine host: owns the loaded model, the tokenizer and the backend (WebGPU when an adapter
// exists, else the TypeScript reference), and answers protocol requests. It is independent of
// the worker global so Node tests can drive it; engine.worker.ts binds it to `self`.

import { ablate } from '../depass/ablate';
import type { AttributionBackend } from '../depass/backend';
import { CpuBackend } from '../depass/cpu-backend';
import { generateIds } from '../depass/generate';
import { PlanError } from '../depass/plan';
import { toReferenceModel } from '../depass/reference-model';
import { runDepass, RunInputError } from '../depass/run';
import type { GpuProvider, GpuSession } from '../gpu/session';
import { type Checkpoint, openCheckpoint } from '../model/checkpoint';
import type { Weight } from '../model/description';
import { weightsInMemory } from '../model/stored-tensor';
import { ModelFormatError } from '../model/errors';
import { loadTokenizer } from '../model/tokenizer';
import type { Tokenizer } from '../model/tokenizer-types';
import { weightStats } from '../model/weight-stats';
import { encodeResult } from './codec';
import type { ErrorKind, ModelInfo, Reply, Request, RunSettings } from './protocol';

export type Post = (reply: Reply, transfer?: Transferable[]) => void;

interface Loaded {
  checkpoint: Checkpoint<Weight>;
  tokenizer: Tokenizer;
  backend: AttributionBackend & { destroy?(): void };
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
    if (req.type === 'run' || req.type === 'generate') this.running.set(req.id, controller);
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
        const { tokenizer, checkpoint, backend } = this.need();
        const tokens = tokenizer.encode(req.text);
        const T = Math.max(1, tokens.length);
        const memory =
          this.gpu && backend.kind === 'webgpu' ? { bytes: this.gpu.estimateBytes(checkpoint, T), refusal: this.gpu.refusal(checkpoint, T) } : null;
        this.post({ type: 'tokens', id: req.id, tokens, bosAtZero: bosAtZero(tokenizer, tokens), memory });
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
      case 'promotes': {
        const tokens = await this.need().backend.neuronPromotes(req.layer, req.neurons, req.k);
        this.post({ type: 'promotes', id: req.id, tokens });
        return;
      }
      case 'generate':
        return this.generate(req, signal);
      case 'vocab': {
        const { tokenizer } = this.need();
        const texts = Array.from({ length: tokenizer.vocabSize }, (_, id) => tokenizer.tokenText(id));
        const special = texts.flatMap((_, id) => (tokenizer.isSpecial(id) ? [id] : []));
        this.post({ type: 'vocab', id: req.id, texts, special });
        return;
      }
    }
  }

  private need(): Loaded {
    if (!this.loaded) throw new RunInputError('no model is loaded');
    return this.loaded;
  }

  private async load(id: number, files: Request & { type: 'load' } extends { files: infer F } ? F : never): Promise<void> {
    const checkpoint = await openCheckpoint(files);
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
    const backend = await this.makeBackend(checkpoint, id);
    this.loaded = { checkpoint, tokenizer, backend };
    this.post({ type: 'loaded', id, info: this.info() });
  }

  /** The GPU engine (weights streamed from the files, progress posted for request `id`), else the reference on the CPU. */
  private async makeBackend(checkpoint: Checkpoint<Weight>, id = -1): Promise<AttributionBackend & { destroy?(): void }> {
    const session = await this.session();
    if (session) {
      try {
        return await session.createBackend(checkpoint, (done, total) =>
          this.post({ type: 'progress', id, stage: 'uploading weights', layer: 0, of: 1, fraction: done / total }),
        );
      } catch (err) {
        if (this.deviceLost) throw err;
        this.gpuNote = `the GPU could not hold this model (${errorMessage(err)}); running on the CPU`;
      }
    }
    return cpuBackend(checkpoint);
  }

  private async session(): Promise<GpuSession | null> {
    if (this.gpu) return this.gpu;
    if (!this.gpuProvider) {
      this.gpuNote = 'WebGPU is not available here; running on the CPU';
      return null;
    }
    const s = await this.gpuProvider();
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
    const { checkpoint } = this.loaded;
    this.loaded.backend = await this.makeBackend(checkpoint).catch(() => cpuBackend(checkpoint));
  }

  private async backend(): Promise<AttributionBackend> {
    return this.need().backend;
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

  private async generate(req: Request & { type: 'generate' }, signal: AbortSignal): Promise<void> {
    const { checkpoint, tokenizer, backend } = this.need();
    const ids = tokenizer.encode(req.prompt).map((t) => t.id);
    const g = await generateIds(backend, ids, {
      n: req.n,
      temperature: req.temperature,
      seed: req.seed,
      stop: tokenizer.eosIds,
      maxTokens: checkpoint.description.max_position_embeddings || Number.MAX_SAFE_INTEGER,
      signal,
    });
    // The prompt as typed, then what the tokens add to its decoded text (decoding the whole keeps
    // the spaces a tokenizer drops at the start of a decode).
    const before = tokenizer.decode(ids);
    const all = tokenizer.decode([...ids, ...g.ids]);
    const added = all.startsWith(before) ? all.slice(before.length) : tokenizer.decode(g.ids);
    this.post({ type: 'generated', id: req.id, text: req.prompt + added, ids: g.ids, stopped: g.stopped });
  }

  private async ablate(req: Request & { type: 'ablate' }): Promise<void> {
    const { tokenizer, backend } = this.need();
    const ids = tokenizer.encode(req.prompt).map((t) => t.id);
    this.post({ type: 'ablated', id: req.id, ...(await ablate(backend, ids, req.targets, req.ablation)) });
  }
}

/** The reference engine, with every weight read into memory as f32 (small models only). */
async function cpuBackend(checkpoint: Checkpoint<Weight>): Promise<CpuBackend> {
  return new CpuBackend(toReferenceModel(checkpoint.description, await weightsInMemory(checkpoint.weights)));
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
  if (err instanceof RunInputError || err instanceof PlanError) return { kind: 'input', message: err.message };
  return { kind: 'internal', message: `Internal error: ${errorMessage(err).split('\n')[0]}` };
}
