// The GPU pack as `npm run gpu-pack` writes it: under 60 MiB, every part present (the gzipped
// runtime is this Node byte for byte, the shaders are the checkout's), the manifest true to the
// files, and bundles that need nothing outside the pack. Running the pack is
// `npm run gpu-pack:selftest` (about a minute on lavapipe, so not part of npm test).

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACK_LIMIT_BYTES, writePack, type PackManifest } from '../scripts/gpu-pack';

const root = resolve(import.meta.dirname, '..');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let dir: string;
let out: string;
let manifest: PackManifest;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'depass-pack-test-'));
  out = join(dir, 'depass-gpu-check');
  manifest = await writePack(out, () => {});
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run gpu-pack', () => {
  it('stays under 60 MiB', () => {
    const onDisk = readdirSync(out, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .reduce((s, e) => s + statSync(join(e.parentPath, e.name)).size, 0);
    expect(onDisk).toBe(manifest.totalBytes);
    expect(onDisk).toBeLessThanOrEqual(PACK_LIMIT_BYTES);
  });

  it('holds this Node runtime and Dawn, gzipped, byte for byte', () => {
    expect(sha(gunzipSync(readFileSync(join(out, 'runtime/node.gz'))))).toBe(sha(readFileSync(process.execPath)));
    const dawn = readFileSync(join(root, 'node_modules/webgpu/dist/linux-x64/dawn.node'));
    expect(sha(gunzipSync(readFileSync(join(out, 'lib/webgpu/dist/linux-x64/dawn.node.gz'))))).toBe(sha(dawn));
  });

  it('holds every shader of the checkout, the run script, the README and the licences', () => {
    const shaders = readdirSync(join(root, 'shaders')).filter((n) => n.endsWith('.wgsl'));
    expect(shaders.length).toBeGreaterThan(5);
    for (const s of shaders) expect(readFileSync(join(out, 'shaders', s), 'utf8'), s).toBe(readFileSync(join(root, 'shaders', s), 'utf8'));
    expect(statSync(join(out, 'run.sh')).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).not.toMatch(/\{\{\w+\}\}/);
    for (const l of ['node.txt', 'dawn-webgpu.txt']) expect(existsSync(join(out, 'licenses', l)), l).toBe(true);
    if (manifest.vulkanLoader) {
      expect(existsSync(join(out, 'lib/vulkan/libvulkan.so.1'))).toBe(true);
      expect(readFileSync(join(out, 'licenses/vulkan-loader.txt'), 'utf8')).toMatch(/Apache-2\.0/);
    }
    for (const p of manifest.bundledPackages) expect(existsSync(join(out, 'licenses', `npm-${p.replace('/', '__')}.txt`)), p).toBe(true);
    expect(manifest.bundledPackages).toEqual(expect.arrayContaining(['webgpu', 'webgpu-utils', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu']));
  });

  it('lists every file with its true size and SHA-256', () => {
    expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(['app/check.mjs', 'app/cli.mjs', 'run.sh', 'README.md']));
    for (const f of manifest.files) {
      const b = readFileSync(join(out, f.path));
      expect(b.length, f.path).toBe(f.bytes);
      expect(sha(b), f.path).toBe(f.sha256);
    }
  });

  it('bundles that import only Node built-ins and find their files inside the pack', () => {
    for (const name of ['check.mjs', 'cli.mjs']) {
      const js = readFileSync(join(out, 'app', name), 'utf8');
      const specifiers = [...js.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\(\s*)["']([@\w./:-]+)["']/g)].map((m) => m[1]!);
      expect(specifiers.length, name).toBeGreaterThan(0);
      // vite and playwright-core: only the benchmark's Chromium part, which the check turns off.
      const foreign = specifiers.filter(
        (s) =>
          !s.startsWith('node:') &&
          !['vite', 'playwright-core'].includes(s) &&
          !/^(fs|path|os|url|util|crypto|module|zlib|child_process|worker_threads|stream|events|buffer|assert|http|https|net|tty|perf_hooks)$/.test(s),
      );
      expect(foreign, name).toEqual([]);
      expect(js.includes(root), `${name} names the checkout's path`).toBe(false);
      // Every module's own import.meta.url was rewritten to its place in the pack: only the banner's two remain.
      expect(js.split('import.meta.url').length - 1, name).toBe(2);
    }
  });
});
