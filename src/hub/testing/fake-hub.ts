// The Hugging Face Hub's URL layout and headers as request -> answer: API listing, resolve/<rev>/<file>,
// large files redirected to a CDN host, ranges with ETags and If-Range, 401/403 for gated models,
// 404 codes, CORS. Unit tests use it through fake-fetch.ts; browser tests serve it (e2e/mock-hub.ts).

import { createHash } from 'node:crypto';
import { encodeSafetensors } from '../../model/testing/safetensors-writer';

export interface FakeRepo {
  id: string;
  files: Record<string, Uint8Array>;
  /** Files are downloaded only with this token (401 without one, 403 with another). */
  gatedToken?: string;
  /** The listing needs this token too (a private model). */
  privateToken?: string;
}

export interface HubRequest {
  method: string;
  url: URL;
  header(name: string): string | null;
}

export interface HubAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

const sha = (algo: 'sha1' | 'sha256', ...parts: (string | Uint8Array)[]) => {
  const h = createHash(algo);
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/** Files the Hub stores with Git LFS and serves from its CDN. */
const isLarge = (path: string, bytes: Uint8Array) => path.endsWith('.safetensors') || bytes.length > 100_000;

const EXPOSED = 'X-Repo-Commit, X-Linked-Size, X-Linked-Etag, X-Error-Code, X-Error-Message, ETag, Content-Range, Content-Length, Accept-Ranges, Location';

export class FakeHub {
  /** The commit each repository's main branch is at. */
  readonly commits = new Map<string, string>();

  constructor(
    readonly repos: FakeRepo[],
    /** Origin of the CDN host large files are redirected to. */
    readonly cdnOrigin: string,
  ) {
    for (const r of repos) this.commits.set(r.id, sha('sha1', r.id, ...Object.entries(r.files).flatMap(([p, b]) => [p, b])));
  }

  private repo(id: string) {
    return this.repos.find((r) => r.id === id) ?? null;
  }

  private blobs(): Map<string, Uint8Array> {
    const m = new Map<string, Uint8Array>();
    for (const r of this.repos) for (const b of Object.values(r.files)) m.set(sha('sha256', b), b);
    return m;
  }

  answer(host: 'hub' | 'cdn', req: HubRequest): HubAnswer {
    const origin = req.header('Origin');
    const cors: Record<string, string> =
      host === 'cdn'
        ? { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': EXPOSED }
        : { 'Access-Control-Allow-Origin': origin ?? '*', Vary: 'Origin', 'Access-Control-Expose-Headers': EXPOSED };
    if (req.method === 'OPTIONS') {
      return {
        status: 204,
        headers: {
          ...cors,
          'Access-Control-Allow-Headers': 'authorization, range, if-range, content-type',
          'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        },
        body: null,
      };
    }
    const a = host === 'cdn' ? this.cdn(req) : this.hub(req);
    return { ...a, headers: { ...cors, ...a.headers } };
  }

  private hub(req: HubRequest): HubAnswer {
    const path = decodeURIComponent(req.url.pathname);
    const token = /^Bearer (.+)$/.exec(req.header('Authorization') ?? '')?.[1] ?? null;
    const api = /^\/api\/models\/(.+?)\/revision\/([^/]+)$/.exec(req.url.pathname);
    if (api) {
      const id = decodeURIComponent(api[1]);
      const rev = decodeURIComponent(api[2]);
      const r = this.repo(id);
      if (!r || (r.privateToken && token !== r.privateToken)) return error(r ? 401 : 404, 'RepoNotFound', 'Repository not found');
      const commit = this.commits.get(id)!;
      if (rev !== 'main' && rev !== commit) return error(404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const blobs = req.url.searchParams.get('blobs') === 'true';
      const siblings = Object.entries(r.files).map(([rfilename, b]) => ({
        rfilename,
        ...(blobs
          ? {
              size: b.length,
              blobId: sha('sha1', `blob ${b.length}\0`, b),
              ...(isLarge(rfilename, b) ? { lfs: { sha256: sha('sha256', b), size: b.length, pointerSize: 134 } } : {}),
            }
          : {}),
      }));
      const info = { _id: commit.slice(0, 24), id, modelId: id, sha: commit, private: !!r.privateToken, gated: r.gatedToken ? 'manual' : false, siblings };
      return json(200, info);
    }
    const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (!m) return error(404, 'EntryNotFound', 'Not found');
    const [, id, rev, file] = m;
    const r = this.repo(id);
    if (!r) return error(404, 'RepoNotFound', 'Repository not found');
    const gate = r.gatedToken ?? r.privateToken;
    if (gate && token === null)
      return error(401, 'GatedRepo', `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
    if (gate && token !== gate) return error(403, 'GatedRepo', `Access to model ${id} is restricted and you are not in the authorized list.`);
    const commit = this.commits.get(id)!;
    if (rev !== 'main' && rev !== commit) return error(404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    const bytes = r.files[file];
    if (!bytes) return error(404, 'EntryNotFound', `${file} does not exist`);
    const repoHeaders = { 'X-Repo-Commit': commit };
    if (isLarge(file, bytes)) {
      const oid = sha('sha256', bytes);
      return {
        status: 302,
        headers: {
          ...repoHeaders,
          Location: `${this.cdnOrigin}/lfs/${oid}?X-Amz-Expires=3600&X-Amz-Signature=${oid.slice(0, 16)}`,
          'X-Linked-Size': String(bytes.length),
          'X-Linked-Etag': `"${oid}"`,
          ETag: `"${sha('sha1', `blob ${bytes.length}\0`, bytes)}"`,
        },
        body: null,
      };
    }
    return ranged(req, bytes, `"${sha('sha1', `blob ${bytes.length}\0`, bytes)}"`, repoHeaders);
  }

  private cdn(req: HubRequest): HubAnswer {
    const m = /^\/lfs\/([0-9a-f]{64})$/.exec(req.url.pathname);
    const bytes = m ? this.blobs().get(m[1]) : undefined;
    if (!m || !bytes)
      return { status: 403, headers: { 'Content-Type': 'application/xml' }, body: new TextEncoder().encode('<Error><Code>AccessDenied</Code></Error>') };
    return ranged(req, bytes, `"${m[1]}"`, {});
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): HubAnswer {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body: new TextEncoder().encode(JSON.stringify(body)) };
}

function error(status: number, code: string, message: string): HubAnswer {
  return json(status, { error: message }, { 'X-Error-Code': code, 'X-Error-Message': message });
}

/** The bytes, or the part a Range header asks for (unless If-Range names another version). */
function ranged(req: HubRequest, bytes: Uint8Array, etag: string, extra: Record<string, string>): HubAnswer {
  const base = { ...extra, ETag: etag, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.header('Range') ?? '');
  const ifRange = req.header('If-Range');
  if (!range || (ifRange !== null && ifRange !== etag)) {
    return { status: 200, headers: { ...base, 'Content-Length': String(bytes.length) }, body: req.method === 'HEAD' ? null : bytes };
  }
  const start = Number(range[1]);
  const end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
  if (start >= bytes.length || start > end) return { status: 416, headers: { ...base, 'Content-Range': `bytes */${bytes.length}` }, body: null };
  const part = bytes.subarray(start, end + 1);
  return {
    status: 206,
    headers: { ...base, 'Content-Range': `bytes ${start}-${end}/${bytes.length}`, 'Content-Length': String(part.length) },
    body: req.method === 'HEAD' ? null : part,
  };
}

/**
 * A model's files with the weights split into `n` shards (tensors in file order) and the
 * model.safetensors.index.json that maps them, as save_pretrained writes a sharded checkpoint.
 */
export function shardFiles(files: Record<string, Uint8Array>, n: number): Record<string, Uint8Array> {
  const st = files['model.safetensors'];
  const headerLen = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + headerLen))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const data = st.subarray(8 + headerLen);
  const names = Object.keys(header)
    .filter((k) => k !== '__metadata__')
    .sort((a, b) => header[a].data_offsets[0] - header[b].data_offsets[0]);
  const per = Math.ceil(names.length / n);
  const out: Record<string, Uint8Array> = {};
  for (const [path, b] of Object.entries(files)) if (path !== 'model.safetensors') out[path] = b;
  const weightMap: Record<string, string> = {};
  for (let k = 0; k < n; k++) {
    const shard = `model-${String(k + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
    const group = names.slice(k * per, (k + 1) * per);
    out[shard] = encodeSafetensors(
      group.map((name) => ({ name, dtype: header[name].dtype, shape: header[name].shape, bytes: data.subarray(...header[name].data_offsets) })),
      { format: 'pt' },
    );
    for (const name of group) weightMap[name] = shard;
  }
  const totalSize = names.reduce((a, name) => a + header[name].data_offsets[1] - header[name].data_offsets[0], 0);
  out['model.safetensors.index.json'] = new TextEncoder().encode(JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2));
  return out;
}
