// Runs a fuzz suite: N seeded cases, each either loading (and then passing the suite's
// consistency checks) or ending in the suite's typed error, within the time limit, reading no
// more of each file than allowed and growing ArrayBuffer memory by no more than a bound tied to
// the input size. Collects every violation instead of stopping at the first. Knows no parser.
// Environment: DEPASS_FUZZ_N (cases per suite), DEPASS_FUZZ_SEED (another run), DEPASS_FUZZ_TRACE
// (print each case before it runs, to name one that never returns).

import type { ModelFile } from '../src/model/files';
import { countingBlob, type ReadCounter } from '../src/model/testing/counting-blob';
import { Rng } from './rng';
import type { SeedFile } from './seeds';

export interface FuzzCase<R> {
  /** The seed and mutations that made this input. */
  label: string;
  /** Size of the whole input (all files, or the link's characters). */
  inputBytes: number;
  /** What a refusal must name: the case's file paths (or, for links, the words it starts with). */
  names: readonly string[];
  /** The parsers under test on this input, and any use of the result that can still refuse it. */
  load(): Promise<R>;
  /** Invariants a successful load must satisfy; throws when one fails. */
  check(result: R): void;
  /** What the parsers read beyond their allowance (null when within it); asked whatever the outcome. */
  readProblem?(): string | null;
}

export interface FuzzSuite<R> {
  name: string;
  cases: number;
  seed: number;
  makeCase(rng: Rng, i: number): FuzzCase<R>;
  /** Why `error` is not an acceptable refusal of `c` (null when it is). */
  judgeError(error: unknown, c: FuzzCase<R>): string | null;
  /** Short name of a refusal, for the summary (e.g. the error code). */
  refusalKind?(error: unknown): string;
  /** ArrayBuffer growth allowed while one case of this many input bytes runs. */
  memoryBound(inputBytes: number): number;
  /** Default 1000 ms. */
  timeLimitMs?: number;
  /** A case still unsettled after this long is reported as a hang; default 10 s. */
  hangMs?: number;
}

export interface FuzzFailure {
  index: number;
  label: string;
  problem: string;
}

export interface FuzzReport {
  suite: string;
  cases: number;
  loaded: number;
  refused: number;
  slowestMs: number;
  slowestLabel: string;
  /** Largest ArrayBuffer growth seen in one case, and that case's input size. */
  maxGrowth: number;
  maxGrowthInput: number;
  kinds: Map<string, number>;
  failures: FuzzFailure[];
  /** Cases over the time limit once and within it when run again (other work on the machine). */
  retimed: { index: number; firstMs: number; againMs: number }[];
}

/** Cases per suite: DEPASS_FUZZ_N, else `fallback`. */
export function fuzzCount(fallback = 200): number {
  const n = Number(process.env['DEPASS_FUZZ_N']);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Suite seed: DEPASS_FUZZ_SEED, else `fallback` (so a run is the same run unless asked otherwise). */
export function fuzzSeed(fallback = 1): number {
  const n = Number(process.env['DEPASS_FUZZ_SEED']);
  return Number.isInteger(n) ? n : fallback;
}

const HANG = Symbol('hang');

type Outcome<R> = { kind: 'loaded'; result: R } | { kind: 'error'; error: unknown } | { kind: 'hang' };

export async function runFuzz<R>(suite: FuzzSuite<R>): Promise<FuzzReport> {
  const report: FuzzReport = {
    suite: suite.name,
    cases: 0,
    loaded: 0,
    refused: 0,
    slowestMs: 0,
    slowestLabel: '',
    maxGrowth: 0,
    maxGrowthInput: 0,
    kinds: new Map(),
    failures: [],
    retimed: [],
  };
  const limit = suite.timeLimitMs ?? 1000;
  const hangMs = suite.hangMs ?? 10_000;
  // A synchronous endless loop cannot be timed out from the same thread: tracing names the case.
  const trace = Boolean(process.env['DEPASS_FUZZ_TRACE']);
  for (let i = 0; i < suite.cases; i++) {
    const c = suite.makeCase(Rng.forCase(suite.seed, i), i);
    if (trace) process.stderr.write(`fuzz ${suite.name} #${i}: ${c.label.slice(0, 300)}\n`);
    const fail = (problem: string) => report.failures.push({ index: i, label: c.label, problem });

    const before = process.memoryUsage().arrayBuffers;
    const start = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hang = new Promise<typeof HANG>((ok) => (timer = setTimeout(() => ok(HANG), hangMs)));
    let outcome: Outcome<R>;
    try {
      const settled = await Promise.race([
        c.load().then(
          (result) => ({ kind: 'loaded' as const, result }),
          (error: unknown) => ({ kind: 'error' as const, error }),
        ),
        hang,
      ]);
      outcome = settled === HANG ? { kind: 'hang' } : settled;
    } catch (error) {
      // load() threw before returning a promise.
      outcome = { kind: 'error', error };
    }
    clearTimeout(timer);
    // Both measured before the checks run, while the result is still referenced (what a load
    // keeps counts, and so does its garbage not yet collected).
    let ms = performance.now() - start;
    const growth = process.memoryUsage().arrayBuffers - before;
    if (ms > limit && outcome.kind !== 'hang') {
      // On a shared machine a GC pause or another process can stretch one run past the limit;
      // a parser that is slow on this input is slow again on the same case, rebuilt from its seed.
      const again = suite.makeCase(Rng.forCase(suite.seed, i), i);
      const t0 = performance.now();
      await again.load().catch(() => undefined);
      const againMs = performance.now() - t0;
      if (againMs <= limit) report.retimed.push({ index: i, firstMs: ms, againMs });
      ms = Math.min(ms, againMs);
    }
    if (outcome.kind === 'loaded') {
      try {
        c.check(outcome.result);
      } catch (e) {
        fail(`loaded but inconsistent: ${e instanceof Error ? e.message : String(e)}`);
      }
    }

    report.cases++;
    if (ms > report.slowestMs) {
      report.slowestMs = ms;
      report.slowestLabel = `#${i} ${c.label}`;
    }
    if (growth > report.maxGrowth) {
      report.maxGrowth = growth;
      report.maxGrowthInput = c.inputBytes;
    }
    if (outcome.kind === 'hang') fail(`no outcome after ${hangMs} ms (hang)`);
    else if (outcome.kind === 'loaded') report.loaded++;
    else {
      const problem = suite.judgeError(outcome.error, c);
      if (problem) fail(problem);
      else {
        report.refused++;
        const kind = suite.refusalKind?.(outcome.error) ?? 'refused';
        report.kinds.set(kind, (report.kinds.get(kind) ?? 0) + 1);
      }
    }
    if (ms > limit) fail(`took ${ms.toFixed(0)} ms (limit ${limit} ms), twice`);
    const bound = suite.memoryBound(c.inputBytes);
    if (growth > bound) fail(`ArrayBuffer memory grew by ${growth} bytes for a ${c.inputBytes}-byte input (bound ${bound})`);
    const reads = c.readProblem?.();
    if (reads) fail(reads);
  }
  return report;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;

/** The suite's summary lines: cases, loaded OK, refused (by kind), slowest, memory, failures. */
export function formatReport(r: FuzzReport): string {
  const kinds = [...r.kinds.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lines = [
    `fuzz ${r.suite}: ${r.cases} cases, ${r.loaded} loaded OK, ${r.refused} refused, ${r.failures.length} failures; slowest ${r.slowestMs.toFixed(1)} ms`,
    `  slowest case: ${r.slowestLabel.slice(0, 200)}`,
    `  largest ArrayBuffer growth ${mb(r.maxGrowth)} (input ${mb(r.maxGrowthInput)})`,
    `  refusals: ${kinds || 'none'}`,
  ];
  if (r.retimed.length > 0) {
    lines.push(
      `  over the limit once, within it run again: ${r.retimed.map((t) => `#${t.index} ${t.firstMs.toFixed(0)} then ${t.againMs.toFixed(0)} ms`).join(', ')}`,
    );
  }
  for (const f of r.failures.slice(0, 20)) lines.push(`  FAIL #${f.index} [${f.label.slice(0, 300)}]: ${f.problem.slice(0, 500)}`);
  return lines.join('\n');
}

/** Failures as short strings, for an assertion whose diff shows them. */
export function failureLines(r: FuzzReport, max = 10): string[] {
  return r.failures.slice(0, max).map((f) => `#${f.index} [${f.label.slice(0, 200)}]: ${f.problem.slice(0, 400)}`);
}

// ---------------------------------------------------------------------------------------------
// Inputs as files, with what the parsers read counted per file.

export interface CountedFiles {
  files: ModelFile[];
  counters: Map<string, ReadCounter>;
  sizes: Map<string, number>;
  bytes: number;
}

export function countedFiles(list: readonly SeedFile[]): CountedFiles {
  const counters = new Map<string, ReadCounter>();
  const sizes = new Map<string, number>();
  const files = list.map((f) => {
    const counter: ReadCounter = { bytes: 0, reads: 0 };
    counters.set(f.path, counter);
    sizes.set(f.path, f.bytes.byteLength);
    return { path: f.path, blob: countingBlob(new Blob([f.bytes]), counter) };
  });
  return { files, counters, sizes, bytes: list.reduce((s, f) => s + f.bytes.byteLength, 0) };
}

/**
 * Null when every file was read at most `passes` times over plus `slack` bytes (headers read
 * twice); else which file was read how much.
 */
export function readsWithin(c: CountedFiles, passes: number, slack: number): string | null {
  for (const [path, counter] of c.counters) {
    const size = c.sizes.get(path)!;
    if (counter.bytes > passes * size + slack) {
      return `read ${counter.bytes} bytes of ${path} (${size} bytes) in ${counter.reads} reads; allowed ${passes} passes + ${slack}`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Refusals

/** Line breaks of any kind a display would honour. */
const LINE_BREAK = /[\n\r\u2028\u2029\u0085\v\f]/;
/** A refusal is a line for the user, not a dump of the input. */
export const MAX_MESSAGE_CHARS = 1000;

/** Why `e` is not a proper one-line refusal of class `type` whose message starts with one of `prefixes`. */
export function refusalProblem(e: unknown, type: abstract new (...args: never[]) => Error, prefixes: readonly string[]): string | null {
  if (!(e instanceof type)) {
    const name = e instanceof Error ? e.constructor.name : typeof e;
    const message = e instanceof Error ? e.message : String(e);
    return `threw ${name} (not ${type.name}): ${message.slice(0, 300)}`;
  }
  const m = e.message;
  if (LINE_BREAK.test(m)) return `message has a line break: ${JSON.stringify(m.slice(0, 300))}`;
  if (m.length > MAX_MESSAGE_CHARS) return `message is ${m.length} characters: ${JSON.stringify(m.slice(0, 200))}...`;
  if (!prefixes.some((p) => m.startsWith(p)))
    return `message does not start with ${prefixes.map((p) => JSON.stringify(p)).join(' or ')}: ${JSON.stringify(m.slice(0, 300))}`;
  return null;
}
