// Benchmark sizes and command-line options: --quick (seconds, for a smoke test), the default (a
// few minutes on a 2-core machine without a GPU, software adapter), --full or BENCH_FULL=1 (real
// model sizes, for a real GPU). Every size can be overridden by a flag.

import type { RandomModelOptions } from '../src/model/testing/random-model';
import type { KernelShape } from './kernel';
import { TF_PROGRAMS, type TfLayout } from './tfjs';

export type Mode = 'quick' | 'default' | 'full';

/** Shapes of real small models (Hugging Face configs); the benchmark may keep fewer layers. */
export const MODELS: Record<string, RandomModelOptions> = {
  // SmolLM-135M
  smollm: {
    family: 'llama',
    hidden_size: 576,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    head_dim: 64,
    intermediate_size: 1536,
    vocab_size: 49152,
    num_hidden_layers: 30,
    tie_word_embeddings: true,
  },
  // Qwen2.5-0.5B
  qwen: {
    family: 'qwen2',
    hidden_size: 896,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    head_dim: 64,
    intermediate_size: 4864,
    vocab_size: 151936,
    num_hidden_layers: 24,
    tie_word_embeddings: true,
  },
  // Small enough for a smoke run, in the proportions of the others.
  tiny: {
    family: 'llama',
    hidden_size: 128,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 32,
    intermediate_size: 384,
    vocab_size: 4096,
    num_hidden_layers: 2,
    tie_word_embeddings: true,
  },
};

export interface BenchConfig {
  mode: Mode;
  kernelShapes: KernelShape[];
  kernelReps: number;
  /** A kernel sample lasts at least this long (several products per fence on fast GPUs). */
  minSampleMs: number;
  /** TF.js matmul programs tried (-1: its own choice); the fastest is the baseline. */
  tfPrograms: number[];
  /** Layouts of b for TF.js: [N, K] with transposeB, and [K, N] transposed once beforehand. */
  tfLayouts: TfLayout[];
  tf: boolean;
  /** Also run part 1 in headless Chromium (its own WebGPU: SwiftShader without a GPU), on these shapes. */
  chromium: boolean;
  chromiumShapes: KernelShape[];
  /** ...or these when the page's adapter is a software one (a GPU machine whose Chromium found no GPU). */
  chromiumFallbackShapes: KernelShape[];
  model: keyof typeof MODELS;
  layers: number;
  pipelineT: number;
  reps: number;
  neuronT: number;
  neuronLayer: number;
  /** Neurons timed one per pass (the rest extrapolated). */
  sample: number;
  neuronReps: number;
  /** Bytes of scratch one batched-ablation pass may take (its copies per pass follow). */
  ablationBudget: number;
  profile: boolean;
  /** Report file (default bench/reports/bench-<date>[-mode].json). */
  out?: string;
}

function pairs(R: number[], nk: [number, number][]): KernelShape[] {
  return R.flatMap((r) => nk.map(([N, K]) => ({ R: r, N, K })));
}

// SwiftShader in Chromium is several times slower than lavapipe: fewer rows.
const SOFTWARE_PAGE_SHAPES = pairs(
  [256],
  [
    [576, 576],
    [1536, 576],
    [576, 1536],
    [896, 896],
  ],
);

const PRESETS: Record<Mode, Omit<BenchConfig, 'mode' | 'profile' | 'tf' | 'out'>> = {
  quick: {
    kernelShapes: pairs(
      [512],
      [
        [384, 128],
        [128, 384],
      ],
    ),
    kernelReps: 2,
    minSampleMs: 20,
    tfPrograms: [-1],
    tfLayouts: ['NK', 'KN'],
    chromium: false,
    chromiumShapes: pairs([256], [[384, 128]]),
    chromiumFallbackShapes: pairs([256], [[384, 128]]),
    model: 'tiny',
    layers: 2,
    pipelineT: 16,
    reps: 2,
    neuronT: 8,
    neuronLayer: 0,
    sample: 8,
    neuronReps: 1,
    ablationBudget: 2 ** 30,
  },
  default: {
    kernelShapes: pairs(
      [1024],
      [
        [576, 576],
        [1536, 576],
        [576, 1536],
        [896, 896],
      ],
    ),
    kernelReps: 5,
    minSampleMs: 50,
    tfPrograms: [-1],
    tfLayouts: ['NK', 'KN'],
    chromium: true,
    chromiumShapes: SOFTWARE_PAGE_SHAPES,
    chromiumFallbackShapes: SOFTWARE_PAGE_SHAPES,
    model: 'smollm',
    layers: 2,
    pipelineT: 32,
    reps: 3,
    neuronT: 8,
    neuronLayer: 0,
    sample: 16,
    neuronReps: 2,
    ablationBudget: 2 ** 30,
  },
  full: {
    kernelShapes: pairs(
      [1024, 4096],
      [
        [576, 576],
        [1536, 576],
        [576, 1536],
        [896, 896],
        [4864, 896],
        [896, 4864],
      ],
    ),
    kernelReps: 7,
    minSampleMs: 100,
    tfPrograms: [-1, 1, 2, 3],
    tfLayouts: ['NK', 'KN'],
    chromium: true,
    chromiumShapes: pairs(
      [1024, 4096],
      [
        [576, 576],
        [1536, 576],
        [576, 1536],
        [896, 896],
        [4864, 896],
        [896, 4864],
      ],
    ),
    chromiumFallbackShapes: SOFTWARE_PAGE_SHAPES,
    model: 'qwen',
    layers: 0, // all
    pipelineT: 128,
    reps: 5,
    neuronT: 32,
    neuronLayer: -1, // the middle layer
    sample: 64,
    neuronReps: 3,
    ablationBudget: 4 * 2 ** 30,
  },
};

export const USAGE = `npm run bench -- [--quick | --full] [options]
  --model smollm|qwen|tiny  model shape (random weights)      --layers N        layers kept (0: all)
  --tokens T                pipeline prompt length            --reps N          pipeline samples
  --neuron-tokens T         neuron-part prompt length         --neuron-layer l  layer whose neurons are attributed
  --sample N                neurons timed one per pass        --neuron-reps N   runs of each neuron-part method
  --kernel-reps N           kernel samples                    --no-tf           skip the TF.js baseline
  --kernel-shapes RxNxK,..  kernel shapes (Node and Chromium)
  --tf-programs -1,1,2,3    TF.js matmul programs to try      --profile         per-kernel GPU time (timestamps)
  --chromium / --no-chromium  part 1 also in headless Chromium (DEPASS_CHROMIUM, default /usr/bin/chromium)
  --out FILE                report path
BENCH_FULL=1 / BENCH_QUICK=1 choose the size like --full / --quick.`;

const FLAGS = [
  'quick',
  'full',
  'model',
  'layers',
  'tokens',
  'reps',
  'neuron-tokens',
  'neuron-layer',
  'sample',
  'neuron-reps',
  'kernel-reps',
  'kernel-shapes',
  'no-tf',
  'tf-programs',
  'chromium',
  'no-chromium',
  'profile',
  'out',
  'help',
];
const BOOLEAN = new Set(['quick', 'full', 'no-tf', 'chromium', 'no-chromium', 'profile', 'help']);

export function parseArgs(argv: string[], env: Record<string, string | undefined> = {}): BenchConfig | 'help' {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}\n${USAGE}`);
    const eq = a.indexOf('=');
    const k = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (!FLAGS.includes(k)) throw new Error(`unknown option --${k}\n${USAGE}`);
    if (eq >= 0) flags.set(k, a.slice(eq + 1));
    else if (BOOLEAN.has(k)) flags.set(k, 'true');
    else if (i + 1 < argv.length) flags.set(k, argv[++i]!);
    else throw new Error(`--${k} needs a value`);
  }
  if (flags.has('help')) return 'help';
  const mode: Mode = flags.has('full') || env.BENCH_FULL === '1' ? 'full' : flags.has('quick') || env.BENCH_QUICK === '1' ? 'quick' : 'default';
  const p = PRESETS[mode];
  const num = (k: string, d: number) => {
    const v = flags.get(k);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} wants a whole number, got ${v}`);
    return n;
  };
  const model = flags.get('model') ?? p.model;
  if (!MODELS[model]) throw new Error(`--model ${model}: known shapes are ${Object.keys(MODELS).join(', ')}`);
  const fullL = MODELS[model]!.num_hidden_layers!;
  const layers = Math.min(fullL, num('layers', p.layers) || fullL);
  const neuronLayer = flags.has('neuron-layer')
    ? num('neuron-layer', 0)
    : p.neuronLayer < 0
      ? Math.max(0, Math.floor(layers / 2) - 1)
      : Math.min(p.neuronLayer, layers - 1);
  if (neuronLayer >= layers) throw new Error(`--neuron-layer ${neuronLayer}: the model keeps ${layers} layers`);
  const tfPrograms = flags.has('tf-programs') ? flags.get('tf-programs')!.split(',').map(Number) : p.tfPrograms;
  for (const x of tfPrograms) if (!(x in TF_PROGRAMS)) throw new Error(`--tf-programs: ${x} is not one of ${Object.keys(TF_PROGRAMS).join(', ')}`);
  const pos = (k: string, d: number) => Math.max(1, num(k, d));
  let shapes: KernelShape[] | null = null;
  if (flags.has('kernel-shapes')) {
    shapes = flags
      .get('kernel-shapes')!
      .split(',')
      .map((x) => {
        const d = x.split('x').map(Number);
        if (d.length !== 3 || !d.every((v) => Number.isInteger(v) && v > 0)) throw new Error(`--kernel-shapes: ${x} is not RxNxK`);
        return { R: d[0]!, N: d[1]!, K: d[2]! };
      });
  }
  return {
    ...p,
    mode,
    model,
    layers,
    pipelineT: pos('tokens', p.pipelineT),
    reps: pos('reps', p.reps),
    neuronT: pos('neuron-tokens', p.neuronT),
    neuronLayer,
    sample: pos('sample', p.sample),
    neuronReps: pos('neuron-reps', p.neuronReps),
    kernelReps: pos('kernel-reps', p.kernelReps),
    kernelShapes: shapes ?? p.kernelShapes,
    chromiumShapes: shapes ?? p.chromiumShapes,
    chromiumFallbackShapes: shapes ?? p.chromiumFallbackShapes,
    tfPrograms,
    tf: !flags.has('no-tf'),
    chromium: flags.has('chromium') || (p.chromium && !flags.has('no-chromium')),
    profile: flags.has('profile'),
    out: flags.get('out'),
  };
}
