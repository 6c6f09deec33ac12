// A model from the Hub onto the remembered-models shelf: list it, take it from the shelf when that
// commit is there, else download the small files, check config.json, download the weights with
// progress, fingerprint and move them onto the shelf; the caller opens it like a remembered model.

import { describeModel } from '../model/config';
import { ModelFormatError } from '../model/errors';
import type { ModelFile } from '../model/files';
import { fingerprint } from '../model/fingerprint';
import { sizeText, type DirHandleLike, type FileHandleLike, type ModelShelf, type RememberedModel } from '../share/remembered';
import { downloadFile, type RetryPolicy } from './download';
import { HubError, type HubAsk } from './errors';
import { listRepo, modelPage, planDownload, resolveUrl, shardsOf, type HubAccess, type HubFile, type RepoListing } from './listing';
import type { RepoRef } from './repo-id';

export interface HubProgress {
  stage: 'listing' | 'downloading' | 'checking' | 'saving';
  /** The file being downloaded. */
  file: string | null;
  done: number;
  /** Bytes of all files; 0 until known. */
  total: number;
  /** Bytes per second over the last few seconds; null until measured. */
  rate: number | null;
  secondsLeft: number | null;
}

export interface FetchOptions {
  access: HubAccess;
  ref: RepoRef;
  /** Sent to the Hub only, as "Authorization: Bearer"; never stored. */
  token?: string;
  shelf: ModelShelf;
  signal: AbortSignal;
  onProgress?: (p: HubProgress) => void;
  retry?: RetryPolicy;
  /** Milliseconds, for the rate (tests pass a clock). */
  now?: () => number;
}

export interface FetchedModel {
  listing: RepoListing;
  /** The shelf's entry for the model. */
  model: RememberedModel;
  /** False when that commit was remembered already and nothing was downloaded. */
  downloaded: boolean;
}

/** Progress callbacks at most this often (plus one at each file's end). */
const EVERY_MS = 100;
/** The rate is measured over this window. */
const RATE_WINDOW_MS = 5000;

/** Done bytes over time: the rate over a sliding window, and what is left. */
class Meter {
  private samples: [number, number][] = [];
  private last = -Infinity;
  constructor(
    private readonly now: () => number,
    private readonly emit: (p: HubProgress) => void,
  ) {}
  report(p: Omit<HubProgress, 'rate' | 'secondsLeft'>, force = false): void {
    const t = this.now();
    const prev = this.samples[this.samples.length - 1];
    // A file that starts over moves "done" back: the old samples no longer describe a rate.
    if (prev && p.done < prev[1]) this.samples = [];
    this.samples.push([t, p.done]);
    while (this.samples.length > 2 && t - this.samples[0][0] > RATE_WINDOW_MS) this.samples.shift();
    if (!force && t - this.last < EVERY_MS) return;
    this.last = t;
    const [t0, d0] = this.samples[0];
    const rate = t - t0 >= 500 ? ((p.done - d0) * 1000) / (t - t0) : null;
    const secondsLeft = rate && rate > 0 && p.total > 0 ? Math.max(0, (p.total - p.done) / rate) : null;
    this.emit({ ...p, rate, secondsLeft });
  }
}

/** The staging folder's key: one per repository and commit. */
const stagingKey = (l: RepoListing) => `${l.id}@${l.sha}`;

export async function fetchModel(o: FetchOptions): Promise<FetchedModel> {
  const emit = o.onProgress ?? (() => {});
  const meter = new Meter(o.now ?? (() => performance.now()), emit);
  emit({ stage: 'listing', file: null, done: 0, total: 0, rate: null, secondsLeft: null });
  const listing = await listRepo(o.access, o.ref, o.token, o.signal);
  const known = (await o.shelf.list()).find((m) => m.source?.hub === listing.id && m.source.revision === listing.sha);
  if (known) return { listing, model: known, downloaded: false };

  const plan = planDownload(listing);
  const key = stagingKey(listing);
  const dir = await o.shelf.staging(key);
  const repoName = listing.id.slice(listing.id.lastIndexOf('/') + 1);
  const staged: { path: string; handle: FileHandleLike }[] = [];
  let total = [...plan.small, ...(plan.index ? [plan.index] : []), ...plan.weights].reduce((a, f) => a + f.size, 0);
  let finished = 0;
  let doneNow = 0;
  const ask = (file: string): HubAsk => ({
    id: listing.id,
    revision: listing.sha,
    file,
    withToken: !!o.token,
    gated: listing.gated,
    page: modelPage(o.access.endpoint, listing.id),
  });

  const fetchOne = async (f: HubFile) => {
    const handle = await downloadFile({
      access: o.access,
      url: resolveUrl(o.access.endpoint, listing.id, listing.sha, f.path),
      size: f.size,
      dir,
      name: f.path,
      token: o.token,
      signal: o.signal,
      ask: ask(f.path),
      retry: o.retry,
      onBytes: (have) => {
        doneNow = finished + have;
        meter.report({ stage: 'downloading', file: f.path, done: doneNow, total });
      },
    });
    finished += f.size;
    meter.report({ stage: 'downloading', file: f.path, done: finished, total }, true);
    staged.push({ path: `${repoName}/${f.path}`, handle });
    return handle;
  };

  try {
    // The index first (it says which shards there are), then config and tokenizer: the config is
    // checked before a single weight is fetched.
    if (plan.index) {
      const h = await fetchOne(plan.index);
      plan.weights = shardsOf(await (await h.getFile()).text(), listing);
      total += plan.weights.reduce((a, f) => a + f.size, 0);
    }
    const configHandle = await fetchOne(plan.small[0]);
    for (const f of plan.small.slice(1)) await fetchOne(f);
    checkConfig(await (await configHandle.getFile()).text(), `${repoName}/config.json`, repoName);

    const have = await stagedBytes(dir, plan.weights);
    const need = plan.weights.reduce((a, f) => a + f.size, 0) - have;
    const free = await o.shelf.freeBytes();
    if (free !== null && free < need) throw new HubError('quota', 'not enough storage space');
    for (const f of plan.weights) await fetchOne(f);

    meter.report({ stage: 'checking', file: null, done: total, total }, true);
    const files: ModelFile[] = await Promise.all(staged.map(async (s) => ({ path: s.path, blob: await s.handle.getFile() })));
    const fp = await fingerprint(files);
    meter.report({ stage: 'saving', file: null, done: total, total }, true);
    const model = await o.shelf.adopt({ name: listing.id, fingerprint: fp, source: { hub: listing.id, revision: listing.sha } }, staged, key);
    return { listing, model, downloaded: true };
  } catch (e) {
    throw await explain(e, o, key, listing, doneNow, total);
  }
}

/** Refuses a model this app cannot run before its weights are downloaded (ModelFormatError). */
function checkConfig(text: string, path: string, name: string): void {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    throw new ModelFormatError('bad-json', path, 'is not valid JSON');
  }
  describeModel(config, path, name);
}

/** Bytes of these files already in the staging folder (from an interrupted download). */
async function stagedBytes(dir: DirHandleLike, files: HubFile[]): Promise<number> {
  let n = 0;
  for (const f of files) {
    try {
      n += Math.min(f.size, (await (await dir.getFileHandle(f.path)).getFile()).size);
    } catch {
      // Not started yet.
    }
  }
  return n;
}

/**
 * The error to show, with what to do. Cancelling and refused files clear the staging folder;
 * a dropped connection or a full disk keep it, so Download continues where it stopped.
 */
async function explain(e: unknown, o: FetchOptions, key: string, listing: RepoListing, done: number, total: number): Promise<unknown> {
  const clear = () => o.shelf.clearStaging(key).catch(() => undefined);
  if (!(e instanceof HubError)) {
    await clear();
    return e;
  }
  switch (e.kind) {
    case 'cancelled':
      await clear();
      return e;
    case 'network':
      return new HubError(
        'network',
        `the connection to the Hub was lost (${sizeText(done)} of ${sizeText(total)} of ${listing.id} downloaded); check your connection and press Download again: it continues where it stopped`,
      );
    case 'quota': {
      const free = await o.shelf.freeBytes();
      return new HubError(
        'quota',
        `not enough storage space: ${listing.id} needs ${sizeText(total)}${free !== null ? ` and this browser allows this site ${sizeText(free)} more` : ''}; remove remembered models or free disk space, then press Download again`,
      );
    }
    case 'damaged':
      await clear();
      return e;
    default:
      return e;
  }
}
