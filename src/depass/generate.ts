// Continuing a prompt before explaining it: n tokens appended one forward pass at a time, greedily
// (temperature 0) or sampled with a temperature from the five most likely next tokens the forward
// pass reports (top-k sampling, k = 5), reproducibly from a seed. Backend-independent.

import type { AttributionBackend } from './backend';
import type { TopEntry } from './result';
import { RunInputError } from './run';

export interface GenerateOptions {
  /** Tokens to add at most. */
  n: number;
  /** 0: the most likely token each step; above 0: sampled, softmax(logit / temperature) over the top five. */
  temperature: number;
  /** Seed of the sampler (ignored when greedy). */
  seed: number;
  /** Ids that end the text (end of sequence); never appended. */
  stop: readonly number[];
  /** Most tokens the model reads: the text is not grown past it. */
  maxTokens: number;
  signal?: AbortSignal;
}

export interface Generated {
  /** The ids appended, in order. */
  ids: number[];
  /** Why it ended: n tokens, an end-of-sequence token, or the model's length. */
  stopped: 'count' | 'stop' | 'length';
}

/** The most tokens one request may ask for (each is one forward pass). */
export const MAX_GENERATE = 64;
export const MAX_TEMPERATURE = 10;

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function sampler(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The next token from a position's top entries: the first (greedy), or one drawn by softmax(logit / temperature). */
export function pickNext(top: readonly TopEntry[], temperature: number, uniform: () => number): number {
  if (top.length === 0) throw new RunInputError('the forward pass reported no next token');
  if (temperature <= 0) return top[0]!.id;
  const max = Math.max(...top.map((e) => e.logit));
  const weights = top.map((e) => Math.exp((e.logit - max) / temperature));
  const total = weights.reduce((a, w) => a + w, 0);
  let u = uniform() * total;
  for (let k = 0; k < top.length; k++) {
    u -= weights[k]!;
    if (u < 0) return top[k]!.id;
  }
  return top[top.length - 1]!.id;
}

export function checkGenerateOptions(o: Pick<GenerateOptions, 'n' | 'temperature' | 'seed'>): void {
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > MAX_GENERATE)
    throw new RunInputError(`the number of tokens to generate must be 1 to ${MAX_GENERATE}, not ${o.n}`);
  if (!Number.isFinite(o.temperature) || o.temperature < 0 || o.temperature > MAX_TEMPERATURE)
    throw new RunInputError(`the temperature must be 0 to ${MAX_TEMPERATURE}, not ${o.temperature}`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new RunInputError(`the seed must be an integer 0 to ${0xffffffff}, not ${o.seed}`);
}

/** Appends up to n tokens to `ids`, one forward pass each (the backend's record is the last pass's). */
export async function generateIds(backend: AttributionBackend, ids: readonly number[], o: GenerateOptions): Promise<Generated> {
  checkGenerateOptions(o);
  if (ids.length === 0) throw new RunInputError('the prompt has no tokens to continue');
  const uniform = sampler(o.seed);
  const text = [...ids];
  const out: number[] = [];
  while (out.length < o.n) {
    if (text.length >= o.maxTokens) return { ids: out, stopped: 'length' };
    if (o.signal?.aborted) throw new DOMException('Generation cancelled', 'AbortError');
    const fwd = await backend.forward(text);
    const next = pickNext(fwd.top[text.length - 1]!, o.temperature, uniform);
    if (o.stop.includes(next)) return { ids: out, stopped: 'stop' };
    text.push(next);
    out.push(next);
  }
  return { ids: out, stopped: 'count' };
}
