// A smoke run of the benchmark (`--quick`, Node only): every part runs and reports finite,
// positive figures, so `npm run bench` cannot rot unnoticed. It asserts no speed: these machines
// are shared and timings are noisy.

import { describe, expect, it } from 'vitest';
import { runBench } from '../bench/bench';
import { parseArgs } from '../bench/config';
import { skipWithoutGpu, testGpu } from '../src/gpu/testing/gpu-env';
import { nodeShaderLoader } from '../src/gpu/node';

const gpu = await testGpu();

describe.skipIf(skipWithoutGpu(gpu))('npm run bench -- --quick', () => {
  it('runs every part and reports finite figures', async () => {
    const cfg = parseArgs(['--quick', '--no-chromium']);
    if (cfg === 'help') throw new Error('unexpected help');
    const { report, text } = await runBench(gpu!.ctx, nodeShaderLoader(), cfg);
    const positive = (x: number) => Number.isFinite(x) && x > 0;
    expect(report.kernel.rows.length).toBeGreaterThan(0);
    expect(positive(report.kernel.bestGflops)).toBe(true);
    for (const k of ['forward', 'token', 'head'] as const) expect(positive(report.pipeline.efficiency[k].part1), k).toBe(true);
    expect(positive(report.neurons.speedupSingle)).toBe(true);
    expect(positive(report.neurons.flopRatioBatched)).toBe(true);
    expect(positive(report.tokenSaving.time)).toBe(true);
    expect(positive(report.headMapSaving.time) && positive(report.headMapSaving.flops)).toBe(true);
    expect(report.headMapSaving.flops).toBeLessThan(1); // the one-pass map never does more work
    expect(report.pipeline.headOnePass.difference.proportional).toBeLessThan(1e-3); // the same map under the proportional rule
    expect(report.paths.weights.map((w) => w.path)).toEqual(expect.arrayContaining(['F32', 'F16 expanded', 'BF16']));
    for (const w of report.paths.weights) expect(positive(w.forwardBytes) && positive(w.forwardMs), w.path).toBe(true);
    expect(report.targets.length).toBeGreaterThanOrEqual(4);
    expect(report.adapter.name.length).toBeGreaterThan(0);
    expect(text).toMatch(/TF\.js/);
  }, 300_000);
});
