// `depass --prompts` as a job runner uses it, on the bundled demo model (CPU backend, so every
// process computes the same numbers): 100 requests in 4 shards give the same results as one
// process; a job killed mid-way, or an output cut in the middle of a line, resumes without redoing
// the lines already written; malformed lines are reported with their number and skipped.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWithoutFiles } from '../testing/requirements';

const root = process.cwd();
const demo = resolve(root, 'public/models/demo-llama');
const noDemo = skipWithoutFiles(resolve(demo, 'config.json'));
const dir = mkdtempSync(join(tmpdir(), 'depass-prompts-'));
const N = 100;

const WORDS = ['the', 'little', 'girl', 'saw', 'a', 'big', 'dog', 'in', 'park', 'and', 'she', 'was', 'happy', 'one', 'day', 'ball'];

/** 100 requests: mostly token mode, some with heads, modules, a fixed target, a contrast, positions; half without an id. */
function requests(): string[] {
  return Array.from({ length: N }, (_, i) => {
    const words = Array.from({ length: 3 + (i % 6) }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]);
    const r: Record<string, unknown> = { prompt: words.join(' ') };
    if (i % 2 === 0) r.id = `req-${i}`;
    if (i % 10 === 3) r.modes = ['token', 'head'];
    if (i % 10 === 5) r.modes = 'token,module';
    if (i % 10 === 7) r.target = 17;
    if (i % 10 === 8) Object.assign(r, { target: 17, contrast: 40 });
    if (i % 10 === 9) r.positions = 'last';
    return JSON.stringify(r);
  });
}

const promptsFile = join(dir, 'prompts.jsonl');
writeFileSync(promptsFile, requests().join('\n') + '\n');

function depass(args: string[]) {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/depass.mjs'), '--model', demo, '--backend', 'cpu', ...args], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Line = { id: string; engine?: { elapsed_ms?: number }; targets: { id: number; contrast_id: number | null }[] } & Record<string, unknown>;

/** Results by id, without the timing (the one field that differs between runs). */
function byId(path: string): Map<string, Line> {
  const out = new Map<string, Line>();
  for (const text of readFileSync(path, 'utf8').split('\n')) {
    if (text === '') continue;
    const line = JSON.parse(text) as Line;
    if (line.engine) delete line.engine.elapsed_ms;
    expect(out.has(line.id), `id ${line.id} written twice`).toBe(false);
    out.set(line.id, line);
  }
  return out;
}

const ids = () => requests().map((t, i) => (JSON.parse(t) as { id?: string }).id ?? String(i + 1));

describe.skipIf(noDemo)('depass --prompts', () => {
  let reference: Map<string, Line>;

  it('runs 100 requests in one process, one result per line with its id', () => {
    const out = join(dir, 'all.jsonl');
    const r = depass(['--prompts', promptsFile, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/depass: 100\/100 done · .* each\n$/);
    reference = byId(out);
    expect([...reference.keys()].sort()).toEqual(ids().sort());
    const r3 = reference.get('4')!; // line 4: token and head modes
    expect(r3.format).toBe('depass-result/1');
    expect(r3).toHaveProperty('head');
    expect(reference.get('req-8')!.targets[0]).toMatchObject({ id: 17, contrast_id: 40 });
    expect(reference.get('10')!.targets).toHaveLength(1); // positions: last
  });

  it('gives the same results in 4 shards, each taking every 4th request', () => {
    const parts = [1, 2, 3, 4].map((k) => {
      const out = join(dir, `shard-${k}.jsonl`);
      const r = depass(['--prompts', promptsFile, '--out', out, '--shard', `${k}/4`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`depass: 25/25 done \\(shard ${k}/4\\)`));
      return byId(out);
    });
    const all = ids();
    parts.forEach((part, s) => expect([...part.keys()]).toEqual(all.filter((_, i) => i % 4 === s)));
    const merged = new Map(parts.flatMap((p) => [...p]));
    expect(merged.size).toBe(N);
    for (const [id, line] of reference) expect(merged.get(id), id).toEqual(line);
  });

  it('resumes a killed job without redoing the lines it wrote', async () => {
    const out = join(dir, 'killed.jsonl');
    const child = spawn(process.execPath, [resolve(root, 'bin/depass.mjs'), '--model', demo, '--backend', 'cpu', '--prompts', promptsFile, '--out', out], {
      stdio: 'ignore',
    });
    // Killed (no chance to clean up) once a dozen results are out.
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        let lines = 0;
        try {
          lines = readFileSync(out, 'utf8').split('\n').length - 1;
        } catch {
          // Not created yet.
        }
        if (lines >= 12 || child.exitCode !== null) {
          clearInterval(timer);
          child.kill('SIGKILL');
          done();
        }
      }, 20);
    });
    await new Promise((r) => child.once('close', r));
    const before = readFileSync(out, 'utf8');
    const complete = before.slice(0, before.lastIndexOf('\n') + 1);
    const kept = complete.split('\n').length - 1;
    expect(kept).toBeGreaterThanOrEqual(12);
    expect(kept).toBeLessThan(N);

    const r = depass(['--prompts', promptsFile, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${kept} from before`);
    expect(r.stderr).toMatch(new RegExp(`depass: 100/100 done · ${kept} from before`));
    const after = readFileSync(out, 'utf8');
    // The lines written before the kill are still there, byte for byte, and were not written again.
    expect(after.startsWith(complete)).toBe(true);
    expect(after.split('\n').length - 1).toBe(N);
    const got = byId(out);
    for (const [id, line] of reference) expect(got.get(id), id).toEqual(line);
  });

  it('resumes an output cut in the middle of a line, redoing that line only', () => {
    const out = join(dir, 'cut.jsonl');
    writeFileSync(out, readFileSync(join(dir, 'all.jsonl')));
    const text = readFileSync(out, 'utf8');
    // Keep 40 whole lines and half of the 41st.
    let at = 0;
    for (let i = 0; i < 40; i++) at = text.indexOf('\n', at) + 1;
    const half = at + Math.floor((text.indexOf('\n', at) - at) / 2);
    truncateSync(out, half);
    const r = depass(['--prompts', promptsFile, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dropped an unfinished last line of .*cut\.jsonl \(\d+ bytes\); that request runs again/);
    expect(r.stderr).toMatch(/100\/100 done · 40 from before/);
    expect(readFileSync(out, 'utf8').startsWith(text.slice(0, at))).toBe(true);
    expect(statSync(out).size).toBeGreaterThan(half);
    const got = byId(out);
    expect(got.size).toBe(N);
    for (const [id, line] of reference) expect(got.get(id), id).toEqual(line);
  });

  it('reports a malformed line with its number and goes on; refuses flags that do not fit together', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(
      bad,
      ['{"prompt":"the dog"}', '{"prompt":', '', '{"prompt":"a b","modes":["heads"]}', '{"prompt":"a","positions":[0,9]}', '{"prompt":"the girl"}'].join('\n'),
    );
    const out = join(dir, 'bad-out.jsonl');
    const r = depass(['--prompts', bad, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('bad.jsonl line 2: not valid JSON; skipped');
    expect(r.stderr).toContain('bad.jsonl line 4: unknown mode "heads" (choose from token, head, neuron, module, subspace); skipped');
    expect(r.stderr).toMatch(/bad\.jsonl line 5 \(id 5\): position 9 is out of range: the prompt has \d tokens .*; skipped/);
    expect([...byId(out).keys()]).toEqual(['1', '6']);

    for (const [args, message] of [
      [['--prompts', bad], /--prompts needs --out FILE/],
      [['--prompts', bad, '--out', out, '--prompt', 'x'], /give --prompt or --prompts, not both/],
      [['--prompts', bad, '--out', out, '--shard', '5/4'], /--shard expects k\/n with 1 ≤ k ≤ n/],
      [['--prompt', 'x', '--shard', '1/2'], /--shard goes with --prompts/],
      [['--prompts', join(dir, 'nope.jsonl'), '--out', out], /cannot read the prompts file/],
    ] as [string[], RegExp][]) {
      const e = depass(args);
      expect(e.code).toBe(2);
      expect(e.stderr.trim().split('\n')).toHaveLength(1);
      expect(e.stderr).toMatch(message);
    }
  });
});
