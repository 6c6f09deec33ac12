// The `depass` command as a user runs it: a valid result on stories260K, the same JSON from the
// WebGPU and CPU backends within the engine tolerances, and one-line errors with exit code 2 (on
// the bundled demo model, so the refusals need nothing outside the repository).

import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DepassResult } from '../depass/result';
import { skipWithoutGpu, testGpu } from '../gpu/testing/gpu-env';
import { SHARED, skipWithoutFiles } from '../testing/requirements';

const root = process.cwd();
const stories = resolve(SHARED, 'models/stories260K');
const noStories = skipWithoutFiles(resolve(stories, 'config.json'));
const demo = resolve(root, 'public/models/demo-llama'); // 4 layers
const noDemo = skipWithoutFiles(resolve(demo, 'config.json'));

function depass(args: string[]) {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/depass.mjs'), ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function flat(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : typeof x === 'number' ? [x] : [];
}

describe.skipIf(noStories)('depass on stories260K', () => {
  it('prints a valid result whose scores sum to each logit', () => {
    const r = depass(['--model', stories, '--prompt', 'Once upon a time', '--modes', 'token,head', '--backend', 'cpu']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as DepassResult;
    expect(out.format).toBe('depass-result/1');
    expect(out.tokens.map((t) => t.id)).toEqual([1, 403, 407, 261, 378]); // golden encoding
    out.targets.forEach((tg, i) => {
      const sum = out.token!.scores[i].reduce((a, b) => a + b, 0) + out.token!.rest[i];
      expect(Math.abs(sum - tg.logit)).toBeLessThan(1e-4 * Math.abs(tg.logit));
    });
    expect(out.head!.scores[0]).toHaveLength(5);
  });

  it('--head-map one-pass gives the per-layer map under the proportional rule', () => {
    const args = ['--model', stories, '--prompt', 'Once upon a time', '--modes', 'head', '--rule', 'proportional', '--positions', 'last', '--backend', 'cpu'];
    const per = JSON.parse(depass(args).stdout) as DepassResult;
    const r = depass([...args, '--head-map', 'one-pass']);
    expect(r.code, r.stderr).toBe(0);
    const one = JSON.parse(r.stdout) as DepassResult;
    expect(one.head!.form).toBe('one-pass');
    const a = flat(one.head!.scores);
    const b = flat(per.head!.scores);
    const scale = Math.max(...b.map(Math.abs));
    expect(a.length).toBe(b.length);
    a.forEach((v, k) => expect(Math.abs(v - b[k]), `head score ${k}`).toBeLessThan(1e-4 * scale));
  });
});

// The GPU this process finds is the one the CLI's own process finds: same driver environment.
const gpu = await testGpu();
describe.skipIf(noStories || skipWithoutGpu(gpu))('depass on stories260K, WebGPU against CPU', () => {
  it('gives the same JSON from the WebGPU and the CPU backends', () => {
    const args = ['--model', stories, '--prompt', 'Once upon a time, there was', '--modes', 'token,head,neuron,module'];
    const gpu = depass([...args, '--backend', 'webgpu']);
    const cpu = depass([...args, '--backend', 'cpu']);
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(cpu.code).toBe(0);
    const g = JSON.parse(gpu.stdout) as DepassResult;
    const c = JSON.parse(cpu.stdout) as DepassResult;
    expect(g.engine!.backend).toBe('webgpu');
    expect(g.tokens).toEqual(c.tokens);
    expect(g.targets.map((t) => t.id)).toEqual(c.targets.map((t) => t.id));
    g.targets.forEach((t, i) => expect(Math.abs(t.logit - c.targets[i].logit)).toBeLessThan(1e-4 * Math.abs(c.targets[i].logit) + 1e-5));
    for (const mode of ['token', 'head', 'neuron', 'module'] as const) {
      const a = flat(g[mode]!.scores);
      const b = flat(c[mode]!.scores);
      const scale = Math.max(...b.map(Math.abs));
      expect(a.length).toBe(b.length);
      a.forEach((v, k) => expect(Math.abs(v - b[k]), `${mode}[${k}]`).toBeLessThan(1e-3 * scale));
    }
  });
});

describe.skipIf(noDemo)('depass refuses bad input in one line', () => {
  const cases: [string, string[], RegExp][] = [
    ['no model', ['--prompt', 'x'], /--model is required/],
    ['missing folder', ['--model', '/nonexistent/model', '--prompt', 'x'], /nonexistent/],
    ['unknown mode', ['--model', demo, '--prompt', 'x', '--modes', 'token,bogus'], /unknown mode 'bogus'/],
    ['bad layer', ['--model', demo, '--prompt', 'x', '--modes', 'neuron', '--layer', '9', '--backend', 'cpu'], /layer 9 is out of range/],
    ['bad position', ['--model', demo, '--prompt', 'x', '--positions', '0,99', '--backend', 'cpu'], /position 99 is out of range/],
    ['unknown flag', ['--model', demo, '--prompt', 'x', '--bogus'], /bogus/],
    ['not a number', ['--model', demo, '--prompt', 'x', '--target', 'abc'], /--target expects an integer/],
    ['unknown head map form', ['--model', demo, '--prompt', 'x', '--head-map', 'both'], /--head-map must be per-layer or one-pass/],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    const r = depass(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^depass: /);
    expect(lines[0]).toMatch(message);
  });
});
