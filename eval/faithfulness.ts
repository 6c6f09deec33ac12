// Faithfulness of DePass attributions on probes with known answers and known source tokens:
// (1) how often the top-scored source token is a ground-truth source, (2) a deletion curve
// (remove the top-p% tokens by each ranking, measure the drop of the target probability) and
// (3) head masking (zero the top heads by each ranking, measure task accuracy), per probe kind.
// Beside the ground-truth labels, each probe's token effects are measured (the answer logit's drop
// when a token's embedding is replaced by the mean embedding), so a ranking's top token can also be
// checked against what the model measurably depends on.
// Baselines: direct logit attribution, gradient x input, integrated gradients, attention rollout,
// last-layer attention, random; for heads attribution patching, head-output norm, random.
// Runs on the reference engine (the gradient baselines on its float64 twin in ./grad).

import { CpuBackend } from '../src/depass/cpu-backend';
import { gemm } from '../src/depass/gemm';
import type { CpuForwardRecord as ForwardRecord } from '../src/depass/forward';
import type { ReferenceModel } from '../src/depass/reference-model';
import { runDepass } from '../src/depass/run';
import type { Tokenizer, TokenSpan } from '../src/model/tokenizer-types';
import { attributionPatching, directLogitAttribution, gradientTimesInput, integratedGradients } from './baselines';
import { type Gradients, targetGradients, tokenEmbeddings } from './grad/model';
import { meanEmbedding, measuredEffects } from './effects';

export interface Probe {
  id: string;
  kind: string;
  prompt: string;
  answer: string;
  sources: { start: number; end: number }[];
  /** Competing answers (other colours, other surnames, the other-number pronoun). */
  distractors?: string[];
}

export interface EvalOptions {
  deletionFractions?: number[];
  headFractions?: number[];
  randomSeeds?: number;
  /** Points of integrated gradients' path integral (default 32). */
  igSteps?: number;
}

export const TOKEN_METHODS = ['depass', 'dla', 'gradient-x-input', 'integrated-gradients', 'rollout', 'last-attention', 'random'] as const;
export type TokenMethod = (typeof TOKEN_METHODS)[number];
export const HEAD_METHODS = ['depass', 'attribution-patching', 'head-norm', 'random'] as const;
export type HeadMethod = (typeof HEAD_METHODS)[number];

/** The figures of one probe kind (or of all probes, under 'all'). */
export interface KindReport {
  /** Probes scored. */
  n: number;
  /** Whether the answer token occurs at a ground-truth source (in any probe of the kind). */
  lexical: boolean;
  /** Model accuracy (argmax at the last position is the answer). */
  accuracy: number;
  /** Share of probes whose top-ranked token overlaps a ground-truth source, per method. */
  topSourceHit: Record<TokenMethod, number>;
  /** The same for DePass explaining logit(answer) - logit(strongest distractor). */
  topSourceHitContrast: number;
  /** The same for DePass under the proportional MLP rule (the default is the paper's softmax, tau 0.1). */
  topSourceHitProportional: number;
  /** Share of probes whose largest measured token effect on the answer's logit is at a ground-truth source. */
  effectTopIsSource: number;
  /** Share of probes whose top-ranked token is the one with the largest measured effect, per method. */
  topEffectAgreement: Record<TokenMethod, number>;
  /** Mean relative drop of p(answer) after deleting the top-p tokens: [method][p]. */
  deletion: Record<TokenMethod, Record<string, number>>;
  /** Task accuracy after zeroing the top-p heads: [method][p]. */
  headMasking: Record<HeadMethod, Record<string, number>>;
}

export interface EvalReport {
  model: string;
  probes: number;
  skipped: { id: string; reason: string }[];
  /** Heads zeroed at each fraction: ceil(p * L * H). */
  headCounts: Record<string, number>;
  /** Per probe kind, then 'non-lexical' (every probe of a non-lexical kind, when there are both) and 'all'. */
  kinds: Record<string, KindReport>;
  /** Per probe: whether the model answered it, and each method's top-ranked token (first random seed). */
  perProbe: {
    id: string;
    kind: string;
    answered: boolean;
    contrastHit: boolean | null;
    /** The token with the largest measured effect on the answer's logit, and that effect. */
    effectTop: { text: string; hit: boolean; effect: number };
    /** The largest measured effect of a ground-truth source token. */
    sourceEffect: number;
    /** DePass's score (answer logit) of its top-ranked token and of the best-scored source token. */
    depassScore: { top: number; source: number };
    top: Record<TokenMethod, { text: string; hit: boolean }>;
  }[];
}

interface Prepared {
  probe: Probe;
  tokens: TokenSpan[];
  ids: number[];
  answerId: number;
  /** Single-token distractors' ids. */
  distractorIds: number[];
  /** Positions that may be ranked and deleted: not special, not the last (query) position. */
  candidates: number[];
  truth: Set<number>;
}

/** The id of `word` as the one token that follows the prompt, or null when it is not one token. */
function nextTokenId(tokenizer: Tokenizer, prompt: string, ids: number[], word: string): number | null {
  const full = tokenizer.encode(prompt + word).map((t) => t.id);
  if (full.length !== ids.length + 1 || ids.some((id, i) => full[i] !== id)) return null;
  return full[ids.length];
}

/** Whether the probe's answer token sits at one of its ground-truth sources (null: the probe cannot be scored). */
export function answerAtSource(tokenizer: Tokenizer, probe: Probe): boolean | null {
  const p = prepare(tokenizer, probe);
  return typeof p === 'string' ? null : [...p.truth].some((i) => p.ids[i] === p.answerId);
}

function prepare(tokenizer: Tokenizer, probe: Probe): Prepared | string {
  const tokens = tokenizer.encode(probe.prompt);
  const ids = tokens.map((t) => t.id);
  const answerId = nextTokenId(tokenizer, probe.prompt, ids, probe.answer);
  if (answerId === null) return 'the answer is not a single token after the prompt';
  const distractorIds = (probe.distractors ?? [])
    .map((d) => nextTokenId(tokenizer, probe.prompt, ids, d))
    .filter((id): id is number => id !== null && id !== answerId);
  const T = ids.length;
  const candidates = tokens.map((_, i) => i).filter((i) => i < T - 1 && !tokenizer.isSpecial(ids[i]) && tokens[i].end > tokens[i].start);
  const truth = new Set(candidates.filter((i) => probe.sources.some((s) => tokens[i].start < s.end && s.start < tokens[i].end)));
  if (truth.size === 0) return 'no token covers the source span';
  return { probe, tokens, ids, answerId, distractorIds, candidates, truth };
}

export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled<T>(xs: T[], rnd: () => number): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Attention rollout (Abnar & Zuidema 2020): product over layers of 0.5 * mean_h A + 0.5 * I, row T-1. */
export function attentionRollout(rec: ForwardRecord, H: number): Float64Array {
  const T = rec.T;
  let R = new Float64Array(T * T);
  for (let i = 0; i < T; i++) R[i * T + i] = 1;
  for (const layer of rec.layers) {
    const Abar = new Float64Array(T * T);
    for (let h = 0; h < H; h++) for (let i = 0; i < T * T; i++) Abar[i] += layer.A[h * T * T + i] / H;
    for (let i = 0; i < T; i++) {
      Abar[i * T + i] += 1;
      for (let j = 0; j < T; j++) Abar[i * T + j] *= 0.5;
    }
    const next = new Float64Array(T * T);
    for (let i = 0; i < T; i++)
      for (let k = 0; k < T; k++) {
        const a = Abar[i * T + k];
        if (a === 0) continue;
        for (let j = 0; j < T; j++) next[i * T + j] += a * R[k * T + j];
      }
    R = next;
  }
  return R.subarray((T - 1) * T, T * T);
}

/** Mean over heads of the last layer's attention from the last position. */
export function lastLayerAttention(rec: ForwardRecord, H: number): Float64Array {
  const T = rec.T;
  const A = rec.layers[rec.layers.length - 1].A;
  const out = new Float64Array(T);
  for (let h = 0; h < H; h++) for (let j = 0; j < T; j++) out[j] += A[(h * T + T - 1) * T + j] / H;
  return out;
}

/** |Wo_h y_h| at the last position for every (layer, head): the head-output norm baseline. */
export function headOutputNorms(model: ReferenceModel, rec: ForwardRecord): Float64Array {
  const cfg = model.description;
  const { num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh, hidden_size: D } = cfg;
  const T = rec.T;
  const out = new Float64Array(cfg.num_hidden_layers * H);
  rec.layers.forEach((layer, l) => {
    const Wo = model.layers[l].o_proj.weight; // [D, H*dh]
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / (H / Hkv));
      const y = new Float32Array(H * dh); // only head h's slice is filled
      for (let k = 0; k < T; k++) {
        const a = layer.A[(h * T + T - 1) * T + k];
        for (let e = 0; e < dh; e++) y[h * dh + e] += a * layer.v[k * Hkv * dh + g * dh + e];
      }
      const o = new Float32Array(D);
      gemm(y, Wo, o, { R: 1, N: D, K: H * dh });
      out[l * H + h] = Math.hypot(...o);
    }
  });
  return out;
}

function rankBy(values: ArrayLike<number>, among: number[]): number[] {
  return among.slice().sort((a, b) => values[b] - values[a] || a - b);
}

function softmaxProb(logitsRow: Float32Array, id: number): number {
  let max = -Infinity;
  for (const v of logitsRow) max = Math.max(max, v);
  let sum = 0;
  for (const v of logitsRow) sum += Math.exp(v - max);
  return Math.exp(logitsRow[id] - max) / sum;
}

/** Per-probe figures, summed per kind afterwards. */
interface ProbeFigures {
  kind: string;
  lexical: boolean;
  answered: number;
  hit: Record<TokenMethod, number>;
  contrastHit: number | null;
  proportionalHit: number;
  effectTopIsSource: number;
  agreement: Record<TokenMethod, number>;
  deletion: Record<TokenMethod, number[]>;
  masking: Record<HeadMethod, number[]>;
}

/** Token scores of every ranked method but random for the probe's answer, [T] each. */
function tokenScores(
  model: ReferenceModel,
  rec: ForwardRecord,
  p: Prepared,
  depass: ArrayLike<number>,
  igSteps: number,
  grads: Gradients,
): Record<Exclude<TokenMethod, 'random'>, ArrayLike<number>> {
  const H = model.description.num_attention_heads;
  const target = { position: p.ids.length - 1, token: p.answerId };
  return {
    depass,
    dla: directLogitAttribution(model, p.ids, target, grads.finalScale),
    'gradient-x-input': gradientTimesInput(model, p.ids, target, grads),
    'integrated-gradients': integratedGradients(model, p.ids, target, { steps: igSteps }).scores,
    rollout: attentionRollout(rec, H),
    'last-attention': lastLayerAttention(rec, H),
  };
}

export async function evaluate(
  name: string,
  model: ReferenceModel,
  tokenizer: Tokenizer,
  probes: Probe[],
  opts: EvalOptions = {},
  onProbe?: (done: number, total: number) => void,
): Promise<EvalReport> {
  const fractions = opts.deletionFractions ?? [0.1, 0.2, 0.3, 0.4, 0.5];
  const headFractions = opts.headFractions ?? [0.01, 0.05, 0.1];
  const seeds = opts.randomSeeds ?? 3;
  const igSteps = opts.igSteps ?? 32;
  const cfg = model.description;
  const H = cfg.num_attention_heads;
  const L = cfg.num_hidden_layers;
  const V = cfg.vocab_size;
  const backend = new CpuBackend(model);
  const meanRow = meanEmbedding(model);
  const headCounts = Object.fromEntries(headFractions.map((f) => [pct(f), headCount(f, L * H)]));
  const skipped: EvalReport['skipped'] = [];
  const perProbe: EvalReport['perProbe'] = [];
  const figures: ProbeFigures[] = [];

  for (const [n, probe] of probes.entries()) {
    onProbe?.(n, probes.length);
    const p = prepare(tokenizer, probe);
    if (typeof p === 'string') {
      skipped.push({ id: probe.id, reason: p });
      continue;
    }
    const kind = probe.kind;
    const T = p.ids.length;
    const input = {
      model: { name, fingerprint: '', description: cfg },
      prompt: probe.prompt,
      tokens: p.tokens,
      bosAtZero: tokenizer.bosId !== null && p.ids[0] === tokenizer.bosId,
    };
    const result = await runDepass(backend, input, { modes: ['token', 'head'], positions: [T - 1], target: p.answerId });
    const rec = backend.lastRecord;
    const baseRow = rec.logits.subarray((T - 1) * V, T * V);
    const baseProb = softmaxProb(baseRow, p.answerId);
    let argmax = 0;
    for (let v = 1; v < V; v++) if (baseRow[v] > baseRow[argmax]) argmax = v;

    // Why the answer rather than its strongest competitor: the contrast the probe is about.
    let contrastHit: boolean | null = null;
    if (p.distractorIds.length > 0) {
      const rival = p.distractorIds.reduce((a, b) => (baseRow[b] > baseRow[a] ? b : a));
      const c = await runDepass(backend, input, { modes: ['token'], positions: [T - 1], target: p.answerId, contrast: rival });
      contrastHit = p.truth.has(rankBy(c.token!.scores[0], p.candidates)[0]);
    }

    // The paper's MLP rule hands each neuron's activation to the component that dominates its gate;
    // the proportional rule shows how much of a result rests on that choice.
    const proportional = await runDepass(backend, input, { modes: ['token'], positions: [T - 1], target: p.answerId, rule: 'proportional' });
    const proportionalHit = p.truth.has(rankBy(proportional.token!.scores[0], p.candidates)[0]);

    // Rankings often agree on what to remove or mask, so each removal and masking runs once per probe.
    const deletionDrop = onceForEachSet(async (removedList) => {
      const removed = new Set(removedList);
      const fwd = await backend.forward(p.ids.filter((_, i) => !removed.has(i)));
      return (baseProb - softmaxProb(backend.lastRecord.logits.subarray((fwd.T - 1) * V, fwd.T * V), p.answerId)) / baseProb;
    });
    const answeredWithout = onceForEachSet(async (heads) => {
      const fwd = await backend.forward(p.ids, { ablation: { heads: heads.map((i) => ({ layer: Math.floor(i / H), head: i % H })) } });
      return fwd.top[T - 1][0].id === p.answerId ? 1 : 0;
    });

    // Token rankings. The gradient baselines share one float64 forward and backward pass.
    const target = { position: T - 1, token: p.answerId };
    const x = tokenEmbeddings(model, p.ids);
    const grads = targetGradients(model, x, target);
    const effects = measuredEffects(model, x, p.candidates, target, meanRow);
    const effectAt = effects.reduce((best, e, i) => (e > effects[best] ? i : best), 0);
    const effectTop = p.candidates[effectAt];
    const scores = tokenScores(model, rec, p, result.token!.scores[0], igSteps, grads);
    const rankings = {} as Record<TokenMethod, number[][]>;
    for (const m of TOKEN_METHODS) {
      rankings[m] =
        m === 'random' ? Array.from({ length: seeds }, (_, s) => shuffled(p.candidates, seeded(1000 * s + n + 1))) : [rankBy(scores[m], p.candidates)];
    }
    perProbe.push({
      id: probe.id,
      kind,
      answered: argmax === p.answerId,
      contrastHit,
      effectTop: { text: p.tokens[effectTop].text, hit: p.truth.has(effectTop), effect: effects[effectAt] },
      sourceEffect: Math.max(...p.candidates.flatMap((c, i) => (p.truth.has(c) ? [effects[i]] : []))),
      depassScore: { top: scores.depass[rankings.depass[0][0]], source: Math.max(...[...p.truth].map((i) => scores.depass[i])) },
      top: Object.fromEntries(TOKEN_METHODS.map((m) => [m, { text: p.tokens[rankings[m][0][0]].text, hit: p.truth.has(rankings[m][0][0]) }])) as Record<
        TokenMethod,
        { text: string; hit: boolean }
      >,
    });
    const fig: ProbeFigures = {
      kind,
      lexical: answerAtSource(tokenizer, probe)!,
      answered: argmax === p.answerId ? 1 : 0,
      contrastHit: contrastHit === null ? null : contrastHit ? 1 : 0,
      proportionalHit: proportionalHit ? 1 : 0,
      effectTopIsSource: p.truth.has(effectTop) ? 1 : 0,
      agreement: {} as Record<TokenMethod, number>,
      hit: {} as Record<TokenMethod, number>,
      deletion: {} as Record<TokenMethod, number[]>,
      masking: {} as Record<HeadMethod, number[]>,
    };
    for (const m of TOKEN_METHODS) {
      fig.hit[m] = rankings[m].filter((r) => p.truth.has(r[0])).length / rankings[m].length;
      fig.agreement[m] = rankings[m].filter((r) => r[0] === effectTop).length / rankings[m].length;
      fig.deletion[m] = [];
      for (const f of fractions) {
        const count = Math.max(1, Math.round(f * p.candidates.length));
        let drop = 0;
        for (const r of rankings[m]) drop += await deletionDrop(r.slice(0, count));
        fig.deletion[m].push(drop / rankings[m].length);
      }
    }

    // Head rankings over all (layer, head) pairs.
    const heads = Array.from({ length: L * H }, (_, i) => i);
    const depassHeads = new Float64Array(L * H);
    result.head!.scores[0].forEach((row, l) => row.forEach((v, h) => (depassHeads[l * H + h] = v)));
    const headRankings: Record<HeadMethod, number[][]> = {
      depass: [rankBy(depassHeads, heads)],
      'attribution-patching': [rankBy(attributionPatching(model, p.ids, target, grads), heads)],
      'head-norm': [rankBy(headOutputNorms(model, rec), heads)],
      random: Array.from({ length: seeds }, (_, s) => shuffled(heads, seeded(7000 * s + n + 1))),
    };
    for (const m of HEAD_METHODS) {
      fig.masking[m] = [];
      for (const f of headFractions) {
        const count = headCounts[pct(f)];
        let acc = 0;
        for (const r of headRankings[m]) acc += await answeredWithout(r.slice(0, count));
        fig.masking[m].push(acc / headRankings[m].length);
      }
    }
    figures.push(fig);
  }

  const kinds: Record<string, KindReport> = {};
  for (const kind of new Set(figures.map((f) => f.kind)))
    kinds[kind] = summarise(
      figures.filter((f) => f.kind === kind),
      fractions,
      headFractions,
    );
  const nonLexical = figures.filter((f) => !kinds[f.kind].lexical);
  if (nonLexical.length > 0 && nonLexical.length < figures.length) kinds['non-lexical'] = summarise(nonLexical, fractions, headFractions);
  kinds.all = summarise(figures, fractions, headFractions);
  return { model: name, probes: figures.length, skipped, headCounts, kinds, perProbe };
}

/** `f` computed once for each set of indices (the order in which they are listed does not matter). */
function onceForEachSet(f: (set: number[]) => Promise<number>): (set: number[]) => Promise<number> {
  const seen = new Map<string, number>();
  return async (set) => {
    const key = set
      .slice()
      .sort((a, b) => a - b)
      .join(',');
    let value = seen.get(key);
    if (value === undefined) {
      value = await f(set);
      seen.set(key, value);
    }
    return value;
  };
}

/** Heads zeroed for a fraction f of n heads: rounded up (1% of 16 heads is one head), at least one. */
export function headCount(f: number, n: number): number {
  // The tolerance keeps 10% of 30 heads at 3 although 0.1 * 30 = 3.0000000000000004.
  return Math.max(1, Math.ceil(f * n - 1e-9));
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

function summarise(figs: ProbeFigures[], fractions: number[], headFractions: number[]): KindReport {
  const byFraction = (fs: number[], at: (f: ProbeFigures, k: number) => number) =>
    Object.fromEntries(fs.map((fr, k) => [pct(fr), mean(figs.map((f) => at(f, k)))]));
  return {
    n: figs.length,
    lexical: figs.some((f) => f.lexical),
    accuracy: mean(figs.map((f) => f.answered)),
    topSourceHit: Object.fromEntries(TOKEN_METHODS.map((m) => [m, mean(figs.map((f) => f.hit[m]))])) as KindReport['topSourceHit'],
    topSourceHitContrast: mean(figs.map((f) => f.contrastHit).filter((x): x is number => x !== null)),
    topSourceHitProportional: mean(figs.map((f) => f.proportionalHit)),
    effectTopIsSource: mean(figs.map((f) => f.effectTopIsSource)),
    topEffectAgreement: Object.fromEntries(TOKEN_METHODS.map((m) => [m, mean(figs.map((f) => f.agreement[m]))])) as KindReport['topEffectAgreement'],
    deletion: Object.fromEntries(TOKEN_METHODS.map((m) => [m, byFraction(fractions, (f, k) => f.deletion[m][k])])) as KindReport['deletion'],
    headMasking: Object.fromEntries(HEAD_METHODS.map((m) => [m, byFraction(headFractions, (f, k) => f.masking[m][k])])) as KindReport['headMasking'],
  };
}

function pct(f: number): string {
  return `${Math.round(f * 100)}%`;
}
