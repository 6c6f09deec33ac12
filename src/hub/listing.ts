// A repository's files at one revision through the Hub's API (/api/models/<id>/revision/<rev>:
// commit hash and sizes), and the files this app reads: config.json, the tokenizer files and the
// safetensors weights (one file, or the shards model.safetensors.index.json names).

import { httpError, HubError, isAbort, isNetworkError } from './errors';
import type { RepoRef } from './repo-id';
import { COMMIT } from './repo-id';

export interface HubFile {
  /** Path in the repository ("config.json", "model-00001-of-00002.safetensors"). */
  path: string;
  size: number;
}

export interface RepoListing {
  id: string;
  /** The commit the revision resolved to (40 hex digits). */
  sha: string;
  files: HubFile[];
  /** The model asks users to accept conditions before downloading. */
  gated: boolean;
}

/** How to reach the Hub: its address and the fetch to use (the browser's, or a test's). */
export interface HubAccess {
  endpoint: string;
  fetch: typeof fetch;
}

export const DEFAULT_BRANCH = 'main';

const segments = (id: string) => id.split('/').map(encodeURIComponent).join('/');

/** The model's page on the Hub. */
export const modelPage = (endpoint: string, id: string) => `${endpoint}/${segments(id)}`;

/** The download address of one file at one revision. */
export const resolveUrl = (endpoint: string, id: string, revision: string, path: string) =>
  `${endpoint}/${segments(id)}/resolve/${encodeURIComponent(revision)}/${path.split('/').map(encodeURIComponent).join('/')}`;

export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** The listing of `ref` at its revision (the default branch when none). */
export async function listRepo(access: HubAccess, ref: RepoRef, token: string | undefined, signal?: AbortSignal): Promise<RepoListing> {
  const revision = ref.revision ?? DEFAULT_BRANCH;
  const url = `${access.endpoint}/api/models/${segments(ref.id)}/revision/${encodeURIComponent(revision)}?blobs=true`;
  let res: Response;
  try {
    res = await access.fetch(url, { headers: authHeaders(token), signal, cache: 'no-store' });
  } catch (e) {
    if (isAbort(e) || signal?.aborted) throw new HubError('cancelled', 'cancelled');
    if (isNetworkError(e)) throw new HubError('network', `could not reach the Hub to list ${ref.id}; check your connection and press Download again`);
    throw e;
  }
  if (!res.ok) {
    throw httpError(res.status, res.headers.get('X-Error-Code'), {
      id: ref.id,
      revision,
      file: null,
      withToken: !!token,
      gated: false,
      page: modelPage(access.endpoint, ref.id),
    });
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new HubError('damaged', `the Hub's file list for ${ref.id} is not JSON; try again later`);
  }
  return readListing(body, ref.id);
}

/** The listing's fields, checked: a commit hash and files with sizes. */
export function readListing(body: unknown, id: string): RepoListing {
  const b = body as { sha?: unknown; siblings?: unknown; gated?: unknown };
  if (typeof b !== 'object' || b === null || typeof b.sha !== 'string' || !COMMIT.test(b.sha) || !Array.isArray(b.siblings)) {
    throw new HubError('damaged', `the Hub's file list for ${id} lacks the commit or the files; try again later`);
  }
  const files: HubFile[] = [];
  for (const s of b.siblings as unknown[]) {
    const f = s as { rfilename?: unknown; size?: unknown; lfs?: { size?: unknown } };
    if (typeof f?.rfilename !== 'string') continue;
    const size = typeof f.size === 'number' ? f.size : typeof f.lfs?.size === 'number' ? f.lfs.size : null;
    if (size === null || !Number.isSafeInteger(size) || size < 0) {
      throw new HubError('damaged', `the Hub's file list for ${id} gives no size for ${f.rfilename}; try again later`);
    }
    files.push({ path: f.rfilename, size });
  }
  return { id, sha: b.sha, files, gated: b.gated !== undefined && b.gated !== false };
}

/** Weight formats this app does not read, for the message of a repository without safetensors. */
const OTHER_WEIGHTS = /\.(bin|gguf|pt|pth|ckpt|h5|msgpack|onnx|tflite|mlmodel|ot)$/i;

export interface DownloadPlan {
  /** config.json, tokenizer.json and, when present, tokenizer_config.json and special_tokens_map.json. */
  small: HubFile[];
  /** model.safetensors.index.json when the weights are sharded. */
  index: HubFile | null;
  /** The single weights file; for a sharded model, filled in from the index (shardsOf). */
  weights: HubFile[];
}

/**
 * The files to download from a listing. Only the repository's top level counts (subfolders hold
 * other exports: onnx/, gguf/…). A repository without safetensors weights is refused in one line
 * naming what it has instead.
 */
export function planDownload(listing: RepoListing): DownloadPlan {
  const top = listing.files.filter((f) => !f.path.includes('/'));
  const named = (name: string) => top.find((f) => f.path === name) ?? null;
  const id = listing.id;
  const config = named('config.json');
  const index = named('model.safetensors.index.json');
  const single = named('model.safetensors');
  const safetensors = top.filter((f) => f.path.endsWith('.safetensors'));
  if (!index && !single && safetensors.length === 0) {
    const others = listing.files.filter((f) => OTHER_WEIGHTS.test(f.path)).map((f) => f.path);
    const what =
      others.length > 0 ? `it has ${others.slice(0, 4).join(', ')}${others.length > 4 ? ` and ${others.length - 4} more` : ''}` : 'it has no weights at all';
    throw new HubError('no-weights', `${id} has no safetensors weights (${what}); DePass Studio reads safetensors only: choose a repository that has them`);
  }
  if (!config) throw new HubError('no-weights', `${id} has no config.json at its top level, so it is not a Transformers model folder this app reads`);
  const tokenizer = named('tokenizer.json');
  if (!tokenizer) throw new HubError('no-weights', `${id} has no tokenizer.json (the fast tokenizer this app needs); choose a repository that has one`);
  const small = [config, tokenizer, named('tokenizer_config.json'), named('special_tokens_map.json')].filter((f): f is HubFile => f !== null);
  if (index) return { small, index, weights: [] };
  if (single) return { small, index: null, weights: [single] };
  if (safetensors.length === 1) return { small, index: null, weights: [safetensors[0]] };
  throw new HubError('no-weights', `${id} has ${safetensors.length} .safetensors files but no model.safetensors.index.json saying which tensor is where`);
}

/** The shards a model.safetensors.index.json names, each checked against the listing. */
export function shardsOf(indexText: string, listing: RepoListing): HubFile[] {
  let map: unknown;
  try {
    map = (JSON.parse(indexText) as { weight_map?: unknown }).weight_map;
  } catch {
    throw new HubError('damaged', `${listing.id}: model.safetensors.index.json is not JSON`);
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new HubError('damaged', `${listing.id}: model.safetensors.index.json has no weight_map`);
  const names = [...new Set(Object.values(map as Record<string, unknown>))];
  if (names.length === 0) throw new HubError('damaged', `${listing.id}: model.safetensors.index.json names no shard`);
  return names.map((name) => {
    const f = typeof name === 'string' && !name.includes('/') ? listing.files.find((x) => x.path === name) : undefined;
    if (!f) throw new HubError('damaged', `${listing.id}: model.safetensors.index.json names ${String(name)}, which the repository lacks`);
    return f;
  });
}
