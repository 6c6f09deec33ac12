// The app's side of the engine worker: one promise per request, progress and partial results by
// callback, and a watchdog that turns a worker that stops answering into an error instead of a
// silent stall. Knows the protocol, not React and not WebGPU.

import type { DepassResult, Mode } from '../depass/result';
import type { ModelFile } from '../model/files';
import type { TokenSpan } from '../model/tokenizer-types';
import { decodeResult } from './codec';
import type { AblationSpec, ErrorKind, ModelInfo, PromptMemory, Reply, ReplyOf, Request, RunSettings } from './protocol';

/** What the client needs of a Worker (a real one, or an in-process stand-in in tests). */
export interface WorkerLike {
  postMessage(message: Request, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<Reply>) => void) | null;
  onerror: ((ev: ErrorEvent) => void) | null;
  terminate(): void;
}

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly kind: ErrorKind | 'unresponsive',
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

export interface Progress {
  stage: string;
  layer: number;
  of: number;
  fraction: number;
}

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: EngineError) => void;
  onProgress?: (p: Progress) => void;
  onPartial?: (mode: Mode, r: DepassResult) => void;
}

export interface RunHandle {
  id: number;
  result: Promise<DepassResult>;
  cancel(): void;
}

export class EngineClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private lastHeard = Date.now();
  private watchdog: ReturnType<typeof setInterval> | null = null;

  constructor(
    private worker: WorkerLike,
    private readonly spawn: (() => WorkerLike) | null = null,
    /** Milliseconds without any message, while requests are pending, before giving up. */
    private readonly timeoutMs = 30_000,
  ) {
    this.attach();
  }

  private attach(): void {
    this.worker.onmessage = (ev) => this.receive(ev.data);
    this.worker.onerror = (ev) => {
      ev.preventDefault?.();
      this.failAll(new EngineError('internal', `The engine worker failed: ${ev.message || 'unknown error'}`));
    };
  }

  private receive(reply: Reply): void {
    this.lastHeard = Date.now();
    const p = this.pending.get(reply.id);
    if (!p) return;
    switch (reply.type) {
      case 'progress':
        p.onProgress?.(reply);
        return;
      case 'partial':
        p.onPartial?.(reply.mode, decodeResult(reply.json));
        return;
      case 'pong':
        if (reply.id !== 0) break;
        return;
      case 'error':
        this.pending.delete(reply.id);
        p.reject(new EngineError(reply.kind, reply.message, reply.file));
        this.idle();
        return;
    }
    this.pending.delete(reply.id);
    p.resolve(reply);
    this.idle();
  }

  private request<T extends Reply['type']>(
    build: (id: number) => Request,
    expect: T,
    hooks: Omit<Pending, 'resolve' | 'reject'> = {},
    transfer: Transferable[] = [],
  ): { id: number; promise: Promise<ReplyOf<T>> } {
    const id = this.nextId++;
    const promise = new Promise<ReplyOf<T>>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => (r.type === expect ? resolve(r as ReplyOf<T>) : reject(new EngineError('internal', `unexpected reply ${r.type}`))),
        reject,
        ...hooks,
      });
    });
    this.arm();
    this.worker.postMessage(build(id), transfer);
    return { id, promise };
  }

  /** Pings the worker while work is pending; a worker silent past the timeout is replaced. */
  private arm(): void {
    if (this.watchdog) return;
    this.lastHeard = Date.now();
    this.watchdog = setInterval(
      () => {
        if (this.pending.size === 0) return this.idle();
        if (Date.now() - this.lastHeard > this.timeoutMs) {
          this.failAll(
            new EngineError('unresponsive', `The engine stopped answering for ${Math.round(this.timeoutMs / 1000)} s and was restarted; load the model again`),
          );
          this.restart();
          return;
        }
        this.worker.postMessage({ type: 'ping', id: 0 });
      },
      Math.max(50, Math.min(2000, this.timeoutMs / 4)),
    );
  }

  private idle(): void {
    if (this.pending.size === 0 && this.watchdog) {
      clearInterval(this.watchdog);
      this.watchdog = null;
    }
  }

  private failAll(err: EngineError): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.idle();
  }

  private restart(): void {
    if (!this.spawn) return;
    this.worker.terminate();
    this.worker = this.spawn();
    this.attach();
  }

  async load(files: ModelFile[]): Promise<ModelInfo> {
    return (await this.request((id) => ({ type: 'load', id, files }), 'loaded').promise).info;
  }

  async tokenize(text: string): Promise<{ tokens: TokenSpan[]; bosAtZero: boolean; memory: PromptMemory | null }> {
    const r = await this.request((id) => ({ type: 'tokenize', id, text }), 'tokens').promise;
    return { tokens: r.tokens, bosAtZero: r.bosAtZero, memory: r.memory };
  }

  run(prompt: string, settings: RunSettings, onProgress?: (p: Progress) => void, onPartial?: (mode: Mode, r: DepassResult) => void): RunHandle {
    const { id, promise } = this.request((id) => ({ type: 'run', id, prompt, settings }), 'result', { onProgress, onPartial });
    return {
      id,
      result: promise.then((r) => decodeResult(r.json)),
      cancel: () => this.worker.postMessage({ type: 'cancel', id: this.nextId++, target: id }),
    };
  }

  async ablate(prompt: string, ablation: AblationSpec, targets: { position: number; id: number; contrast_id: number | null }[]): Promise<ReplyOf<'ablated'>> {
    return this.request((id) => ({ type: 'ablate', id, prompt, ablation, targets }), 'ablated').promise;
  }

  async attention(layer: number, head: number): Promise<{ T: number; A: Float32Array }> {
    const r = await this.request((id) => ({ type: 'attention', id, layer, head }), 'attention').promise;
    return { T: r.T, A: r.A };
  }

  async promotes(layer: number, neurons: number[], k = 5): Promise<ReplyOf<'promotes'>['tokens']> {
    return (await this.request((id) => ({ type: 'promotes', id, layer, neurons, k }), 'promotes').promise).tokens;
  }

  /** The prompt continued by up to n tokens; cancel() stops it between tokens. */
  generate(prompt: string, n: number, temperature: number, seed: number): { result: Promise<ReplyOf<'generated'>>; cancel(): void } {
    const { id, promise } = this.request((id) => ({ type: 'generate', id, prompt, n, temperature, seed }), 'generated');
    return { result: promise, cancel: () => this.worker.postMessage({ type: 'cancel', id: this.nextId++, target: id }) };
  }

  /** The loaded vocabulary's display texts, by id, and its special token ids. */
  async vocab(): Promise<{ texts: string[]; special: number[] }> {
    const r = await this.request((id) => ({ type: 'vocab', id }), 'vocab').promise;
    return { texts: r.texts, special: r.special };
  }

  /** Test hook: destroys the GPU device inside the worker. */
  async loseDevice(): Promise<void> {
    await this.request((id) => ({ type: 'lose-device', id }), 'pong').promise;
  }

  dispose(): void {
    this.failAll(new EngineError('cancelled', 'engine closed'));
    this.worker.terminate();
  }
}
