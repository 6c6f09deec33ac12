// Faithfulness of DePass attributions on probes with known answers and known source tokens:
// (1) how often the top-scored source token is a ground-truth source, (2) a deletion curve
// (remove the top-p% tokens by each ranking, measure the drop of the target probability) and
// (3) head masking (zero the top heads by each ranking, measure task accuracy). Baselines:
// attention rollout, last-layer attention, head-output norm, random. Runs on the reference engine.

import { CpuBackend } from '../src/depass/cpu-backend';
import { gemm } from '../src/depass/gemm';
import type { CpuForwardRecord as ForwardRecord } from '../src/depass/forward';
import type { ReferenceModel } from '../src/depass/reference-model';
import { runDepass } from '../src/depass/run';
import type { Tokenizer, TokenSpan } from '../src/model/tokenizer-types';

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
}

export type TokenMethod = 'depass' | 'rollout' | 'last-attention' | 'random';
export type HeadMethod = 'depass' | 'head-norm' | 'random';

export interface EvalReport {
  model: string;
  probes: number;
  skipped: { id: string; reason: string }[];
  /** Model accuracy on the probes (argmax at the last position is the answer). */
  accuracy: Record<string, number>;
  /** Share of probes whose top-ranked source token overlaps a ground-truth source, per method and kind. */
  topSourceHit: Record<TokenMethod, Record<string, number>>;
  /** The same for DePass explaining logit(answer) - logit(strongest distractor), per kind. */
  topSourceHitContrast: Record<string, number>;
  /** Mean relative drop of the target probability after deleting the top-p tokens: [method][p]. */
  deletion: Record<TokenMethod, Record<string, number>>;
  /** Task accuracy after zeroing the top-p heads: [method][p], with the head count in headCounts. */
  headMasking: Record<HeadMethod, Record<string, number>>;
  headCounts: Record<string, number>;
  /** Per probe: whether the model answered it, and each method's top-ranked token (first random seed). */
  perProbe: { id: string; kind: string; answered: boolean; contrastHit: boolean | null; top: Record<TokenMethod, { text: string; hit: boolean }> }[];
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

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(xs: T[], rnd: () => number): T[] {
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
  const cfg = model.description;
  const H = cfg.num_attention_heads;
  const L = cfg.num_hidden_layers;
  const V = cfg.vocab_size;
  const backend = new CpuBackend(model);
  const tokenMethods: TokenMethod[] = ['depass', 'rollout', 'last-attention', 'random'];
  const headMethods: HeadMethod[] = ['depass', 'head-norm', 'random'];
  const headCounts = Object.fromEntries(headFractions.map((f) => [pct(f), Math.max(1, Math.round(f * L * H))]));

  const kinds = new Map<string, number>();
  const correct = new Map<string, number>();
  const contrastHits = new Map<string, number>();
  const contrastKinds = new Map<string, number>();
  const hits = Object.fromEntries(tokenMethods.map((m) => [m, new Map<string, number>()])) as Record<TokenMethod, Map<string, number>>;
  const drops = Object.fromEntries(tokenMethods.map((m) => [m, fractions.map(() => 0)])) as Record<TokenMethod, number[]>;
  const masked = Object.fromEntries(headMethods.map((m) => [m, headFractions.map(() => 0)])) as Record<HeadMethod, number[]>;
  const skipped: EvalReport['skipped'] = [];
  const perProbe: EvalReport['perProbe'] = [];
  let used = 0;

  for (const [n, probe] of probes.entries()) {
    onProbe?.(n, probes.length);
    const p = prepare(tokenizer, probe);
    if (typeof p === 'string') {
      skipped.push({ id: probe.id, reason: p });
      continue;
    }
    used++;
    const kind = probe.kind;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
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
    if (argmax === p.answerId) correct.set(kind, (correct.get(kind) ?? 0) + 1);

    // Why the answer rather than its strongest competitor: the contrast the probe is about.
    let contrastHit: boolean | null = null;
    if (p.distractorIds.length > 0) {
      const rival = p.distractorIds.reduce((a, b) => (baseRow[b] > baseRow[a] ? b : a));
      const c = await runDepass(backend, input, { modes: ['token'], positions: [T - 1], target: p.answerId, contrast: rival });
      contrastHit = p.truth.has(rankBy(c.token!.scores[0], p.candidates)[0]);
      contrastKinds.set(kind, (contrastKinds.get(kind) ?? 0) + 1);
      if (contrastHit) contrastHits.set(kind, (contrastHits.get(kind) ?? 0) + 1);
    }

    // Token rankings.
    const rankings: Record<TokenMethod, number[][]> = {
      depass: [rankBy(result.token!.scores[0], p.candidates)],
      rollout: [rankBy(attentionRollout(rec, H), p.candidates)],
      'last-attention': [rankBy(lastLayerAttention(rec, H), p.candidates)],
      random: Array.from({ length: seeds }, (_, s) => shuffled(p.candidates, seeded(1000 * s + n + 1))),
    };
    perProbe.push({
      id: probe.id,
      kind,
      answered: argmax === p.answerId,
      contrastHit,
      top: Object.fromEntries(tokenMethods.map((m) => [m, { text: p.tokens[rankings[m][0][0]].text, hit: p.truth.has(rankings[m][0][0]) }])) as Record<
        TokenMethod,
        { text: string; hit: boolean }
      >,
    });
    for (const m of tokenMethods) {
      const hitShare = rankings[m].filter((r) => p.truth.has(r[0])).length / rankings[m].length;
      hits[m].set(kind, (hits[m].get(kind) ?? 0) + hitShare);
      for (const [k, f] of fractions.entries()) {
        const count = Math.max(1, Math.round(f * p.candidates.length));
        let drop = 0;
        for (const r of rankings[m]) {
          const removed = new Set(r.slice(0, count));
          const kept = p.ids.filter((_, i) => !removed.has(i));
          const fwd = await backend.forward(kept);
          const row = backend.lastRecord.logits.subarray((fwd.T - 1) * V, fwd.T * V);
          drop += (baseProb - softmaxProb(row, p.answerId)) / baseProb;
        }
        drops[m][k] += drop / rankings[m].length;
      }
    }

    // Head rankings over all (layer, head) pairs.
    const heads = Array.from({ length: L * H }, (_, i) => i);
    const depassHeads = new Float64Array(L * H);
    result.head!.scores[0].forEach((row, l) => row.forEach((v, h) => (depassHeads[l * H + h] = v)));
    const norms = headOutputNorms(model, rec);
    const headRankings: Record<HeadMethod, number[][]> = {
      depass: [rankBy(depassHeads, heads)],
      'head-norm': [rankBy(norms, heads)],
      random: Array.from({ length: seeds }, (_, s) => shuffled(heads, seeded(7000 * s + n + 1))),
    };
    for (const m of headMethods) {
      for (const [k, f] of headFractions.entries()) {
        const count = headCounts[pct(f)];
        let acc = 0;
        for (const r of headRankings[m]) {
          const zero = r.slice(0, count).map((i) => ({ layer: Math.floor(i / H), head: i % H }));
          const fwd = await backend.forward(p.ids, { ablation: { heads: zero } });
          acc += fwd.top[T - 1][0].id === p.answerId ? 1 : 0;
        }
        masked[m][k] += acc / headRankings[m].length;
      }
    }
  }

  const perKind = (m: Map<string, number>) => perKindOf(m, kinds);
  const byFraction = (xs: number[], fs: number[]) => Object.fromEntries(fs.map((f, k) => [pct(f), used ? xs[k] / used : 0]));
  return {
    model: name,
    probes: used,
    skipped,
    accuracy: perKind(correct),
    topSourceHitContrast: perKindOf(contrastHits, contrastKinds),
    topSourceHit: Object.fromEntries(tokenMethods.map((m) => [m, perKind(hits[m])])) as EvalReport['topSourceHit'],
    deletion: Object.fromEntries(tokenMethods.map((m) => [m, byFraction(drops[m], fractions)])) as EvalReport['deletion'],
    headMasking: Object.fromEntries(headMethods.map((m) => [m, byFraction(masked[m], headFractions)])) as EvalReport['headMasking'],
    headCounts,
    perProbe,
  };
}

/** Share per kind, and over all, of the counts in `m` against the totals in `kinds`. */
function perKindOf(m: Map<string, number>, kinds: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  let n = 0;
  for (const [kind, k] of kinds) {
    out[kind] = (m.get(kind) ?? 0) / k;
    total += m.get(kind) ?? 0;
    n += k;
  }
  out.all = n ? total / n : 0;
  return out;
}

function pct(f: number): string {
  return `${Math.round(f * 100)}%`;
}
