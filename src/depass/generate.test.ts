// Generation: greedy steps checked against the argmax of the reference engine's full logits row
// (not its top-five list), sampling checked against softmax frequencies, the seed, the stop
// tokens, the model's length and the one-line refusals of bad options.

import { describe, expect, it } from 'vitest';
import { randomModel } from '../model/testing/random-model';
import { CpuBackend } from './cpu-backend';
import { generateIds, pickNext, sampler } from './generate';
import { toReferenceModel } from './reference-model';

const IDS = [3, 17, 5, 40];

function backend(): CpuBackend {
  const m = randomModel({ family: 'llama', seed: 21 });
  return new CpuBackend(toReferenceModel(m.description, m.weights));
}

const argmax = (row: ArrayLike<number>) => {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
  return best;
};

describe('generateIds', () => {
  it('greedy: each token is the argmax of the logits after the text so far', async () => {
    const cpu = backend();
    const g = await generateIds(cpu, IDS, { n: 5, temperature: 0, seed: 0, stop: [], maxTokens: 64 });
    expect(g).toMatchObject({ stopped: 'count' });
    expect(g.ids).toHaveLength(5);
    const V = cpu.lastRecord.logits.length / (IDS.length + 4);
    for (let k = 0; k < 5; k++) {
      const text = [...IDS, ...g.ids.slice(0, k)];
      await cpu.forward(text);
      const T = text.length;
      expect(g.ids[k], `step ${k}`).toBe(argmax(cpu.lastRecord.logits.subarray((T - 1) * V, T * V)));
    }
  });

  it('stops at an end-of-sequence token (not appended) and at the model length', async () => {
    const cpu = backend();
    const greedy = await generateIds(cpu, IDS, { n: 3, temperature: 0, seed: 0, stop: [], maxTokens: 64 });
    expect(await generateIds(cpu, IDS, { n: 3, temperature: 0, seed: 0, stop: [greedy.ids[1]!], maxTokens: 64 })).toEqual({
      ids: greedy.ids.slice(0, 1),
      stopped: 'stop',
    });
    expect(await generateIds(cpu, IDS, { n: 3, temperature: 0, seed: 0, stop: [], maxTokens: IDS.length + 2 })).toEqual({
      ids: greedy.ids.slice(0, 2),
      stopped: 'length',
    });
  });

  it('samples the same tokens from the same seed', async () => {
    const cpu = backend();
    const o = { n: 6, temperature: 2, stop: [], maxTokens: 64 };
    const a = await generateIds(cpu, IDS, { ...o, seed: 7 });
    expect(await generateIds(cpu, IDS, { ...o, seed: 7 })).toEqual(a);
    const others = await Promise.all([1, 2, 3, 4].map(async (seed) => (await generateIds(cpu, IDS, { ...o, seed })).ids.join()));
    expect(others.some((ids) => ids !== a.ids.join())).toBe(true);
  });

  it('refuses bad options in one line naming them', async () => {
    const cpu = backend();
    const o = { n: 2, temperature: 0, seed: 0, stop: [], maxTokens: 64 };
    await expect(generateIds(cpu, IDS, { ...o, n: 0 })).rejects.toThrow(/number of tokens to generate must be 1 to 64, not 0/);
    await expect(generateIds(cpu, IDS, { ...o, temperature: -1 })).rejects.toThrow(/temperature must be 0 to 10, not -1/);
    await expect(generateIds(cpu, IDS, { ...o, seed: 1.5 })).rejects.toThrow(/seed must be an integer/);
    await expect(generateIds(cpu, [], o)).rejects.toThrow(/no tokens/);
  });
});

describe('pickNext', () => {
  const top = [
    { id: 9, logit: 2 },
    { id: 4, logit: 1 },
    { id: 6, logit: 0 },
  ];

  it('takes the first entry at temperature 0', () => {
    expect(pickNext(top, 0, () => 0.99)).toBe(9);
  });

  it('draws in proportion to exp(logit / temperature)', () => {
    const uniform = sampler(123);
    const n = 30_000;
    const counts = new Map<number, number>();
    for (let k = 0; k < n; k++) {
      const id = pickNext(top, 0.5, uniform);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    // exp(4), exp(2), exp(0) normalised.
    const z = Math.exp(4) + Math.exp(2) + 1;
    for (const [id, p] of [
      [9, Math.exp(4) / z],
      [4, Math.exp(2) / z],
      [6, 1 / z],
    ] as const) {
      const sd = Math.sqrt((p * (1 - p)) / n);
      expect(Math.abs((counts.get(id) ?? 0) / n - p), `token ${id}`).toBeLessThan(5 * sd);
    }
  });
});
