// Assembles one attribution run into the result format, whatever the backend: forward pass,
// targets, one decomposed pass per requested granularity, completeness. Knows nothing of how the
// backend computes; the CLI, the worker and the tests all call this.

import { type AttributionBackend, MODULE_NAMES, type ModeRequest, type ModeScores, SUBSPACE_NAMES, type TargetSpec } from './backend';
import type { ModelDescription } from '../model/description';
import type { TokenSpan } from '../model/tokenizer-types';
import { type DepassResult, type HeadMapForm, type Mode, RESULT_FORMAT, type Rule } from './result';

export interface RunOptions {
  modes: Mode[];
  /** Layer for neuron, module and subspace modes (default: the last layer). */
  layer?: number;
  /** Layers for head mode (default: all). */
  headLayers?: number[];
  /**
   * Head mode as one pass per layer (default) or all layers' heads in one pass (equal scores under
   * the proportional rule, close ones under the softmax rule; see plan.ts).
   */
  headMap?: HeadMapForm;
  positions?: 'all' | 'last' | number[];
  /** A fixed target token for every position (default: each position's own prediction). */
  target?: number;
  contrast?: number;
  rule?: Rule;
  tau?: number;
  /** Neurons per grouped pass in neuron mode (default: as many as the backend holds). */
  neuronGroup?: number;
  /** Direction for subspace mode, D floats (default: the unembedding row of the first target). */
  direction?: Float32Array;
  /** Add the per-layer token read-out and the logit lens. */
  layerDetail?: boolean;
  signal?: AbortSignal;
}

export interface RunInput {
  model: { name: string; fingerprint: string; description: ModelDescription };
  prompt: string;
  tokens: TokenSpan[];
  /** Position 0 holds the tokenizer's BOS special token. */
  bosAtZero: boolean;
}

export type Progress = (p: { stage: string; layer: number; of: number; fraction: number }) => void;

export class RunInputError extends Error {
  override readonly name = 'RunInputError';
}

export const DEFAULT_TAU = 0.1;

export async function runDepass(
  backend: AttributionBackend,
  input: RunInput,
  options: RunOptions,
  progress: Progress = () => {},
  onPartial?: (mode: Mode, partial: DepassResult) => void,
): Promise<DepassResult> {
  const cfg = input.model.description;
  const L = cfg.num_hidden_layers;
  const T = input.tokens.length;
  const rule = options.rule ?? 'softmax';
  const tau = options.tau ?? DEFAULT_TAU;
  const layer = options.layer ?? L - 1;
  validate(input, options, layer);

  const started = performance.now();
  progress({ stage: 'forward', layer: 0, of: L, fraction: 0 });
  const ids = input.tokens.map((t) => t.id);
  const fwd = await backend.forward(ids, { lens: options.layerDetail });

  const positions =
    options.positions === undefined || options.positions === 'all' ? ids.map((_, t) => t) : options.positions === 'last' ? [T - 1] : options.positions;
  const targets: TargetSpec[] = positions.map((position) => ({
    position,
    id: options.target ?? fwd.top[position][0].id,
    contrast_id: options.contrast ?? null,
  }));
  const logits = await fwd.targetLogits(targets);

  const result: DepassResult = {
    format: RESULT_FORMAT,
    model: {
      name: input.model.name,
      architecture: cfg.family,
      fingerprint: input.model.fingerprint,
      ...(cfg.final_logit_softcapping ? { final_logit_softcapping: cfg.final_logit_softcapping } : {}),
    },
    prompt: input.prompt,
    rule,
    tokens: input.tokens.map(({ id, text, start, end }) => ({ id, text, start, end })),
    predictions: fwd.top.map((top) => ({ top })),
    targets: targets.map((tg, i) => ({ ...tg, logit: logits[i] })),
    completeness: { max_abs_error: 0 },
  };
  if (fwd.lens) result.logit_lens = fwd.lens;

  let maxErr = 0;
  const check = (s: ModeScores) => {
    for (let i = 0; i < targets.length; i++) {
      let sum = 0;
      for (let m = 0; m < s.M; m++) sum += s.scores[i * s.M + m];
      maxErr = Math.max(maxErr, Math.abs(sum - logits[i]));
    }
  };
  const opts = (stage: string, base = 0, span = 1) => ({
    rule,
    tau,
    bosAtZero: input.bosAtZero,
    signal: options.signal,
    onLayer: (l: number, of: number) => progress({ stage, layer: l, of, fraction: base + (span * (l + 1)) / of }),
  });
  const rows = (s: ModeScores, i: number) => Array.from(s.scores.subarray(i * s.M, (i + 1) * s.M));

  for (const mode of options.modes) {
    if (mode === 'token') {
      const s = await backend.attribute({ kind: 'token', byLayer: options.layerDetail }, targets, opts('token'));
      check(s);
      result.token = {
        scores: targets.map((_, i) => rows(s, i).slice(0, T)),
        rest: targets.map((_, i) => s.scores[i * s.M + s.rest]),
      };
      if (s.byLayer) {
        const by = s.byLayer;
        result.token.by_layer = targets.map((_, i) => Array.from({ length: L }, (_, l) => Array.from(by.subarray((i * L + l) * s.M, (i * L + l) * s.M + T))));
        result.token.rest_by_layer = targets.map((_, i) => Array.from({ length: L }, (_, l) => by[(i * L + l) * s.M + s.rest]));
      }
    } else if (mode === 'head') {
      const layers = options.headLayers ?? Array.from({ length: L }, (_, l) => l);
      const scores = targets.map(() => [] as number[][]);
      const rest = targets.map(() => [] as number[]);
      const H = cfg.num_attention_heads;
      if (options.headMap === 'one-pass') {
        // Component 1 + l H + h is head h of layer l; a layer's rest is what its heads leave of the logit.
        const s = await backend.attribute({ kind: 'head_map' }, targets, opts('head map'));
        check(s);
        targets.forEach((_, i) => {
          const r = rows(s, i);
          for (const l of layers) {
            const heads = r.slice(1 + l * H, 1 + (l + 1) * H);
            scores[i].push(heads);
            rest[i].push(logits[i] - heads.reduce((a, b) => a + b, 0));
          }
        });
      } else {
        for (const [n, l] of layers.entries()) {
          const s = await backend.attribute({ kind: 'head', layer: l }, targets, opts(`head layer ${l}`, n / layers.length, 1 / layers.length));
          check(s);
          targets.forEach((_, i) => {
            const r = rows(s, i);
            scores[i].push(r.filter((_, m) => m !== s.rest));
            rest[i].push(r[s.rest]);
          });
        }
      }
      result.head = { scores, rest, layers, ...(options.headMap === 'one-pass' ? { form: 'one-pass' as const } : {}) };
    } else if (mode === 'neuron') {
      const I = cfg.intermediate_size;
      const group = Math.max(1, Math.min(I, options.neuronGroup ?? backend.maxComponents(T) - 1));
      const scores = targets.map(() => new Array<number>(I).fill(0));
      const groups = Math.ceil(I / group);
      for (let g = 0; g < groups; g++) {
        const from = g * group;
        const to = Math.min(I, from + group);
        const req: ModeRequest = { kind: 'neuron', layer, from, to };
        const s = await backend.attribute(req, targets, opts(`neurons ${from}-${to - 1}`, g / groups, 1 / groups));
        check(s);
        targets.forEach((_, i) => {
          for (let j = from; j < to; j++) scores[i][j] = s.scores[i * s.M + (j - from)];
        });
      }
      // With several groups each pass has its own rest; the reported rest is what the neurons leave.
      const rest = targets.map((_, i) => logits[i] - scores[i].reduce((a, b) => a + b, 0));
      result.neuron = { layer, scores, rest, group_size: group };
    } else if (mode === 'module') {
      const s = await backend.attribute({ kind: 'module', layer }, targets, opts('module'));
      check(s);
      result.module = { layer, scores: targets.map((_, i) => rows(s, i)), names: MODULE_NAMES };
    } else if (mode === 'subspace') {
      const direction = options.direction ?? (await backend.unembeddingRow(targets[0].id));
      const s = await backend.attribute({ kind: 'subspace', layer, direction }, targets, opts('subspace'));
      check(s);
      result.subspace = { layer, scores: targets.map((_, i) => rows(s, i)), names: SUBSPACE_NAMES };
    }
    result.completeness.max_abs_error = maxErr;
    onPartial?.(mode, result);
  }
  result.completeness.max_abs_error = maxErr;
  result.engine = { backend: backend.kind, tau, elapsed_ms: Math.round(performance.now() - started) };
  progress({ stage: 'done', layer: L, of: L, fraction: 1 });
  return result;
}

function validate(input: RunInput, o: RunOptions, layer: number): void {
  const cfg = input.model.description;
  const T = input.tokens.length;
  const V = cfg.vocab_size;
  if (T === 0) throw new RunInputError('the prompt has no tokens');
  if (T > cfg.max_position_embeddings) {
    throw new RunInputError(`the prompt has ${T} tokens; this model reads at most ${cfg.max_position_embeddings}`);
  }
  if (o.modes.length === 0) throw new RunInputError('no attribution mode chosen');
  if (!Number.isInteger(layer) || layer < 0 || layer >= cfg.num_hidden_layers) {
    throw new RunInputError(`layer ${layer} is out of range: the model has layers 0-${cfg.num_hidden_layers - 1}`);
  }
  for (const l of o.headLayers ?? []) {
    if (!Number.isInteger(l) || l < 0 || l >= cfg.num_hidden_layers) throw new RunInputError(`head layer ${l} is out of range`);
  }
  if (Array.isArray(o.positions)) {
    if (o.positions.length === 0) throw new RunInputError('no positions chosen');
    for (const p of o.positions) {
      if (!Number.isInteger(p) || p < 0 || p >= T) throw new RunInputError(`position ${p} is out of range: the prompt has ${T} tokens (0-${T - 1})`);
    }
  }
  for (const [name, id] of [
    ['target', o.target],
    ['contrast', o.contrast],
  ] as const) {
    if (id !== undefined && (!Number.isInteger(id) || id < 0 || id >= V)) {
      throw new RunInputError(`${name} token id ${id} is out of range: the vocabulary has ${V} tokens`);
    }
  }
  if (o.direction && o.direction.length !== cfg.hidden_size) {
    throw new RunInputError(`the subspace direction has ${o.direction.length} numbers; the model's hidden size is ${cfg.hidden_size}`);
  }
  if (o.tau !== undefined && !(o.tau > 0)) throw new RunInputError('tau must be positive');
}
