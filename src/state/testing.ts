// A small hand-written result (4 tokens, 2 layers × 2 heads, 4 neurons) and a scripted engine,
// for the store's and the views' unit tests. Numbers are chosen by hand so expected values can
// be worked out on paper; nothing here comes from running the engine.

import type { DepassResult, Mode } from '../depass/result';
import { plainRopeFeatures } from '../model/description';
import type { ModelFile } from '../model/files';
import { EngineError, type RunHandle } from '../worker/client';
import type { ModelInfo, ReplyOf, RunSettings } from '../worker/protocol';
import type { Engine } from './engine';

/** Position t predicts id 10 + t; every target logit is 4; scores sum to it with the rest. */
export function handResult(prompt = 'a b c'): DepassResult {
  return {
    format: 'depass-result/1',
    model: { name: 'hand', architecture: 'llama', fingerprint: 'sha256:hand' },
    prompt,
    rule: 'softmax',
    tokens: [
      { id: 1, text: '<s>', start: 0, end: 0 },
      { id: 5, text: 'a', start: 0, end: 1 },
      { id: 6, text: ' b', start: 1, end: 3 },
      { id: 7, text: ' c', start: 3, end: 5 },
    ],
    predictions: [0, 1, 2, 3].map((t) => ({
      top: [
        { id: 10 + t, logit: 4 },
        { id: 20, logit: 3 },
        { id: 21, logit: 2 },
      ],
    })),
    targets: [0, 1, 2, 3].map((t) => ({ position: t, id: 10 + t, contrast_id: null, logit: 4 })),
    token: {
      // Row i: scores of sources 0..3 for the prediction at position i (zero after i).
      scores: [
        [4, 0, 0, 0],
        [1, 3, 0, 0],
        [0.5, -0.5, 4, 0],
        [1, 2, -1, 1.5],
      ],
      rest: [0, 0, 0, 0.5],
    },
    head: {
      scores: [
        [
          [1, 0],
          [0, 0],
        ],
        [
          [0, 1],
          [1, 0],
        ],
        [
          [0.25, 0.25],
          [0.5, 0],
        ],
        [
          [0.5, -0.25],
          [2, 0.75],
        ],
      ],
      rest: [
        [3, 4],
        [3, 3],
        [3.5, 3.5],
        [3.75, 1.25],
      ],
      layers: [0, 1],
    },
    neuron: {
      layer: 1,
      scores: [
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0.5, -1, 2, 0.25],
      ],
      rest: [4, 4, 4, 2.25],
      group_size: 4,
    },
    completeness: { max_abs_error: 0 },
  };
}

export const handInfo: ModelInfo = {
  name: 'hand',
  fingerprint: 'sha256:hand',
  format: 'safetensors',
  description: {
    name: 'hand',
    family: 'llama',
    vocab_size: 32,
    hidden_size: 8,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    num_key_value_heads: 2,
    head_dim: 4,
    intermediate_size: 4,
    max_position_embeddings: 64,
    normKind: 'rms',
    norm_eps: 1e-5,
    mlpKind: 'gated',
    hidden_act: 'silu',
    ...plainRopeFeatures(2, 4, 10000),
    hasQkvBias: false,
    hasOBias: false,
    hasMlpBias: false,
    tie_word_embeddings: true,
    bos_token_id: 1,
    eos_token_ids: [2],
    dtype: 'F32',
  },
  parameters: 1000,
  weightBytes: 4000,
  estimatedGpuBytes: 8000,
  backend: 'cpu',
  adapter: null,
  backendNote: 'no WebGPU here',
};

interface ScriptedRun {
  prompt: string;
  settings: RunSettings;
  resolve(r: DepassResult): void;
  reject(e: EngineError): void;
  partial(mode: Mode, r: DepassResult): void;
  cancelled: boolean;
}

/** An engine whose replies the test decides: runs stay pending until resolved by hand. */
export class ScriptedEngine implements Engine {
  loads: ModelFile[][] = [];
  runs: ScriptedRun[] = [];
  ablations: Parameters<Engine['ablate']>[] = [];
  failLoad: EngineError | null = null;
  ablateReply = { logits: [1.5], baseline: [4], top: [[{ id: 20, logit: 3 }]] };

  async load(files: ModelFile[]): Promise<ModelInfo> {
    this.loads.push(files);
    if (this.failLoad) throw this.failLoad;
    return handInfo;
  }
  async tokenize(text: string) {
    return { tokens: text.split(' ').map((w, k) => ({ id: 5 + k, text: w, start: 0, end: 0 })), bosAtZero: false, memory: null };
  }
  run(prompt: string, settings: RunSettings, _onProgress?: unknown, onPartial?: (mode: Mode, r: DepassResult) => void): RunHandle {
    let resolve!: (r: DepassResult) => void;
    let reject!: (e: EngineError) => void;
    const result = new Promise<DepassResult>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    const run: ScriptedRun = { prompt, settings, resolve, reject, partial: (m, r) => onPartial?.(m, r), cancelled: false };
    this.runs.push(run);
    return {
      id: this.runs.length,
      result,
      cancel: () => {
        run.cancelled = true;
        reject(new EngineError('cancelled', 'Run cancelled'));
      },
    };
  }
  async ablate(...args: Parameters<Engine['ablate']>) {
    this.ablations.push(args);
    return { type: 'ablated' as const, id: 0, ...this.ablateReply };
  }
  async attention(_layer: number, _head: number) {
    return { T: 4, A: new Float32Array(16).fill(0.25) };
  }
  async promotes(_layer: number, neurons: number[], k = 5) {
    return neurons.map((neuron) => ({ neuron, top: Array.from({ length: k }, (_, r) => ({ id: r, logit: 1 - r / 10 })) }));
  }
  generations: { prompt: string; n: number; temperature: number; seed: number }[] = [];
  /** What generate answers: the prompt and a continuation of its own. */
  generateReply = (prompt: string): ReplyOf<'generated'> => ({ type: 'generated', id: 0, text: `${prompt} t7 t8`, ids: [7, 8], stopped: 'count' });
  generate(prompt: string, n: number, temperature: number, seed: number) {
    this.generations.push({ prompt, n, temperature, seed });
    return { result: Promise.resolve(this.generateReply(prompt)), cancel: () => undefined };
  }
  async vocab() {
    return { texts: Array.from({ length: 32 }, (_, id) => `t${id}`), special: [] };
  }
}

export const file = (path: string, text = 'x'): ModelFile => ({ path, blob: new Blob([text]) });
