// Every new family loads and runs as a user would run it: a fixture checkpoint (the official
// library's save, see fixtures/families) in a folder with a small tokenizer, through the `depass`
// command on the CPU and on WebGPU (the same scores within the engine tolerance, every mode
// complete), and through the engine host the app's worker runs (the model card's family).

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DepassResult } from '../depass/result';
import { skipWithoutGpu, testGpu } from '../gpu/testing/gpu-env';
import { characterTokenizer, FAMILY_FIXTURES, fixtureCases, fixtureReference } from '../model/testing/family-fixtures';
import { filesFromPath } from '../node/files';
import { skipWithoutFiles } from '../testing/requirements';
import { EngineHost } from '../worker/host';
import type { Reply } from '../worker/protocol';

const root = process.cwd();
const work = mkdtempSync(join(tmpdir(), 'depass-families-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The fixture's checkpoint in a model folder of its own, with a tokenizer of V or fewer ids. */
function folderOf(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(resolve(FAMILY_FIXTURES, name, f), join(dir, f));
  const V = fixtureReference(name).prompts[0]!.logits[0]!.length;
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(characterTokenizer(V)));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ add_bos_token: false }));
  return dir;
}

function depass(args: string[]) {
  const r = spawnSync(process.execPath, [resolve(root, 'bin/depass.mjs'), ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function flat(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : typeof x === 'number' ? [x] : [];
}

const gpu = await testGpu();
const noFixtures = skipWithoutFiles(`${FAMILY_FIXTURES}/index.json`);
// One checkpoint per family and layout (the 16-bit copies load through the same code).
const perFamily = fixtureCases().filter((c) => c.endsWith('F32'));

describe.skipIf(noFixtures || skipWithoutGpu(gpu))('depass on every new family, WebGPU against CPU', () => {
  for (const name of perFamily) {
    it(name, () => {
      const dir = folderOf(name);
      const args = ['--model', dir, '--prompt', 'the cat sat on the mat, then it', '--modes', 'token,head,neuron,module', '--layer', '1'];
      const cpu = depass([...args, '--backend', 'cpu']);
      const web = depass([...args, '--backend', 'webgpu']);
      expect(cpu.code, cpu.stderr).toBe(0);
      expect(web.code, web.stderr).toBe(0);
      const c = JSON.parse(cpu.stdout) as DepassResult;
      const g = JSON.parse(web.stdout) as DepassResult;
      expect(c.model.architecture).toBe(fixtureReference(name).model_type);
      const logitScale = Math.max(1, ...c.targets.map((t) => Math.abs(t.logit)));
      expect(c.completeness.max_abs_error).toBeLessThan(1e-4 * logitScale);
      expect(g.completeness.max_abs_error).toBeLessThan(1e-4 * logitScale);
      for (const mode of ['token', 'head', 'neuron', 'module'] as const) {
        const a = flat(g[mode]!.scores);
        const b = flat(c[mode]!.scores);
        const scale = Math.max(1e-6, ...b.map(Math.abs));
        expect(a.length).toBe(b.length);
        a.forEach((v, k) => expect(Math.abs(v - b[k]!), `${mode}[${k}]`).toBeLessThan(1e-3 * scale));
      }
    });
  }
});

describe.skipIf(noFixtures)('the app loads every new family (engine host, as the worker runs it)', () => {
  for (const name of fixtureCases()) {
    it(name, async () => {
      const replies: Reply[] = [];
      const host = new EngineHost((r) => replies.push(r), null);
      host.handle({ type: 'load', id: 1, files: await filesFromPath(folderOf(name)) });
      host.handle({ type: 'run', id: 2, prompt: 'a cat', settings: { modes: ['token'] } });
      await expect.poll(() => replies.find((r) => r.id === 2 && (r.type === 'result' || r.type === 'error')), { timeout: 60_000 }).toBeTruthy();
      const loaded = replies.find((r) => r.id === 1);
      expect(loaded?.type, JSON.stringify(loaded)).toBe('loaded');
      if (loaded?.type === 'loaded') {
        expect(loaded.info.description.family).toBe(fixtureReference(name).model_type);
        expect(loaded.info.description.dtype).toBe(fixtureReference(name).dtype);
      }
      const final = replies.find((r) => r.id === 2 && (r.type === 'result' || r.type === 'error'));
      expect(final?.type, JSON.stringify(final)).toBe('result');
    });
  }
});
