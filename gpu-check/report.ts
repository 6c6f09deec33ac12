// The GPU check's report: one JSON document (format depass-gpu-check/1) and its readable summary
// in Markdown, both rewritten after every section so that a run cut short still leaves what it
// measured. Later sections add their own top-level fields; readers ignore fields they do not know.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport } from '../bench/report';
import { describeProfile, type DeviceProfile } from '../src/gpu/profile';
import { tileCols, type TileName, tileRows } from '../src/gpu/tiles';
import type { PackInfo } from './versions';

export const REPORT_FORMAT = 'depass-gpu-check/1';

export type Status = 'passed' | 'failed' | 'skipped' | 'error';

export interface SectionResult {
  id: string;
  title: string;
  status: Status | 'running';
  seconds: number;
  /** Why it failed, errored or was skipped, in one line. */
  message?: string;
}

/** One correctness check (a kernel against its twin, the engine against the reference, the CLI). */
export interface CheckResult {
  section: string;
  name: string;
  passed: boolean;
  ms: number;
  comparisons: number;
  /** Largest error / tolerance over the check's closeness comparisons (passing: at most 1). */
  worstRatio: number;
  error?: string;
  /** Not run: what the device lacks for it (a feature, a limit). */
  skipped?: string;
}

/** One timed attribution run on random weights of a real model's shape, as the CLI runs it. */
export interface TimingResult {
  /** e.g. 'SmolLM2-135M head map'. */
  name: string;
  model: string;
  dtype: string;
  layers: number;
  T: number;
  /** 'forward', or the runDepass modes timed (each run includes its forward pass). */
  what: string;
  /** Median of the warm runs, ms. */
  ms: number;
  /** The first run (pipelines compiled, buffers allocated), ms. */
  coldMs: number;
  samples: number[];
  /** Largest |sum of scores - logit| over the targets, relative to the largest |logit|. */
  completeness?: number;
  goal?: { ms: number; met: boolean };
}

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
  /** Features the check's device was created with. */
  deviceFeatures: string[];
}

export interface GpuCheckReport {
  format: typeof REPORT_FORMAT;
  size: 'quick' | 'full';
  status: 'running' | 'passed' | 'failed';
  started: string;
  finished: string | null;
  elapsedSeconds: number;
  versions: PackInfo & { runtimeNode: string };
  machine: { os: string; cpus: string; memoryGiB: number; glibc: string | null; nvidiaDriver: string | null };
  /** What run.sh found: the Vulkan loader, the ICD files, and what was missing. */
  vulkan: { loader: string; icds: string[]; notes: string[] };
  adapter: AdapterReport | null;
  sections: SectionResult[];
  checks: CheckResult[];
  timings: TimingResult[];
  /** What the engine uses on this device: 16-bit path, reductions, the tile plan and its calibration. */
  profile?: DeviceProfile;
  /** The benchmark's own report (npm run bench -- --full, or --quick), Chromium part left out. */
  bench: BenchReport | null;
  /** Everything that went wrong, one line each. */
  problems: string[];
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

function mdTable(head: string[], rows: (string | number)[][]): string {
  const line = (r: (string | number)[]) => `| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), `|${head.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

export function summaryMarkdown(r: GpuCheckReport): string {
  const out: string[] = [];
  const a = r.adapter;
  out.push(`# DePass Studio GPU check (${r.size})`, '');
  out.push(
    `**${r.status.toUpperCase()}** - ${r.started}${r.finished ? ` to ${r.finished}` : ' (still running or cut short)'}, ${f(r.elapsedSeconds, 0)} s`,
    '',
  );
  out.push(
    `- adapter: ${a ? `${[a.vendor, a.architecture, a.device || a.description].filter(Boolean).join(' ')}${a.isFallbackAdapter ? ' (software/fallback adapter)' : ''}` : 'none'}`,
  );
  if (a) {
    out.push(`- driver: ${a.description || 'not reported'}`);
    out.push(`- features: ${a.features.join(', ') || 'none'}`);
    const keys = [
      'maxStorageBufferBindingSize',
      'maxBufferSize',
      'maxComputeWorkgroupStorageSize',
      'maxComputeInvocationsPerWorkgroup',
      'maxComputeWorkgroupSizeX',
      'maxSubgroupSize',
      'minSubgroupSize',
    ];
    out.push(
      `- limits: ${keys
        .filter((k) => k in a.limits)
        .map((k) => `${k} ${a.limits[k]}`)
        .join(', ')} (all in report.json)`,
    );
  }
  if (r.profile) {
    const p = r.profile;
    out.push(`- engine profile: ${describeProfile(p)}`);
    if (p.tiles.calibration) {
      const c = p.tiles.calibration;
      const rates = Object.entries(c.gflops).map(([t, g]) => `${t} (${tileRows(t as TileName)} x ${tileCols(t as TileName)}) ${f(g!, 2)}`);
      out.push(`  - tile calibration on ${c.R} x ${c.N} x ${c.K}, GFLOP/s: ${rates.join(', ')}; ${f(c.ms / 1000, 1)} s`);
    }
  }
  out.push(`- Vulkan: loader ${r.vulkan.loader || 'not reported'}; ICDs ${r.vulkan.icds.join(', ') || 'not reported'}`);
  for (const n of r.vulkan.notes) out.push(`  - ${n}`);
  out.push(
    `- machine: ${r.machine.os}, ${r.machine.cpus}, ${r.machine.memoryGiB} GiB, glibc ${r.machine.glibc ?? '?'}, NVIDIA driver ${r.machine.nvidiaDriver ?? 'not found'}`,
  );
  const v = r.versions;
  out.push(
    `- versions: depass-studio ${v.project} (${v.commit}), Node ${v.runtimeNode}, webgpu (Dawn) ${v.webgpu}, TF.js ${v.tfjs}, pack built ${v.builtAt}`,
    '',
  );

  if (r.problems.length) {
    out.push('## Problems', '', ...r.problems.map((p) => `- ${p}`), '');
  }

  out.push('## Sections', '');
  out.push(
    mdTable(
      ['section', 'status', 's', 'note'],
      r.sections.map((s) => [s.title, s.status, f(s.seconds), s.message ?? '']),
    ),
    '',
  );

  if (r.checks.length) {
    const bySection = new Map<string, CheckResult[]>();
    for (const c of r.checks) bySection.set(c.section, [...(bySection.get(c.section) ?? []), c]);
    out.push('## Correctness', '');
    out.push(
      mdTable(
        ['checks', 'passed', 'failed', 'unsupported here', 'closest call (error / tolerance)'],
        [...bySection].map(([s, cs]) => [
          s,
          cs.filter((c) => c.passed && !c.skipped).length,
          cs.filter((c) => !c.passed).length,
          cs.filter((c) => c.skipped).length,
          f(Math.max(0, ...cs.filter((c) => !c.skipped).map((c) => c.worstRatio)), 3),
        ]),
      ),
      '',
    );
    const failed = r.checks.filter((c) => !c.passed);
    if (failed.length) out.push('Failed:', '', ...failed.map((c) => `- ${c.section} / ${c.name}: ${c.error ?? ''}`), '');
    const reasons = new Map<string, number>();
    for (const c of r.checks) if (c.skipped) reasons.set(c.skipped, (reasons.get(c.skipped) ?? 0) + 1);
    if (reasons.size) out.push('Not run on this device:', '', ...[...reasons].map(([why, n]) => `- ${n} checks: ${why}`), '');
  }

  if (r.timings.length) {
    out.push('## Real-shape timings (random weights, as the CLI runs them)', '');
    out.push(
      mdTable(
        ['run', 'model', 'dtype', 'layers', 'T', 'warm ms', 'cold ms', 'completeness', 'goal'],
        r.timings.map((t) => [
          t.name,
          t.model,
          t.dtype,
          t.layers,
          t.T,
          f(t.ms),
          f(t.coldMs),
          t.completeness === undefined ? '' : t.completeness.toExponential(1),
          t.goal ? `< ${t.goal.ms} ms: ${t.goal.met ? 'met' : 'NOT met'}` : '',
        ]),
      ),
      '',
    );
  }

  if (r.bench) {
    const b = r.bench;
    out.push(`## Benchmark (${b.mode})`, '');
    out.push(
      `Best kernel rate ${f(b.kernel.bestGflops, 2)} GFLOP/s (${b.kernel.best.R} x ${b.kernel.best.N} x ${b.kernel.best.K}); ${f(b.elapsedSeconds, 0)} s. The full table is \`bench.txt\`.`,
      '',
      `Head map in one pass / one pass per layer (${b.pipeline.head.passes} layers): time ${f(b.headMapSaving.time, 3)}, FLOPs ${f(b.headMapSaving.flops, 3)}.`,
      '',
      mdTable(
        ['weights', 'forward ms', 'token mode ms', 'forward MB/token', 'token mode MB/token'],
        b.paths.weights.map((w) => [w.path, f(w.forwardMs), f(w.tokenMs), f(w.forwardBytes / 1e6, 2), f(w.tokenBytes / 1e6, 2)]),
      ),
      '',
    );
    out.push(
      mdTable(
        ['figure', 'value', 'target', 'met'],
        b.targets.map((t) => [t.name, f(t.value, 2), `>= ${t.target}`, t.met ? 'yes' : 'NO']),
      ),
      '',
    );
  }
  return out.join('\n') + '\n';
}

/** Writes report.json and summary.md into `dir` (each replaced whole, never half written). */
export function writeReport(dir: string, r: GpuCheckReport): void {
  mkdirSync(dir, { recursive: true });
  const put = (name: string, text: string) => {
    const tmp = join(dir, `.${name}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(dir, name));
  };
  put('report.json', JSON.stringify(r, null, 1) + '\n');
  put('summary.md', summaryMarkdown(r));
}
