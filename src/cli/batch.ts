// Prompts by the thousand: one request per JSONL line, one result per output line as each finishes;
// ids already in the output are skipped (a killed job resumes), `--shard k/n` takes every n-th
// request, a malformed line is reported with its number and skipped. Running one is main.ts's.

import { closeSync, createReadStream, existsSync, fstatSync, openSync, readSync, truncateSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { DepassResult, Mode } from '../depass/result';

export const MODES: Mode[] = ['token', 'head', 'neuron', 'module', 'subspace'];

export interface BatchRequest {
  id: string;
  /** 1-based line of the prompts file. */
  line: number;
  prompt: string;
  modes?: Mode[];
  target?: number;
  contrast?: number;
  positions?: 'all' | 'last' | number[];
}

/** A line that is not a request, with why. */
export class LineError extends Error {}

const FIELDS = new Set(['id', 'prompt', 'target', 'contrast', 'positions', 'modes']);

const tokenId = (v: unknown, name: string): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new LineError(`${name} must be a token id (a whole number ≥ 0), got ${JSON.stringify(v)}`);
  return v;
};

/** One line of the prompts file as a request; without an id, the line number is its id. */
export function parseRequest(text: string, line: number): BatchRequest {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new LineError('not valid JSON');
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new LineError('not a JSON object');
  const o = j as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) throw new LineError(`unknown field '${k}' (expected ${[...FIELDS].join(', ')})`);
  if (typeof o.prompt !== 'string' || o.prompt.length === 0) throw new LineError("'prompt' must be a non-empty string");
  let id = String(line);
  if (o.id !== undefined) {
    if ((typeof o.id !== 'string' && typeof o.id !== 'number') || String(o.id).length === 0 || String(o.id).length > 200) {
      throw new LineError("'id' must be a string or a number (at most 200 characters)");
    }
    id = String(o.id);
  }
  const req: BatchRequest = { id, line, prompt: o.prompt };
  if (o.target !== undefined) req.target = tokenId(o.target, "'target'");
  if (o.contrast !== undefined) req.contrast = tokenId(o.contrast, "'contrast'");
  if (o.modes !== undefined) {
    const list = typeof o.modes === 'string' ? o.modes.split(',').map((m) => m.trim()) : o.modes;
    if (!Array.isArray(list) || list.length === 0) throw new LineError('\'modes\' must be a list such as ["token", "head"]');
    for (const m of list) if (!MODES.includes(m as Mode)) throw new LineError(`unknown mode ${JSON.stringify(m)} (choose from ${MODES.join(', ')})`);
    req.modes = list as Mode[];
  }
  if (o.positions !== undefined) {
    const p = o.positions;
    if (p === 'all' || p === 'last') req.positions = p;
    else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) req.positions = p as number[];
    else throw new LineError('\'positions\' must be "all", "last" or a list of positions');
  }
  return req;
}

export interface Shard {
  /** 1-based. */
  k: number;
  n: number;
}

/** "k/n" with 1 ≤ k ≤ n. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || k < 1 || k > n) throw new LineError(`--shard expects k/n with 1 ≤ k ≤ n (e.g. 2/4), got '${text}'`);
  return { k, n };
}

/** Bytes of `path` up to and including its last newline (a killed writer may leave half a line). */
function completeLength(fd: number, size: number): number {
  const block = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - block.length);
    const n = readSync(fd, block, 0, end - start, start);
    const at = block.subarray(0, n).lastIndexOf(0x0a);
    if (at >= 0) return start + at + 1;
    end = start;
  }
  return 0;
}

/** The id at the start of a result line as this tool writes it ({"id":…,…}), else from the whole line. */
function idOf(line: string): string | null {
  const m = /^\{"id":("(?:[^"\\]|\\.)*")/.exec(line);
  try {
    if (m) return JSON.parse(m[1]) as string;
    const j = JSON.parse(line) as { id?: unknown };
    return typeof j.id === 'string' ? j.id : null;
  } catch {
    return null;
  }
}

/**
 * The ids of the results already in `out`. A half-written last line (the job was killed while
 * writing it) is cut off first, so that the next result starts on a line of its own.
 */
export async function finishedIds(out: string): Promise<{ ids: Set<string>; cut: number }> {
  const ids = new Set<string>();
  if (!existsSync(out)) return { ids, cut: 0 };
  const fd = openSync(out, 'r');
  let size: number;
  let keep: number;
  try {
    size = fstatSync(fd).size;
    keep = completeLength(fd, size);
  } finally {
    closeSync(fd);
  }
  if (keep < size) truncateSync(out, keep);
  if (keep === 0) return { ids, cut: size - keep };
  let n = 0;
  const lines = createInterface({ input: createReadStream(out, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    const id = idOf(line);
    if (id === null) throw new LineError(`${out} line ${n} is not a result of this tool; remove that line (or choose another --out) and run again`);
    ids.add(id);
  }
  return { ids, cut: size - keep };
}

export interface BatchOptions {
  prompts: string;
  out: string;
  shard: Shard;
  run: (req: BatchRequest) => Promise<DepassResult>;
  /** Is this error about the request (skip it) rather than the tool (report it as a failure)? */
  isRequestError: (e: unknown) => boolean;
  log: (line: string) => void;
  /** Progress line: replaced in place on a terminal, printed at most once a second otherwise. */
  progress: (line: string, final: boolean) => void;
  now?: () => number;
}

export interface BatchSummary {
  /** Requests of this shard (well-formed or not). */
  mine: number;
  done: number;
  before: number;
  skipped: number;
  failed: number;
}

const seconds = (s: number) => (s < 90 ? `${s.toFixed(s < 10 ? 1 : 0)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

/** Runs this shard's requests that have no result in the output yet, appending one line each. */
export async function runBatch(o: BatchOptions): Promise<BatchSummary> {
  const now = o.now ?? (() => performance.now());
  const { ids: finished, cut } = await finishedIds(o.out);
  if (cut > 0) o.log(`dropped an unfinished last line of ${o.out} (${cut} bytes); that request runs again`);

  // First pass: which lines are this shard's, which are malformed, which ids repeat.
  const todo: BatchRequest[] = [];
  const firstLine = new Map<string, number>();
  const summary: BatchSummary = { mine: 0, done: 0, before: 0, skipped: 0, failed: 0 };
  let index = 0;
  let lineNo = 0;
  const input = createInterface({ input: createReadStream(o.prompts, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const text of input) {
    lineNo++;
    if (text.trim() === '') continue;
    const mine = index++ % o.shard.n === o.shard.k - 1;
    if (mine) summary.mine++;
    let req: BatchRequest;
    try {
      req = parseRequest(text, lineNo);
      const seen = firstLine.get(req.id);
      if (seen !== undefined) throw new LineError(`id '${req.id}' was used already on line ${seen}`);
      firstLine.set(req.id, lineNo);
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      if (mine) {
        o.log(`${o.prompts} line ${lineNo}: ${e.message}; skipped`);
        summary.skipped++;
      }
      continue;
    }
    if (!mine) continue;
    if (finished.has(req.id)) summary.before++;
    else todo.push(req);
  }

  const shardText = o.shard.n > 1 ? ` (shard ${o.shard.k}/${o.shard.n})` : '';
  const started = now();
  const report = (final: boolean) => {
    const spent = (now() - started) / 1000;
    const left = todo.length - summary.done - summary.failed;
    const each = summary.done > 0 ? spent / summary.done : null;
    const parts = [
      `${summary.done + summary.before}/${summary.mine - summary.skipped} done${shardText}`,
      summary.before > 0 ? `${summary.before} from before` : null,
      summary.skipped > 0 ? `${summary.skipped} skipped` : null,
      summary.failed > 0 ? `${summary.failed} failed` : null,
      each !== null ? `${seconds(each)} each` : null,
      !final && each !== null && left > 0 ? `about ${seconds(each * left)} left` : null,
    ].filter((x) => x !== null);
    o.progress(parts.join(' · '), final);
  };
  report(false);
  const fd = openSync(o.out, 'a');
  try {
    for (const req of todo) {
      let result: DepassResult;
      try {
        result = await o.run(req);
      } catch (e) {
        const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
        if (o.isRequestError(e)) {
          o.log(`${o.prompts} line ${req.line} (id ${req.id}): ${message}; skipped`);
          summary.skipped++;
        } else {
          o.log(`${o.prompts} line ${req.line} (id ${req.id}) failed: ${message}`);
          summary.failed++;
        }
        report(false);
        continue;
      }
      // One write per result: a killed job leaves whole lines (or one half line, cut on resume).
      writeSync(fd, JSON.stringify({ id: req.id, ...result }) + '\n');
      summary.done++;
      report(false);
    }
  } finally {
    closeSync(fd);
  }
  report(true);
  return summary;
}
