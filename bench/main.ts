// `npm run bench`: the engine's speed measured side by side on this machine's WebGPU adapter (Dawn
// in Node; the Vulkan driver is the environment's choice), printed as tables and written as JSON to
// bench/reports/bench-<date>.json. Every comparison is a ratio within one run, so it also means
// something on a software adapter. Sizes and options: bench/config.ts (--help). Asserts nothing.

import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDevice } from '../src/gpu/device';
import { createNodeGpu, nodeShaderLoader } from '../src/gpu/node';
import { runBench } from './bench';
import { parseArgs, USAGE } from './config';

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2), process.env);
  if (cfg === 'help') {
    console.log(USAGE);
    return;
  }
  const log = (s: string) => process.stderr.write(s + '\n');
  const ctx = await createDevice(createNodeGpu(), { timestamps: true });
  const { report, text } = await runBench(ctx, nodeShaderLoader(), cfg, log);
  console.log(text);
  const dir = fileURLToPath(new URL('./reports/', import.meta.url));
  const file = cfg.out ?? `${dir}bench-${report.date.replace(/[:.]/g, '-')}${cfg.mode === 'default' ? '' : '-' + cfg.mode}.json`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(report, null, 1) + '\n');
  log(`report: ${file}`);
  ctx.device.destroy();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
