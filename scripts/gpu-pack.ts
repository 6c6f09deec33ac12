// `npm run gpu-pack [-- --out DIR] [--tar]`: writes the GPU pack, one folder that runs the GPU
// check (gpu-check/main.ts) on a bare Linux x86-64 machine with no network, no Node and no
// node_modules: this Node runtime and Dawn's native module gzipped, the check and the `depass`
// command bundled into plain JavaScript, the WGSL shaders, the Khronos Vulkan loader as a
// fallback, the licences, and run.sh. Refuses to write more than 60 MiB.

import { build, type Plugin } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { collectPackInfo } from '../gpu-check/versions';

export const PACK_LIMIT_BYTES = 60 * 2 ** 20;
const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const VULKAN_LOADER = '/usr/lib/x86_64-linux-gnu/libvulkan.so.1';
const APACHE_TEXT = '/usr/share/common-licenses/Apache-2.0';

/** Where a source file of the checkout sits in the pack: node_modules/x -> lib/x, the rest as in the checkout. */
function packPath(file: string): string {
  const rel = relative(ROOT, file).split(sep).join('/');
  return rel.startsWith('node_modules/') ? `lib/${rel.slice('node_modules/'.length)}` : rel;
}

/**
 * Each module's import.meta.url becomes its own place in the pack, so that paths it resolves
 * relative to itself (src/gpu/node.ts -> ../../shaders/, webgpu's index.js -> dist/linux-x64/dawn.node)
 * land in the pack's copy of the same layout. The bundle in app/ defines the pack's root URL.
 */
const metaUrlPlugin: Plugin = {
  name: 'pack-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.(ts|tsx|js|mjs)$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const url = `new URL(${JSON.stringify(packPath(args.path))}, __depassPackRoot).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: args.path.endsWith('.ts') ? 'ts' : 'js', resolveDir: dirname(args.path) };
    });
  },
};

// The bundle is ESM; CommonJS dependencies (TF.js, the tokenizers) still call require().
const BANNER = [
  "import { createRequire as __depassCreateRequire } from 'node:module';",
  'const require = __depassCreateRequire(import.meta.url);',
  "const __depassPackRoot = new URL('../', import.meta.url);",
].join('\n');

function gzipTo(src: string, dst: string): void {
  mkdirSync(dirname(dst), { recursive: true });
  writeFileSync(dst, gzipSync(readFileSync(src), { level: 9 }));
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * The licence file of each npm package whose code went into the bundles; for a package that ships
 * none, a note of the licence its package.json names (with the Apache-2.0 text where that is it).
 */
function bundledLicences(inputs: string[], out: string): string[] {
  const pkgs = new Set<string>();
  for (const f of inputs) {
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f);
    if (m) pkgs.add(m[1]!);
  }
  for (const p of [...pkgs].sort()) {
    const dir = join(ROOT, 'node_modules', p);
    const file = join(out, `npm-${p.replace('/', '__')}.txt`);
    const lic = readdirSync(dir).find((n) => /^(licen[cs]e|copying)/i.test(n));
    if (lic) {
      copyFileSync(join(dir, lic), file);
      continue;
    }
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; license?: string };
    writeFileSync(file, `${p} ${pkg.version}: licence ${pkg.license ?? 'not stated'} (from its package.json; the package ships no licence file)\n`);
    if (pkg.license === 'Apache-2.0' && existsSync(APACHE_TEXT)) copyFileSync(APACHE_TEXT, join(out, 'Apache-2.0.txt'));
  }
  return [...pkgs].sort();
}

export interface PackManifest {
  format: 'depass-gpu-pack/1';
  versions: ReturnType<typeof collectPackInfo>;
  runtime: { node: string; glibcNeeded: string };
  bundledPackages: string[];
  vulkanLoader: string | null;
  files: { path: string; bytes: number; sha256: string }[];
  totalBytes: number;
}

export async function writePack(out: string, log: (s: string) => void = console.log): Promise<PackManifest> {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`the pack ships this Node runtime, which must be Linux x64; this is ${process.platform} ${process.arch}`);
  const dawn = join(ROOT, 'node_modules/webgpu/dist/linux-x64/dawn.node');
  if (!existsSync(dawn)) throw new Error(`${dawn} is missing: run npm ci first`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const versions = collectPackInfo(ROOT, new Date().toISOString());

  // 1. The check and the depass command, bundled.
  log('bundling gpu-check/main.ts and src/cli/main.ts');
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { check: 'gpu-check/main.ts', cli: 'src/cli/main.ts' },
    outdir: join(out, 'app'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Reached only by the benchmark's Chromium part, which the check turns off.
    external: ['vite', 'playwright-core'],
    define: { __DEPASS_PACK_INFO__: JSON.stringify(versions) },
    banner: { js: BANNER },
    plugins: [metaUrlPlugin],
    metafile: true,
    logLevel: 'warning',
  });

  // 2. Shaders, read at run time by src/gpu/node.ts from ../../shaders/ of its place in the pack.
  mkdirSync(join(out, 'shaders'));
  for (const f of readdirSync(join(ROOT, 'shaders')).filter((n) => n.endsWith('.wgsl'))) copyFileSync(join(ROOT, 'shaders', f), join(out, 'shaders', f));

  // 3. Native parts, gzipped (run.sh unpacks them with gzip, present on every Linux).
  log(`compressing the Node runtime ${process.execPath} (${process.version}) and Dawn's dawn.node`);
  gzipTo(process.execPath, join(out, 'runtime/node.gz'));
  gzipTo(dawn, join(out, packPath(dawn) + '.gz'));
  let vulkanLoader: string | null = null;
  if (existsSync(VULKAN_LOADER)) {
    vulkanLoader = realpathSync(VULKAN_LOADER);
    mkdirSync(join(out, 'lib/vulkan'), { recursive: true });
    copyFileSync(vulkanLoader, join(out, 'lib/vulkan/libvulkan.so.1'));
  } else {
    log(`warning: ${VULKAN_LOADER} is absent here; the pack will have no fallback Vulkan loader`);
  }

  // 4. Licences: the runtime, Dawn, the loader and every npm package in the bundles.
  const lic = join(out, 'licenses');
  mkdirSync(lic);
  const copyIf = (src: string, name: string) => existsSync(src) && copyFileSync(src, join(lic, name));
  copyIf('/usr/share/doc/nodejs/LICENSE', 'node.txt');
  copyIf(join(ROOT, 'node_modules/webgpu/LICENSE.md'), 'dawn-webgpu.txt');
  if (vulkanLoader) copyIf('/usr/share/doc/libvulkan1/copyright', 'vulkan-loader.txt');
  const inputs = Object.keys(result.metafile.inputs);
  const bundledPackages = bundledLicences(inputs, lic);

  // 5. The run script and the pack's README.
  copyFileSync(join(ROOT, 'gpu-check/run.sh'), join(out, 'run.sh'));
  chmodSync(join(out, 'run.sh'), 0o755);
  const readme = readFileSync(join(ROOT, 'gpu-check/pack-readme.md'), 'utf8')
    .replaceAll('{{project}}', versions.project)
    .replaceAll('{{commit}}', versions.commit)
    .replaceAll('{{builtAt}}', versions.builtAt)
    .replaceAll('{{node}}', process.version)
    .replaceAll('{{webgpu}}', versions.webgpu)
    .replaceAll('{{packages}}', bundledPackages.join(', '));
  writeFileSync(join(out, 'README.md'), readme);

  const listed = files(out)
    .map((f) => ({ path: relative(out, f).split(sep).join('/'), bytes: statSync(f).size, sha256: createHash('sha256').update(readFileSync(f)).digest('hex') }))
    .sort((a, b) => a.path.localeCompare(b.path));
  const manifest: PackManifest = {
    format: 'depass-gpu-pack/1',
    versions,
    runtime: { node: process.version, glibcNeeded: '2.34 (dawn.node; Node itself 2.28), libstdc++ with GLIBCXX_3.4.30' },
    bundledPackages,
    vulkanLoader,
    files: listed,
    totalBytes: 0,
  };
  manifest.totalBytes = listed.reduce((s, f) => s + f.bytes, 0);
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  manifest.totalBytes += statSync(join(out, 'manifest.json')).size;
  return manifest;
}

/** Bytes per part of the pack, largest first. */
export function partSizes(m: PackManifest): [string, number][] {
  const parts = new Map<string, number>();
  for (const f of m.files) {
    const part = f.path.startsWith('lib/webgpu/') ? 'lib/webgpu (Dawn)' : f.path.includes('/') ? f.path.split('/')[0]! : f.path;
    parts.set(part, (parts.get(part) ?? 0) + f.bytes);
  }
  return [...parts].sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'build/depass-gpu-check' },
      tar: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('npm run gpu-pack -- [--out DIR] [--tar]   (default build/depass-gpu-check; --tar also writes DIR.tar)');
    return;
  }
  const out = resolve(values.out);
  const m = await writePack(out, (s) => console.error(s));
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
  for (const [part, bytes] of partSizes(m)) console.log(`${mib(bytes).padStart(10)}  ${part}`);
  console.log(`${mib(m.totalBytes).padStart(10)}  total: ${out} (${m.files.length + 1} files)`);
  if (m.totalBytes > PACK_LIMIT_BYTES) throw new Error(`the pack is ${mib(m.totalBytes)}, over the ${mib(PACK_LIMIT_BYTES)} limit`);
  if (values.tar) {
    execFileSync('tar', ['-cf', `${out}.tar`, '-C', dirname(out), relative(dirname(out), out)]);
    console.log(`${mib(statSync(`${out}.tar`).size).padStart(10)}  ${out}.tar`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(ROOT, 'scripts/gpu-pack.ts')) {
  main().catch((e: unknown) => {
    console.error(`gpu-pack: ${(e as Error).message}`);
    process.exit(1);
  });
}
