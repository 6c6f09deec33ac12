// The typed messages between the app and the engine worker. Every request carries an id; the
// worker answers with progress events, at most one final reply (result or error) per id, and
// for runs, partial results as each granularity finishes. Plain data only: no classes cross.

import type { ModelDescription } from '../model/description';
import type { ModelFile } from '../model/files';
import type { TokenSpan } from '../model/tokenizer-types';
import type { AblationSpec } from '../depass/ablate';
import type { NeuronPromotes } from '../depass/backend';
import type { AdapterInfo } from '../gpu/session';
import type { Mode, TopEntry } from '../depass/result';
import type { RunOptions } from '../depass/run';

export type { AblationSpec, AdapterInfo };

/** The run options as plain data (no signal; the direction as a number array). */
export type RunSettings = Omit<RunOptions, 'signal' | 'direction'> & { direction?: number[] };

export type Request =
  | { type: 'load'; id: number; files: ModelFile[] }
  | { type: 'tokenize'; id: number; text: string }
  | { type: 'run'; id: number; prompt: string; settings: RunSettings }
  | { type: 'cancel'; id: number; target: number }
  | { type: 'ablate'; id: number; prompt: string; ablation: AblationSpec; targets: { position: number; id: number; contrast_id: number | null }[] }
  | { type: 'attention'; id: number; layer: number; head: number }
  | { type: 'promotes'; id: number; layer: number; neurons: number[]; k: number }
  /** Continue the prompt by up to n tokens (greedy at temperature 0, else sampled from the top five with the seed). */
  | { type: 'generate'; id: number; prompt: string; n: number; temperature: number; seed: number }
  /** The whole vocabulary's display texts, by id (the app searches it locally). */
  | { type: 'vocab'; id: number }
  | { type: 'ping'; id: number }
  /** Test hook: destroy the device mid-run to exercise device-loss handling. */
  | { type: 'lose-device'; id: number };

export interface ModelInfo {
  name: string;
  fingerprint: string;
  format: 'safetensors' | 'llama2c';
  description: ModelDescription;
  parameters: number;
  weightBytes: number;
  /** Weights plus the working buffers of a 64-token token-mode run. */
  estimatedGpuBytes: number;
  backend: 'webgpu' | 'cpu';
  adapter: AdapterInfo | null;
  /** Why the CPU is used, when it is. */
  backendNote?: string;
}

/** What a token-mode run of a prompt needs on the GPU, before it is started. */
export interface PromptMemory {
  /** Weights plus the run's working buffers. */
  bytes: number;
  /** Why the run would not fit this device and what to reduce; null when it fits. */
  refusal: string | null;
}

export type ErrorKind = 'model' | 'input' | 'cancelled' | 'device-lost' | 'internal';

export type Reply =
  | { type: 'loaded'; id: number; info: ModelInfo }
  | { type: 'tokens'; id: number; tokens: TokenSpan[]; bosAtZero: boolean; memory: PromptMemory | null }
  | { type: 'progress'; id: number; stage: string; layer: number; of: number; fraction: number }
  /** The run so far as UTF-8 JSON (depass-result/1), transferred, after each granularity. */
  | { type: 'partial'; id: number; mode: Mode; json: ArrayBuffer }
  | { type: 'result'; id: number; json: ArrayBuffer }
  | { type: 'ablated'; id: number; logits: number[]; baseline: number[]; top: TopEntry[][] }
  | { type: 'attention'; id: number; T: number; A: Float32Array }
  | { type: 'promotes'; id: number; tokens: NeuronPromotes[] }
  /** The prompt and its continuation: `text` starts with the prompt, the added ids in order, and why it ended. */
  | { type: 'generated'; id: number; text: string; ids: number[]; stopped: 'count' | 'stop' | 'length' }
  /** Display texts by id, and the ids the tokenizer calls special (BOS, EOS, chat-template markers). */
  | { type: 'vocab'; id: number; texts: string[]; special: number[] }
  | { type: 'pong'; id: number }
  | { type: 'error'; id: number; kind: ErrorKind; message: string; file?: string };

export type ReplyOf<T extends Reply['type']> = Extract<Reply, { type: T }>;

/**
 * Ends the worker's name when the page asks for the CPU reference engine rather than WebGPU
 * (`?engine=cpu`: to compare with the reference, or where a software GPU is slower than the CPU).
 */
export const CPU_WORKER_SUFFIX = ' (cpu)';
