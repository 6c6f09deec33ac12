// Timings on random weights of real models' shapes, generated here in memory (no weights are
// shipped), run the way the `depass` command runs them: the engine opened as src/cli/gpu.ts opens
// it, then runDepass over every position with the default rule. The goals are those the engine
// is meant to reach on a GPU; on a software adapter the figures only show that the path runs.

import type { HeadMapForm, Mode } from '../src/depass/result';
import { runDepass, type RunInput } from '../src/depass/run';
import type { GpuContext } from '../src/gpu/device';
import { GpuBackend } from '../src/gpu/engine';
import type { ShaderLoader } from '../src/gpu/kernels';
import type { DType } from '../src/model/description';
import { randomModel, type RandomModelOptions } from '../src/model/testing/random-model';
import { MODELS } from '../bench/config';
import type { TimingResult } from './report';

export interface ShapeRun {
  /** The model whose shape is copied (Hugging Face name). */
  model: string;
  options: RandomModelOptions;
  T: number;
  /** Each entry is timed on its own (a runDepass call, forward pass included); 'forward' alone too. */
  runs: { name: string; modes: Mode[]; goalMs?: number; headMap?: HeadMapForm }[];
}

/**
 * SmolLM2-135M has SmolLM-135M's shape (D 576, 9 heads, 3 KV heads, I 1536, V 49152, 30 layers);
 * Qwen2.5-0.5B: D 896, 14 heads, 2 KV heads, I 4864, V 151936, 24 layers, q/k/v biases. Both are
 * published in bfloat16, so the weights here are BF16 unless asked otherwise.
 */
export function shapeRuns(size: 'quick' | 'full', dtype: DType = 'BF16'): ShapeRun[] {
  // quick: the real widths, one layer, a 12-token prompt and a cut vocabulary (seconds on a CPU).
  const cut = (o: RandomModelOptions): RandomModelOptions => (size === 'full' ? o : { ...o, num_hidden_layers: 1, vocab_size: Math.min(o.vocab_size!, 8192) });
  const T = size === 'full' ? 128 : 12;
  const opts = (o: RandomModelOptions, name: string): RandomModelOptions => ({ ...cut(o), dtype, max_position_embeddings: 4096, seed: 1, name });
  return [
    {
      model: 'SmolLM2-135M',
      options: opts(MODELS.smollm!, 'random SmolLM2-135M shape'),
      T,
      runs: [
        { name: 'SmolLM2-135M token mode', modes: ['token'] },
        { name: 'SmolLM2-135M head map', modes: ['head'], goalMs: size === 'full' ? 2000 : undefined },
        // The same map in one pass: equal under the proportional rule, close under softmax (docs/method.md).
        { name: 'SmolLM2-135M head map in one pass', modes: ['head'], headMap: 'one-pass' },
      ],
    },
    {
      model: 'Qwen2.5-0.5B',
      options: opts(MODELS.qwen!, 'random Qwen2.5-0.5B shape'),
      T,
      runs: [{ name: `Qwen2.5-0.5B token mode`, modes: ['token'], goalMs: size === 'full' ? 1000 : undefined }],
    },
  ];
}

function relCompleteness(r: { targets: { logit: number }[]; completeness: { max_abs_error: number } }): number {
  const scale = Math.max(1, ...r.targets.map((t) => Math.abs(t.logit)));
  return r.completeness.max_abs_error / scale;
}

/** Runs every shape: builds its weights, opens the engine, times a forward pass and each run (one cold, `reps` warm). */
export async function timeShapes(
  ctx: GpuContext,
  loader: ShaderLoader,
  shapes: ShapeRun[],
  reps: number,
  log: (s: string) => void,
  onResult: (r: TimingResult) => void,
): Promise<void> {
  for (const s of shapes) {
    const t0 = performance.now();
    const model = randomModel(s.options);
    const cfg = model.description;
    log(
      `  ${s.model} shape: ${cfg.num_hidden_layers} layers, V ${cfg.vocab_size}, ${cfg.dtype}: weights built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const t1 = performance.now();
    const backend = await GpuBackend.create(ctx, cfg, model.weights, loader);
    log(`  uploaded in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    try {
      // A prompt of T ids drawn with a fixed seed (the same as bench/pipeline.ts's promptIds).
      let a = 7;
      const ids = Array.from({ length: s.T }, () => (a = (Math.imul(a, 1664525) + 1013904223) >>> 0) % cfg.vocab_size);
      const input: RunInput = {
        model: { name: cfg.name, fingerprint: 'random', description: cfg },
        prompt: '',
        tokens: ids.map((id, i) => ({ id, text: `t${id}`, start: i, end: i + 1 })),
        bosAtZero: false,
      };
      const base = { model: s.model, dtype: cfg.dtype, layers: cfg.num_hidden_layers, T: s.T };
      const timed = async (fn: () => Promise<number | undefined>) => {
        const samples: number[] = [];
        let completeness: number | undefined;
        for (let i = 0; i <= reps; i++) {
          const start = performance.now();
          completeness = await fn();
          samples.push(performance.now() - start);
        }
        const warm = samples.slice(1).sort((x, y) => x - y);
        return { coldMs: samples[0]!, ms: warm[Math.floor((warm.length - 1) / 2)] ?? samples[0]!, samples, completeness };
      };
      const fwd = await timed(async () => {
        await backend.forward(ids);
        return undefined;
      });
      onResult({ name: `${s.model} forward pass`, ...base, what: 'forward', ...fwd, completeness: undefined });
      log(`  ${s.model} forward: ${fwd.ms.toFixed(1)} ms (cold ${fwd.coldMs.toFixed(0)} ms)`);
      for (const run of s.runs) {
        const r = await timed(async () => relCompleteness(await runDepass(backend, input, { modes: run.modes, positions: 'all', headMap: run.headMap })));
        const goal = run.goalMs === undefined ? undefined : { ms: run.goalMs, met: r.ms < run.goalMs };
        onResult({ name: run.name, ...base, what: run.modes.join(','), ...r, goal });
        log(`  ${run.name}: ${r.ms.toFixed(1)} ms (cold ${r.coldMs.toFixed(0)} ms)${goal ? `, goal < ${goal.ms} ms ${goal.met ? 'met' : 'NOT met'}` : ''}`);
      }
    } finally {
      backend.destroy();
    }
  }
}
