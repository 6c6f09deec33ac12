// The benchmark's report: its type (what bench/reports/*.json holds) and its text, one table per
// part, the targets and, with --profile, the GPU time per kernel. What npm run bench prints and
// the GPU check writes to bench.txt.

import type { PageKernelResult } from './browser/page';
import { describeProfile, type DeviceProfile } from '../src/gpu/profile';
import type { KernelTime } from '../src/gpu/profiler';
import { tileCols, type TileName, tileRows } from '../src/gpu/tiles';
import { type BenchConfig, MODELS } from './config';
import type { KernelRow } from './kernel';
import type { NeuronResult } from './neurons';
import type { PathsResult } from './paths';
import type { PipelineResult } from './pipeline';

export interface Target {
  name: string;
  value: number;
  target: number;
  met: boolean;
}

export interface BenchReport {
  date: string;
  mode: BenchConfig['mode'];
  config: BenchConfig;
  machine: { os: string; cpus: string; memoryGiB: number; node: string; dawn: string; tfjs: string };
  adapter: {
    name: string;
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter: boolean;
    driver: string;
    shaderF16: boolean;
  };
  /** What the engine uses on this device (16-bit path, reductions, tile plan with its calibration). */
  profile: DeviceProfile;
  kernel: { rows: KernelRow[]; bestGflops: number; best: { R: number; N: number; K: number } };
  /** Part 1 again in headless Chromium, or why it did not run. */
  chromium: (Omit<PageKernelResult, 'log'> & { seconds: number }) | { skipped: string } | null;
  pipeline: PipelineResult & {
    model: string;
    layers: number;
    modelLayers: number;
    /**
     * FLOPs / (time x part 1's best rate); against the reference kernel timed alongside; and the
     * same by process CPU time (the work itself on a software adapter).
     */
    efficiency: Record<'forward' | 'token' | 'head' | 'headOnePass', { part1: number; alongside: number; cpu: number }>;
  };
  neurons: NeuronResult & {
    speedupSingle: number;
    speedupBatched: number;
    flopRatioBatched: number;
    shareOfFlopAdvantage: number;
    /** The same ratios by process CPU time. */
    cpu: { speedupSingle: number; speedupBatched: number; shareOfFlopAdvantage: number };
  };
  tokenSaving: { time: number; flops: number };
  /** The head map in one pass over the per-layer form: time and FLOPs. */
  headMapSaving: { time: number; flops: number };
  /** Part 5: weight paths (bytes per token) and reductions. */
  paths: PathsResult;
  targets: Target[];
  elapsedSeconds: number;
}

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(cells[0]!), w.map((n) => '-'.repeat(n)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const gf = (flops: number) => f(flops / 1e9, flops < 1e10 ? 2 : 1);

function profileTable(title: string, k: KernelTime[] | undefined, check?: number): string {
  if (!k) return '';
  const total = k.reduce((s, r) => s + r.ms, 0);
  const checked = check === undefined ? '' : `; matmul FLOPs dispatched / counted here: ${f(check, 4)}`;
  return (
    `\n${title}: GPU time per kernel in one profiled run (timestamps serialise kernels)${checked}\n` +
    table(
      ['kernel', 'dispatches', 'ms', 'share', 'GFLOP/s'],
      k.map((r) => [r.kernel, r.dispatches, f(r.ms, 1), `${f((100 * r.ms) / total, 1)}%`, r.flops ? f(r.flops / r.ms / 1e6) : '']),
    )
  );
}

function kernelTable(rows: KernelRow[], cpu: boolean): string {
  return table(
    ['R x N x K', 'ours', 'tiles', 'TF.js b^T', 'TF.js best', 'TF.js best variant', 'ours speed-up', ...(cpu ? ['by CPU time'] : [])],
    rows.map((k) => [
      `${k.R} x ${k.N} x ${k.K}`,
      f(k.ours.gflops),
      k.ours.tiles,
      k.tf?.transposedGflops ? f(k.tf.transposedGflops) : '-',
      k.tf ? f(k.tf.gflops) : '-',
      k.tf ? k.tf.variant.replace('auto', `auto=${k.tf.auto}`) : '-',
      k.ratio ? f(k.ratio) : '-',
      ...(cpu ? [k.cpuRatio ? f(k.cpuRatio) : '-'] : []),
    ]),
  );
}

export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  const p = r.pipeline;
  const n = r.neurons;
  const cfg = r.config;
  out.push(`\nDePass Studio benchmark (${r.mode}), ${r.date}`);
  out.push(`adapter: ${r.adapter.name} | ${r.adapter.description} | ${r.adapter.driver}`);
  out.push(`engine profile: ${describeProfile(r.profile)}`);
  const cal = r.profile.tiles.calibration;
  if (cal) {
    const rates = Object.entries(cal.gflops).map(([t, g]) => `${t} ${tileRows(t as TileName)}x${tileCols(t as TileName)} ${f(g!)}`);
    out.push(`tile calibration (${cal.R} x ${cal.N} x ${cal.K}, GFLOP/s; ${f(cal.ms / 1000, 1)} s): ${rates.join(', ')}`);
  }
  out.push(`machine: ${r.machine.os}, ${r.machine.cpus}, ${r.machine.memoryGiB} GiB, node ${r.machine.node}, ${r.machine.dawn}, TF.js ${r.machine.tfjs}`);

  out.push(`\n1. Kernel: Y[R, N] = X[R, K] W[N, K]^T, f32; GFLOP/s of the median of ${cfg.kernelReps} samples, alternating`);
  out.push('   TF.js b^T: tf.matMul(a, b, false, true) with b [N, K]; best: also b transposed once to [K, N] (its vec4 path), programs tried, fastest kept');
  out.push(kernelTable(r.kernel.rows, r.adapter.isFallbackAdapter));
  out.push(
    `best rate: ${f(r.kernel.bestGflops)} GFLOP/s (${r.kernel.best.R} x ${r.kernel.best.N} x ${r.kernel.best.K}); the same kernel alongside part 2: ${f(p.reference.gflops)} GFLOP/s`,
  );
  if (r.chromium && 'rows' in r.chromium) {
    out.push(
      `\n1b. The same in headless Chromium: ${r.chromium.adapter}${r.chromium.description ? ` | ${r.chromium.description}` : ''} | ${r.chromium.userAgent.replace(/^.*(HeadlessChrome\/[\d.]+).*$/, '$1')}`,
    );
    out.push(kernelTable(r.chromium.rows, false));
  } else if (r.chromium) {
    out.push(`\n1b. Chromium: not run (${r.chromium.skipped})`);
  }

  const D = MODELS[p.model]!;
  out.push(
    `\n2. Pipeline: random ${p.model}-shaped model (D=${D.hidden_size}, H=${D.num_attention_heads}, Hkv=${D.num_key_value_heads}, dh=${D.head_dim}, I=${D.intermediate_size}, V=${D.vocab_size}), ` +
      `${p.layers} of ${p.modelLayers} layers, f32, T = ${p.T}, one target; median of ${cfg.reps}, alternating`,
  );
  const sw = r.adapter.isFallbackAdapter;
  const pipeRow = (name: string, e: PipelineResult['forward'], k: keyof typeof p.efficiency) => [
    name,
    f(e.ms, 1),
    ...(sw ? [f(e.cpuMs, 0)] : []),
    gf(e.flops),
    f(e.gflops),
    f(p.efficiency[k].part1),
    f(p.efficiency[k].alongside),
    ...(sw ? [f(p.efficiency[k].cpu)] : []),
  ];
  out.push(
    table(
      ['pass', 'ms', ...(sw ? ['CPU ms'] : []), 'GFLOP', 'GFLOP/s', 'efficiency', 'eff. alongside', ...(sw ? ['eff. CPU'] : [])],
      [
        pipeRow('forward (logits of every position)', p.forward, 'forward'),
        pipeRow(`token mode (M = ${p.token.components}, ${p.token.rows} active rows)`, p.token, 'token'),
        pipeRow(`head map (${p.head.passes} passes of M = ${(D.num_attention_heads ?? 0) + 1})`, p.head, 'head'),
        pipeRow(`head map in one pass (M = ${p.headOnePass.components})`, p.headOnePass, 'headOnePass'),
      ],
    ),
  );
  out.push('efficiency = FLOPs / (time x best rate of part 1); alongside: x the rate of that kernel re-timed between these samples');
  if (sw) out.push('eff. CPU: the same with process CPU time for both (software adapter: the work itself, whatever else the machine runs)');

  out.push(`\n3. Neurons: all ${n.neurons} neurons of layer ${n.layer}, T = ${n.T}, target at the last position; median of ${cfg.neuronReps} run(s)`);
  const cpuCols = (ms: number, speedup: number) => (sw ? [f(ms, 0), f(speedup, 2)] : []);
  out.push(
    table(
      ['method', 'ms', 'GFLOP', 'GFLOP/s', 'DePass speed-up', 'FLOP ratio', ...(sw ? ['CPU ms', 'speed-up by CPU'] : [])],
      [
        [
          `DePass (${n.depass.passes} pass(es) of ${n.depass.groupSize} neurons, forward included)`,
          f(n.depass.ms, 0),
          gf(n.depass.flops),
          f(n.depass.gflops),
          '1.00',
          '1.00',
          ...cpuCols(n.depass.cpuMs, 1),
        ],
        [
          `ablation, one neuron per pass (${n.single.sample} timed, extrapolated to ${n.neurons})`,
          f(n.single.ms, 0),
          gf(n.single.flops),
          f(n.single.gflops),
          f(n.speedupSingle, 2),
          f(n.single.flops / n.depass.flops),
          ...cpuCols(n.single.cpuMs, n.cpu.speedupSingle),
        ],
        [
          `ablation, ${n.batched.copies} copies per pass (${n.batched.passes} pass(es))`,
          f(n.batched.ms, 0),
          gf(n.batched.flops),
          f(n.batched.gflops),
          f(n.speedupBatched),
          f(n.flopRatioBatched),
          ...cpuCols(n.batched.cpuMs, n.cpu.speedupBatched),
        ],
      ],
    ),
  );
  out.push(
    `checks: one-at-a-time and batched ablation logits differ by at most ${n.maxDiffSingleVsBatched.toExponential(1)}; ` +
      `Spearman(DePass score, ablation effect) = ${f(n.rankCorrelation, 3)}`,
  );

  out.push(
    `\n4. Token-mode saving: token-mode time / (M x forward time) = ${f(p.token.ms, 1)} / (${p.token.components} x ${f(p.forward.ms, 1)}) = ${f(r.tokenSaving.time, 3)}`,
  );
  out.push(`   in FLOPs: ${f(r.tokenSaving.flops, 3)} (the triangle skip, and no unembedding per component)`);
  const d = p.headOnePass.difference;
  out.push(
    `\n4b. Head map in one pass / one pass per layer: time ${f(r.headMapSaving.time, 3)}, FLOPs ${f(r.headMapSaving.flops, 3)} ` +
      `(${p.head.passes} passes become one: the rest is carried once instead of once per layer)`,
  );
  out.push(
    `   scores, max |one pass - per layer| / max |score|: proportional rule ${d.proportional.toExponential(1)} (the same map), softmax rule ${f(d.softmax, 3)} (later MLPs share among more components)`,
  );

  const w = r.paths;
  out.push(
    `\n5. Kernel paths: the pipeline's model with ${Math.min(p.layers, 4)} layers, T = ${w.T}, by weight dtype and path; bytes per token of the prompt, matrix products only`,
  );
  out.push(
    table(
      ['weights', 'on the GPU', 'forward ms', 'token mode ms', 'forward MB/token', 'staged MB/token', 'token mode MB/token', 'staged MB/token'],
      w.weights.map((x) => [
        x.path,
        `${f(x.weightBytes / 2 ** 20, 1)} MiB`,
        f(x.forwardMs, 1),
        f(x.tokenMs, 1),
        f(x.forwardBytes / 1e6, 2),
        f(x.forwardStaged / 1e6, 2),
        f(x.tokenBytes / 1e6, 2),
        f(x.tokenStaged / 1e6, 2),
      ]),
    ),
  );
  out.push(
    "MB/token: bytes the matrix products read and write in device memory (each workgroup's tile loads, no cache); staged: written into workgroup memory",
  );
  for (const why of w.skipped) out.push(`not run: ${why}`);
  if ('skipped' in w.reductions) out.push(`reductions through subgroups: not run (${w.reductions.skipped})`);
  else
    out.push(
      table(
        ['reduction', 'shape', 'workgroup memory ms', 'subgroups ms', 'speed-up'],
        w.reductions.map((x) => [x.kernel, x.shape, f(x.workgroupMs, 3), f(x.subgroupsMs, 3), f(x.workgroupMs / x.subgroupsMs)]),
      ),
    );

  out.push('\nTargets');
  out.push(
    table(
      ['figure', 'value', 'target', 'met'],
      r.targets.map((t) => [t.name, f(t.value), `>= ${t.target}`, t.met ? 'yes' : 'NO']),
    ),
  );
  if (cfg.profile) {
    out.push(profileTable('forward', p.forward.profile, p.forward.matmulCheck));
    out.push(profileTable('token mode', p.token.profile, p.token.matmulCheck));
    out.push(profileTable('head map', p.head.profile, p.head.matmulCheck));
    out.push(profileTable('DePass neuron mode (forward included)', n.depass.profile, n.depass.matmulCheck));
  }
  out.push(`\ntotal ${f(r.elapsedSeconds, 0)} s`);
  return out.join('\n');
}
