// Attribution against measured token effects on a model nobody here designed (stories260K): prompts
// cut from the model's own greedy continuations, the target its own next token. Each earlier
// token's effect is the drop of the target logit when its embedding is replaced by the mean
// embedding; every method's token scores are compared with those effects (Spearman, top-1
// agreement), and a deletion curve replaces the top p% of tokens by each method the same way.

import { CpuBackend } from '../src/depass/cpu-backend';
import type { ReferenceModel } from '../src/depass/reference-model';
import { runDepass } from '../src/depass/run';
import type { Tokenizer, TokenSpan } from '../src/model/tokenizer-types';
import { directLogitAttribution, gradientTimesInput, integratedGradients } from './baselines';
import { attentionRollout, lastLayerAttention, seeded, shuffled } from './faithfulness';
import { spearman } from '../bench/stats';
import { meanEmbedding, measuredEffects, replaced } from './effects';
import { logitsOf, type Target, tapeForward, targetGradients, tokenEmbeddings } from './grad/model';

export const EFFECT_METHODS = ['depass', 'dla', 'gradient-x-input', 'integrated-gradients', 'rollout', 'last-attention', 'random'] as const;
export type EffectMethod = (typeof EFFECT_METHODS)[number];

/** Openings of the kind of story the model was trained on; each is continued greedily. */
export const STORY_OPENINGS = [
  'Once upon a time, there was a little girl named Lily.',
  'One day, a boy named Tom went to the park.',
  'There was a big dog who liked to play.',
  'Sam had a red ball. He',
  'The sun was shining and the birds were singing.',
  'Mia and her mom went to the store.',
  'Once upon a time, there was a small cat.',
  'Ben wanted to find a treasure.',
  'Lucy saw a bird in the tree.',
  'The little fish swam in the sea.',
  'Tim was sad because he lost his toy.',
  'A girl named Sue loved to draw.',
  'One day, Max found a big box.',
];

export interface EffectOptions {
  /** Tokens generated after each opening (default 40). */
  continuation?: number;
  /** Prompt lengths cut from each continued story, in tokens (default 16, 24, 32, 40). */
  cuts?: number[];
  /** At most this many prompts (default: all, 13 openings x 4 cuts = 52). */
  limit?: number;
  deletionFractions?: number[];
  randomSeeds?: number;
  igSteps?: number;
}

export interface EffectReport {
  model: string;
  prompts: number;
  /** What was measured, in words (for the printed report). */
  effect: string;
  /** Mean over prompts of Spearman's rank correlation between a method's scores and the effects. */
  spearman: Record<EffectMethod, number>;
  /** Share of prompts where a method's top token is the token with the largest effect. */
  top1Agreement: Record<EffectMethod, number>;
  /** Mean relative drop of p(target) after replacing the top-p tokens by the mean embedding: [method][p]. */
  deletion: Record<EffectMethod, Record<string, number>>;
  perPrompt: { text: string; target: string; tokens: number; topEffect: string; top: Record<EffectMethod, string> }[];
}

/** p(target token) at the target position, from a float64 forward pass of embeddings x. */
function targetProb(model: ReferenceModel, x: Float64Array, target: Target): number {
  const V = model.description.vocab_size;
  const logits = logitsOf(model, tapeForward(model, x)).subarray(target.position * V, (target.position + 1) * V);
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  return Math.exp(logits[target.token] - max) / sum;
}

/** Greedy continuation of `ids` by `n` tokens (stops early at an end-of-text token). */
async function greedy(backend: CpuBackend, tokenizer: Tokenizer, ids: number[], n: number): Promise<number[]> {
  const out = ids.slice();
  for (let i = 0; i < n; i++) {
    const fwd = await backend.forward(out);
    const next = fwd.top[out.length - 1][0].id;
    if (tokenizer.eosIds.includes(next)) break;
    out.push(next);
  }
  return out;
}

/** Token spans for ids that are not a re-encodable prompt (a generated continuation): offsets into their concatenated texts. */
function spansOf(tokenizer: Tokenizer, ids: number[]): TokenSpan[] {
  let at = 0;
  return ids.map((id) => {
    const text = tokenizer.isSpecial(id) ? '' : tokenizer.tokenText(id);
    const span = { id, text, start: at, end: at + text.length };
    at += text.length;
    return span;
  });
}

export async function evaluateTokenEffects(
  name: string,
  model: ReferenceModel,
  tokenizer: Tokenizer,
  opts: EffectOptions = {},
  onPrompt?: (done: number, total: number) => void,
): Promise<EffectReport> {
  const continuation = opts.continuation ?? 40;
  const cuts = opts.cuts ?? [16, 24, 32, 40];
  const fractions = opts.deletionFractions ?? [0.1, 0.2, 0.3, 0.4, 0.5];
  const seeds = opts.randomSeeds ?? 3;
  const igSteps = opts.igSteps ?? 32;
  const cfg = model.description;
  const H = cfg.num_attention_heads;
  const backend = new CpuBackend(model);
  const mean = meanEmbedding(model);

  // Prompts: every cut of every continued opening, in the model's own words after the opening.
  const limit = opts.limit ?? Infinity;
  const chosen: number[][] = [];
  for (const opening of STORY_OPENINGS) {
    if (chosen.length >= limit) break;
    const story = await greedy(
      backend,
      tokenizer,
      tokenizer.encode(opening).map((t) => t.id),
      continuation,
    );
    for (const c of cuts) if (c + 1 <= story.length && chosen.length < limit) chosen.push(story.slice(0, c));
  }

  const sumRho = Object.fromEntries(EFFECT_METHODS.map((m) => [m, 0])) as Record<EffectMethod, number>;
  const sumTop = Object.fromEntries(EFFECT_METHODS.map((m) => [m, 0])) as Record<EffectMethod, number>;
  const sumDrop = Object.fromEntries(EFFECT_METHODS.map((m) => [m, fractions.map(() => 0)])) as Record<EffectMethod, number[]>;
  const perPrompt: EffectReport['perPrompt'] = [];

  for (const [n, ids] of chosen.entries()) {
    onPrompt?.(n, chosen.length);
    const T = ids.length;
    const tokens = spansOf(tokenizer, ids);
    const fwd = await backend.forward(ids);
    const target: Target = { position: T - 1, token: fwd.top[T - 1][0].id };
    const rec = backend.lastRecord;
    // Earlier tokens: not special, not the last (the query position itself).
    const candidates = ids.map((_, i) => i).filter((i) => i < T - 1 && !tokenizer.isSpecial(ids[i]));
    const x = tokenEmbeddings(model, ids);
    const effect = measuredEffects(model, x, candidates, target, mean);

    const result = await runDepass(
      backend,
      {
        model: { name, fingerprint: '', description: cfg },
        prompt: tokens.map((t) => t.text).join(''),
        tokens,
        bosAtZero: tokenizer.bosId !== null && ids[0] === tokenizer.bosId,
      },
      { modes: ['token'], positions: [T - 1], target: target.token },
    );
    const grads = targetGradients(model, x, target);
    const full: Record<Exclude<EffectMethod, 'random'>, ArrayLike<number>> = {
      depass: result.token!.scores[0],
      dla: directLogitAttribution(model, ids, target, grads.finalScale),
      'gradient-x-input': gradientTimesInput(model, ids, target, grads),
      'integrated-gradients': integratedGradients(model, ids, target, { steps: igSteps }).scores,
      rollout: attentionRollout(rec, H),
      'last-attention': lastLayerAttention(rec, H),
    };
    const topEffect = candidates[argmax(effect)];
    const top = {} as Record<EffectMethod, string>;
    const p0 = targetProb(model, x, target);
    for (const m of EFFECT_METHODS) {
      // Random: several seeded orders, scored as decreasing ranks.
      const scoreSets: number[][] =
        m === 'random'
          ? Array.from({ length: seeds }, (_, s) => {
              const order = shuffled(candidates, seeded(3000 * s + n + 1));
              return candidates.map((c) => candidates.length - order.indexOf(c));
            })
          : [candidates.map((c) => full[m][c])];
      for (const sc of scoreSets) {
        sumRho[m] += spearman(sc, effect) / scoreSets.length;
        sumTop[m] += (candidates[argmax(sc)] === topEffect ? 1 : 0) / scoreSets.length;
        const ranked = candidates.slice().sort((a, b) => sc[candidates.indexOf(b)] - sc[candidates.indexOf(a)] || a - b);
        fractions.forEach((f, k) => {
          const count = Math.max(1, Math.round(f * candidates.length));
          sumDrop[m][k] += (p0 - targetProb(model, replaced(x, ranked.slice(0, count), mean), target)) / p0 / scoreSets.length;
        });
      }
      top[m] = tokens[candidates[argmax(scoreSets[0])]].text;
    }
    perPrompt.push({ text: tokenizer.decode(ids), target: tokenizer.tokenText(target.token), tokens: T, topEffect: tokens[topEffect].text, top });
  }
  const N = chosen.length;
  const pct = (f: number) => `${Math.round(f * 100)}%`;
  return {
    model: name,
    prompts: N,
    effect: 'drop of the target logit when the token embedding is replaced by the mean embedding',
    spearman: Object.fromEntries(EFFECT_METHODS.map((m) => [m, sumRho[m] / N])) as EffectReport['spearman'],
    top1Agreement: Object.fromEntries(EFFECT_METHODS.map((m) => [m, sumTop[m] / N])) as EffectReport['top1Agreement'],
    deletion: Object.fromEntries(
      EFFECT_METHODS.map((m) => [m, Object.fromEntries(fractions.map((f, k) => [pct(f), sumDrop[m][k] / N]))]),
    ) as EffectReport['deletion'],
    perPrompt,
  };
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}
