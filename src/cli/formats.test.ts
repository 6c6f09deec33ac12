// `depass --format csv|html` as a user runs it on the bundled demo model. CSV: the table's rows are
// the JSON result's scores, one for one, and a mode's rows for a target add up to its logit (read
// back by src/testing/csv.ts, written from RFC 4180).
// HTML: the report holds the run a link of it would (same tokens, targets, scores within the
// link's 8-bit rows) and the viewer's policy.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DepassResult } from '../depass/result';
import { decodeRun } from '../share/permalink/decode';
import { readReport } from '../share/report';
import { parseCsv } from '../testing/csv';
import { skipWithoutFiles } from '../testing/requirements';

const root = process.cwd();
const demo = resolve(root, 'public/models/demo-llama');
const noDemo = skipWithoutFiles(resolve(demo, 'config.json'));

function depass(args: string[]) {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/depass.mjs'), ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(noDemo)('depass --format csv and html', () => {
  const args = ['--model', demo, '--prompt', 'the cat sat on the mat', '--modes', 'token,head', '--backend', 'cpu'];

  it('writes the JSON result as rows that add up to each logit', () => {
    const json = depass(args);
    const csv = depass([...args, '--format', 'csv']);
    expect(json.code, json.stderr).toBe(0);
    expect(csv.code, csv.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as DepassResult;
    const [header, ...body] = parseCsv(csv.stdout);
    expect(header).toEqual(['position', 'token', 'target', 'target_text', 'contrast', 'mode', 'layer', 'component', 'component_text', 'score', 'share']);
    const rows = body.map((cells) => Object.fromEntries(header!.map((h, k) => [h, cells[k]!])));
    const T = result.tokens.length;
    const L = result.head!.layers.length;
    const H = result.head!.scores[0]![0]!.length;
    // A row per source token plus rest, and per (layer, head) plus a rest per layer, for each target.
    expect(rows).toHaveLength(result.targets.length * (T + 1 + L * (H + 1)));

    result.targets.forEach((tg, i) => {
      const mine = rows.filter((r) => Number(r.position) === tg.position);
      expect(mine.every((r) => Number(r.target) === tg.id && r.token === result.tokens[tg.position]!.text)).toBe(true);
      const tokenRows = mine.filter((r) => r.mode === 'token');
      tokenRows.forEach((r) => {
        const want = r.component === 'rest' ? result.token!.rest[i]! : result.token!.scores[i]![Number(r.component)]!;
        expect(Number(r.score)).toBe(want);
        expect(Number(r.share)).toBeCloseTo(want / tg.logit, 12);
      });
      const sum = tokenRows.reduce((a, r) => a + Number(r.score), 0);
      expect(Math.abs(sum - tg.logit)).toBeLessThan(1e-4 * Math.abs(tg.logit) + 1e-5);
      for (const [k, layer] of result.head!.layers.entries()) {
        const layerRows = mine.filter((r) => r.mode === 'head' && Number(r.layer) === layer);
        expect(layerRows).toHaveLength(H + 1);
        layerRows.forEach((r) => {
          const want = r.component === 'rest' ? result.head!.rest[i]![k]! : result.head!.scores[i]![k]![Number(r.component)]!;
          expect(Number(r.score)).toBe(want);
        });
        const layerSum = layerRows.reduce((a, r) => a + Number(r.score), 0);
        expect(Math.abs(layerSum - tg.logit)).toBeLessThan(1e-4 * Math.abs(tg.logit) + 1e-5);
      }
    });
  });

  it('writes a report that holds the run', () => {
    const json = depass(args);
    const html = depass([...args, '--format', 'html']);
    expect(html.code, html.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as DepassResult;
    expect(html.stdout).toMatch(/^<!doctype html>/i);
    expect(html.stdout).toContain("connect-src 'none'");
    const block = /<script type="application\/json" id="depass-run">([^<]*)<\/script>/.exec(html.stdout)?.[1];
    const run = decodeRun(readReport(block).fragment);
    expect(run.result.tokens).toEqual(result.tokens);
    expect(run.result.targets.map((t) => [t.position, t.id])).toEqual(result.targets.map((t) => [t.position, t.id]));
    result.targets.forEach((t, i) => {
      const row = result.token!.scores[i]!;
      const scale = Math.max(...row.map(Math.abs));
      row.forEach((v, s) => expect(Math.abs(run.result.token!.scores[i]![s]! - v)).toBeLessThanOrEqual(scale / 254 + 1e-6));
      expect(Math.abs(run.result.targets[i]!.logit - t.logit)).toBeLessThanOrEqual(5e-4);
    });
  });

  it('refuses a format it does not write, and CSV for a batch, in one line', () => {
    const bad = depass([...args, '--format', 'xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain("'xml'");
    const batch = depass(['--model', demo, '--prompts', 'requests.jsonl', '--out', 'x.jsonl', '--format', 'csv']);
    expect(batch.code).toBe(2);
    expect(batch.stderr).toMatch(/JSONL/);
  });

  it('writes the whole report to a pipe whose reader is slow', () => {
    // A pipe takes 64 KiB at once; the rest must not be lost when the command exits.
    const dir = mkdtempSync(join(tmpdir(), 'depass-pipe-'));
    const file = join(dir, 'report.html');
    const cmd = [process.execPath, resolve(root, 'bin/depass.mjs'), ...args, '--format', 'html'].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('sh', ['-c', `${cmd} 2>/dev/null | (sleep 1; cat > '${file}')`], { timeout: 300_000 });
    expect(r.status).toBe(0);
    const piped = readFileSync(file, 'utf8');
    expect(piped.length).toBeGreaterThan(65_536);
    expect(piped.trimEnd()).toMatch(/<\/html>$/i);
    rmSync(dir, { recursive: true, force: true });
  });
});
