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
});
