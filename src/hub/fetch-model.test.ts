// A model from a stand-in Hub onto the remembered-models shelf (in-memory file system): the bundled
// demo model arrives byte for byte with its fingerprint and source, with progress; a dropped
// connection resumes with a range request; a gated model needs a token that never reaches the CDN;
// every refusal (404, 401, 403, no safetensors, unsupported config, full disk, offline) is one line
// that says what to do; cancelling leaves nothing behind; a remembered commit is not downloaded again.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../model/fingerprint';
import { filesFromPath } from '../node/files';
import { ModelShelf } from '../share/remembered';
import { MemoryDir, MemoryStorage } from '../share/testing/memory-opfs';
import { HubError } from './errors';
import { fetchModel, type HubProgress } from './fetch-model';
import { parseRepoRef } from './repo-id';
import { fakeFetch } from './testing/fake-fetch';
import { FakeHub, shardFiles } from './testing/fake-hub';

const DEMO = resolve(process.cwd(), 'public/models/demo-llama');
const NAMES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const demoFiles = (): Record<string, Uint8Array> => Object.fromEntries(NAMES.map((f) => [f, new Uint8Array(readFileSync(resolve(DEMO, f)))]));
const HUB = 'http://hub.test';
const CDN = 'http://cdn.test';
const TOKEN = 'hf_test_0123456789abcdef';
const enc = (s: string) => new TextEncoder().encode(s);
/** Byte equality without the deep-equality walk (slow on megabytes). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function setup() {
  const files = demoFiles();
  const hub = new FakeHub(
    [
      {
        id: 'depass/demo-llama',
        files: { ...files, 'README.md': enc('# demo'), '.gitattributes': enc('*.safetensors filter=lfs'), 'onnx/model.onnx': enc('x') },
      },
      { id: 'depass/demo-llama-sharded', files: shardFiles(files, 2) },
      { id: 'gated/demo-llama', files, gatedToken: TOKEN },
      { id: 'private/demo-llama', files, privateToken: TOKEN },
      { id: 'depass/only-bin', files: { 'config.json': files['config.json'], 'pytorch_model.bin': enc('pt'), 'model-q4.gguf': enc('gguf') } },
      { id: 'depass/bert', files: { ...files, 'config.json': enc('{"model_type":"bert"}') } },
    ],
    CDN,
  );
  const net = fakeFetch(hub, HUB);
  const storage = new MemoryStorage();
  const shelf = new ModelShelf(storage);
  let clock = 0;
  const run = (input: string, o: { token?: string; signal?: AbortSignal; onProgress?: (p: HubProgress) => void } = {}) =>
    fetchModel({
      access: { endpoint: HUB, fetch: net.fetch },
      ref: parseRepoRef(input, HUB),
      token: o.token,
      shelf,
      signal: o.signal ?? new AbortController().signal,
      onProgress: o.onProgress,
      retry: { attempts: 2, delayMs: 1 },
      now: () => (clock += 50),
    });
  return { hub, net, storage, shelf, run, files };
}

async function refusal(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HubError);
    expect((e as Error).message).not.toContain('\n');
    return e as HubError;
  }
  throw new Error('expected a HubError');
}

const staged = (storage: MemoryStorage) => [...((storage.top.entries.get('depass-downloads') as MemoryDir | undefined)?.entries.keys() ?? [])];

describe('a model from the Hub', () => {
  it('arrives byte for byte on the shelf, with its fingerprint, source and progress', async () => {
    const { hub, net, shelf, run, files, storage } = setup();
    const events: HubProgress[] = [];
    const got = await run('depass/demo-llama', { onProgress: (p) => events.push(p) });
    const sha = hub.commits.get('depass/demo-llama')!;
    expect(got.downloaded).toBe(true);
    expect(got.listing.sha).toBe(sha);
    expect(got.model.source).toEqual({ hub: 'depass/demo-llama', revision: sha });
    expect(got.model.name).toBe('depass/demo-llama');
    // The same fingerprint as the bundled folder read from disk.
    expect(got.model.fingerprint).toBe(await fingerprint(await filesFromPath(DEMO)));
    const opened = await shelf.open(got.model.fingerprint);
    expect(opened.files.map((f) => f.path).sort()).toEqual(NAMES.map((n) => `demo-llama/${n}`).sort());
    for (const f of opened.files) expect(same(new Uint8Array(await f.blob.arrayBuffer()), files[f.path.slice('demo-llama/'.length)]), f.path).toBe(true);
    // Only what the model needs was asked for: the listing, the small files, the weights once.
    const asked = net.log.filter((r) => r.host === 'hub').map((r) => r.path);
    expect(asked[0]).toBe('/api/models/depass/demo-llama/revision/main');
    expect(asked.slice(1).sort()).toEqual(NAMES.map((n) => `/depass/demo-llama/resolve/${sha}/${n}`).sort());
    expect(net.log.filter((r) => r.host === 'cdn').map((r) => r.status)).toEqual([200]);
    // Moved, not copied; the staging folder is gone.
    expect(storage.moves).toBe(NAMES.length);
    expect(staged(storage)).toEqual([]);
    // Progress: stages in order, bytes rising to the total, a rate and the time left once measured.
    const total = NAMES.reduce((a, n) => a + files[n].length, 0);
    const downloading = events.filter((e) => e.stage === 'downloading');
    expect(events[0].stage).toBe('listing');
    expect(events.map((e) => e.stage).slice(-2)).toEqual(['checking', 'saving']);
    expect(downloading.at(-1)!.done).toBe(total);
    expect(downloading.every((e) => e.total === total && e.done <= total)).toBe(true);
    downloading.forEach((e, i) => i > 0 && expect(e.done).toBeGreaterThanOrEqual(downloading[i - 1].done));
    expect(downloading.some((e) => e.done > 0 && e.done < total && e.rate! > 0 && e.secondsLeft! > 0 && e.file === 'model.safetensors')).toBe(true);
  });

  it('continues a dropped download with a range request, without starting over', async () => {
    const { net, run, files, shelf } = setup();
    net.drops.push({ path: /^\/lfs\//, after: 1_000_000, times: 1 });
    const got = await run('depass/demo-llama');
    const cdn = net.log.filter((r) => r.host === 'cdn');
    expect(cdn.map((r) => [r.status, r.range])).toEqual([
      [200, null],
      [206, 'bytes=1000000-'],
    ]);
    // The second answer came with the first one's ETag, so a changed file would have come whole.
    expect(cdn[1].ifRange).toMatch(/^"[0-9a-f]{64}"$/);
    const weights = (await shelf.open(got.model.fingerprint)).files.find((f) => f.path.endsWith('model.safetensors'))!;
    expect(same(new Uint8Array(await weights.blob.arrayBuffer()), files['model.safetensors'])).toBe(true);
  });

  it('starts a file again, rather than asking for a range, when the answer did not say it holds the file itself', async () => {
    const { net, run } = setup();
    net.chunked = /tokenizer\.json$/;
    net.drops.push({ path: /tokenizer\.json$/, after: 5000, times: 1 });
    await run('depass/demo-llama');
    expect(net.log.filter((r) => r.path.endsWith('/tokenizer.json')).map((r) => [r.status, r.range])).toEqual([
      [200, null],
      [200, null],
    ]);
  });

  it('keeps what arrived when the connection stays down, and the next attempt continues from there', async () => {
    const { net, run, files, storage } = setup();
    // 700,000 bytes arrive, then every retry gets nothing.
    net.drops.push({ path: /^\/lfs\//, after: 700_000, times: 1 }, { path: /^\/lfs\//, after: 0, times: 10 });
    const e = await refusal(run('depass/demo-llama'));
    expect(e.kind).toBe('network');
    expect(e.message).toMatch(
      /^the connection to the Hub was lost \(.* of 3\.\d MB of depass\/demo-llama downloaded\); check your connection and press Download again: it continues where it stopped$/,
    );
    expect(staged(storage)).toHaveLength(1);
    net.drops.length = 0;
    const before = net.log.length;
    const got = await run('depass/demo-llama');
    const again = net.log.slice(before).filter((r) => r.host === 'cdn');
    // 700,000 bytes were kept from the first attempt (its later tries got nothing more).
    expect(again.map((r) => [r.status, r.range])).toEqual([[206, 'bytes=700000-']]);
    expect(got.model.bytes).toBe(NAMES.reduce((a, n) => a + files[n].length, 0));
  });

  it('downloads the shards an index names', async () => {
    const { run, shelf } = setup();
    const got = await run('depass/demo-llama-sharded');
    const paths = (await shelf.open(got.model.fingerprint)).files.map((f) => f.path).sort();
    expect(paths).toEqual(
      [
        'config.json',
        'model-00001-of-00002.safetensors',
        'model-00002-of-00002.safetensors',
        'model.safetensors.index.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ].map((n) => `demo-llama-sharded/${n}`),
    );
  });

  it('takes a remembered commit from the shelf without downloading it again', async () => {
    const { net, run } = setup();
    const first = await run('depass/demo-llama');
    const before = net.log.length;
    const second = await run(`depass/demo-llama@${first.listing.sha}`);
    expect(second.downloaded).toBe(false);
    expect(second.model.fingerprint).toBe(first.model.fingerprint);
    expect(net.log.slice(before).map((r) => r.path)).toEqual([`/api/models/depass/demo-llama/revision/${first.listing.sha}`]);
  });

  it('needs a token for a gated model, sends it to the Hub only, and says what to do without one', async () => {
    const { net, run } = setup();
    const none = await refusal(run('gated/demo-llama'));
    expect(none.kind).toBe('auth');
    expect(none.message).toBe(
      'gated/demo-llama is gated: accept its conditions on http://hub.test/gated/demo-llama, then paste an access token that can read it (huggingface.co/settings/tokens) and press Download again',
    );
    const wrong = await refusal(run('gated/demo-llama', { token: 'hf_wrong' }));
    expect(wrong.kind).toBe('forbidden');
    expect(wrong.message).toMatch(/^your access token may not read gated\/demo-llama: accept its conditions on http:\/\/hub\.test\/gated\/demo-llama/);
    const before = net.log.length;
    const got = await run('gated/demo-llama', { token: TOKEN });
    expect(got.downloaded).toBe(true);
    const after = net.log.slice(before);
    expect(after.filter((r) => r.host === 'hub').every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(after.filter((r) => r.host === 'cdn').length).toBeGreaterThan(0);
    expect(after.filter((r) => r.host === 'cdn').every((r) => r.authorization === null)).toBe(true);
    // The token is in no message and nowhere on the shelf.
    expect(JSON.stringify(got.model)).not.toContain(TOKEN);
    expect([none.message, wrong.message].join()).not.toContain('hf_wrong');
  });

  it('says what to do for a private or missing model, a missing revision, and no safetensors', async () => {
    const { run } = setup();
    expect((await refusal(run('private/demo-llama'))).message).toBe(
      'private/demo-llama was not found or is private: check the id, or paste an access token that can read it (huggingface.co/settings/tokens)',
    );
    expect((await run('private/demo-llama', { token: TOKEN })).downloaded).toBe(true);
    const missing = await refusal(run('depass/nothing-here'));
    expect([missing.kind, missing.message]).toEqual(['not-found', 'depass/nothing-here is not on the Hub: check the id (owner/name)']);
    expect((await refusal(run('depass/demo-llama@v9'))).message).toBe("depass/demo-llama has no revision 'v9': check the branch, tag or commit");
    const bin = await refusal(run('depass/only-bin'));
    expect([bin.kind, bin.message]).toEqual([
      'no-weights',
      'depass/only-bin has no safetensors weights (it has pytorch_model.bin, model-q4.gguf); DePass Studio reads safetensors only: choose a repository that has them',
    ]);
  });

  it('refuses a model this app cannot run before downloading its weights', async () => {
    const { net, run, storage } = setup();
    await expect(run('depass/bert')).rejects.toThrow(/depass\/bert\/config\.json|bert\/config\.json: model_type 'bert' is not a transformer decoder/);
    expect(net.log.filter((r) => r.host === 'cdn')).toEqual([]);
    expect(staged(storage)).toEqual([]);
  });

  it('refuses up front when the disk is too full, and when it fills during the download', async () => {
    const { run, storage, net } = setup();
    storage.quota = 100_000;
    const early = await refusal(run('depass/demo-llama'));
    expect(early.kind).toBe('quota');
    expect(early.message).toMatch(
      /^not enough storage space: depass\/demo-llama needs 3\.\d MB and this browser allows this site \d+(\.\d)? KB more; remove remembered models or free disk space, then press Download again$/,
    );
    expect(net.log.filter((r) => r.host === 'cdn')).toEqual([]);
    // The estimate says there is room, but writing fails (another tab filled the disk meanwhile).
    storage.quota = 2_000_000;
    storage.estimate = async () => ({ usage: 0, quota: 1e12 });
    const late = await refusal(run('depass/demo-llama'));
    expect(late.kind).toBe('quota');
    expect(late.message).toMatch(/^not enough storage space: depass\/demo-llama needs 3\.\d MB.*then press Download again$/);
  });

  it('reports a lost network in one line and leaves nothing half-listed', async () => {
    const { net, run, shelf } = setup();
    net.offline = true;
    const e = await refusal(run('depass/demo-llama'));
    expect([e.kind, e.message]).toEqual(['network', 'could not reach the Hub to list depass/demo-llama; check your connection and press Download again']);
    expect(await shelf.list()).toEqual([]);
  });

  it('cancels mid-download and keeps nothing', async () => {
    const { run, storage, shelf } = setup();
    const ac = new AbortController();
    const e = await refusal(
      run('depass/demo-llama', {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.file === 'model.safetensors' && p.done > 0) ac.abort();
        },
      }),
    );
    expect(e.kind).toBe('cancelled');
    expect(staged(storage)).toEqual([]);
    expect(await shelf.list()).toEqual([]);
  });
});
