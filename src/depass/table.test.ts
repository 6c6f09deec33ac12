// The tidy table of a result: for each target and mode, the rows (rest included) sum to the
// target's logit as the JSON's scores do; CSV cells are quoted and spreadsheet formulas defused.

import { describe, expect, it } from 'vitest';
import { randomModel } from '../model/testing/random-model';
import { CpuBackend } from './cpu-backend';
import { toReferenceModel } from './reference-model';
import { runDepass } from './run';
import { CSV_COLUMNS, resultRows, toCsv } from './table';

describe('result tables', async () => {
  const m = randomModel({ family: 'gpt2', seed: 61 });
  const ids = [3, 9, 27, 4, 60];
  const result = await runDepass(
    new CpuBackend(toReferenceModel(m.description, m.weights)),
    {
      model: { name: 'r', fingerprint: 'x', description: m.description },
      prompt: 'a b c d e',
      tokens: ids.map((id, i) => ({ id, text: `=t${id}`, start: 2 * i, end: 2 * i + 1 })),
      bosAtZero: false,
    },
    { modes: ['token', 'head', 'neuron', 'module'], layer: 1, neuronGroup: 50 },
  );

  it('sums each mode and target to the target logit, as the JSON does', () => {
    const rows = resultRows(result);
    for (const tg of result.targets) {
      for (const mode of ['token', 'neuron', 'module']) {
        const sum = rows.filter((r) => r.mode === mode && r.position === tg.position).reduce((s, r) => s + (r.score as number), 0);
        expect(Math.abs(sum - tg.logit), `${mode} at ${tg.position}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(tg.logit)));
      }
      // Head mode: one set of components per layer, each summing to the logit.
      for (const layer of result.head!.layers) {
        const sum = rows.filter((r) => r.mode === 'head' && r.position === tg.position && r.layer === layer).reduce((s, r) => s + (r.score as number), 0);
        expect(Math.abs(sum - tg.logit)).toBeLessThan(1e-4 * Math.max(1, Math.abs(tg.logit)));
      }
      expect(rows.filter((r) => r.mode === 'token' && r.position === tg.position)).toHaveLength(ids.length + 1);
    }
  });

  it('writes CSV with one header and a line per row, cells quoted and formulas defused', () => {
    const rows = resultRows(result, { modes: ['token'] });
    const csv = toCsv(rows);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines).toHaveLength(rows.length + 1);
    // Token texts start with '=' here: a spreadsheet must not run them.
    expect(csv).not.toMatch(/,=t/);
    expect(csv).toContain(",'=t");
    expect(toCsv([{ ...rows[0]!, token: 'a "quoted", text\nline' }]).split('\n')[1]).toContain('"a ""quoted"", text\nline"'.split('\n')[0]);
  });

  it('writes token mode per word when asked: each word row is the sum of its tokens, and the rows still sum to the logit', () => {
    const words = [
      { text: 'ab', start: 0, end: 3, tokens: [0, 1], special: false },
      { text: 'c', start: 4, end: 5, tokens: [2], special: false },
      { text: 'de', start: 6, end: 9, tokens: [3, 4], special: false },
    ];
    const rows = resultRows(result, { modes: ['token'], words });
    expect(rows.some((r) => r.mode === 'token')).toBe(false);
    result.targets.forEach((tg, i) => {
      const mine = rows.filter((r) => r.position === tg.position);
      expect(mine.map((r) => [r.component, r.component_text])).toEqual([
        ['0-1', 'ab'],
        ['2', 'c'],
        ['3-4', 'de'],
        ['rest', ''],
      ]);
      const tok = result.token!.scores[i]!;
      expect(mine[0]!.score).toBeCloseTo(tok[0]! + tok[1]!, 12);
      expect(mine[2]!.score).toBeCloseTo(tok[3]! + tok[4]!, 12);
      const sum = mine.reduce((s, r) => s + (r.score as number), 0);
      expect(Math.abs(sum - tg.logit)).toBeLessThan(1e-4 * Math.max(1, Math.abs(tg.logit)));
    });
  });
});
