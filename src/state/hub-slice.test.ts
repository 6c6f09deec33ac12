// The hub slice against a stand-in Hub, an in-memory file system and an engine that answers with
// the files' real fingerprint: a model by id downloads, lands on the shelf with its source and
// loads; the token never enters the store's state; cancelling ends cleanly; a shared link naming
// a Hub model re-runs with one click (its commit downloaded, its fingerprint checked).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeFetch } from '../hub/testing/fake-fetch';
import { FakeHub, shardFiles } from '../hub/testing/fake-hub';
import { fingerprint } from '../model/fingerprint';
import type { ModelFile } from '../model/files';
import { decodeRun } from '../share/permalink/decode';
import { encodeRun } from '../share/permalink/encode';
import { ModelShelf } from '../share/remembered';
import { snapshotRun } from '../share/snapshot';
import { MemoryStorage } from '../share/testing/memory-opfs';
import { createAppStore } from './store';
import { handResult, ScriptedEngine } from './testing';
import type { HubDownload } from './types';

const DEMO = resolve(process.cwd(), 'public/models/demo-llama');
const NAMES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const HUB = 'http://hub.test';
const TOKEN = 'hf_store_test_token_42';

/** Answers a load with the files' own fingerprint, as the real engine does. */
class FingerprintEngine extends ScriptedEngine {
  override async load(files: ModelFile[]) {
    const info = await super.load(files);
    return { ...info, name: files[0].path.split('/')[0], fingerprint: await fingerprint(files) };
  }
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

function setup() {
  const files = Object.fromEntries(NAMES.map((f) => [f, new Uint8Array(readFileSync(resolve(DEMO, f)))]));
  const hub = new FakeHub(
    [
      { id: 'depass/demo-llama', files },
      { id: 'depass/demo-llama-sharded', files: shardFiles(files, 2) },
      { id: 'gated/demo-llama', files, gatedToken: TOKEN },
    ],
    'http://cdn.test',
  );
  const net = fakeFetch(hub, HUB);
  const engine = new FingerprintEngine();
  const shelf = new ModelShelf(new MemoryStorage());
  const store = createAppStore(
    () => engine,
    () => shelf,
    () => ({ endpoint: HUB, fetch: net.fetch }),
  );
  const seen: HubDownload[] = [];
  store.subscribe((s, prev) => {
    if (s.hub && s.hub !== prev.hub) seen.push(s.hub);
  });
  return { hub, net, engine, store, seen };
}

describe('a model from the Hub in the store', () => {
  it('downloads, is remembered with its source, and loads; a second time it is taken from the shelf', async () => {
    const { hub, store, engine, seen, net } = setup();
    expect(await store.getState().downloadFromHub('https://huggingface.co/depass/demo-llama')).toBe(true);
    const s = store.getState();
    const sha = hub.commits.get('depass/demo-llama')!;
    expect(s.model?.fingerprint).toBe(s.shelf.models[0].fingerprint);
    expect(s.modelSource).toEqual({ hub: 'depass/demo-llama', revision: sha });
    expect(s.shelf.models.map((m) => [m.name, m.source?.revision])).toEqual([['depass/demo-llama', sha]]);
    expect(engine.loads[0].map((f) => f.path).sort()).toEqual(NAMES.map((n) => `demo-llama/${n}`).sort());
    expect(s.hub).toBeNull();
    expect(seen.map((h) => h.stage).filter((x, i, a) => a[i - 1] !== x)).toEqual(['listing', 'downloading', 'checking', 'saving', 'opening']);
    expect(seen.some((h) => h.stage === 'downloading' && h.done > 0 && h.total > h.done)).toBe(true);

    const before = net.log.length;
    expect(await store.getState().downloadFromHub('depass/demo-llama')).toBe(true);
    expect(net.log.slice(before).map((r) => r.path)).toEqual(['/api/models/depass/demo-llama/revision/main']);
    expect(engine.loads).toHaveLength(2);
  });

  it('keeps the token out of the state; without it a gated model says what to do', async () => {
    const { store } = setup();
    expect(await store.getState().downloadFromHub('gated/demo-llama')).toBe(false);
    expect(store.getState().hub).toMatchObject({ stage: 'failed', error: expect.stringMatching(/^gated\/demo-llama is gated: .* paste an access token/) });
    store.getState().setHubToken(`  ${TOKEN} `);
    expect(await store.getState().downloadFromHub('gated/demo-llama')).toBe(true);
    expect(JSON.stringify(store.getState(), (_k, v) => (typeof v === 'function' ? undefined : v))).not.toContain(TOKEN);
  });

  it('refuses a bad id in one line and cancels a download cleanly', async () => {
    const { store, engine } = setup();
    expect(await store.getState().downloadFromHub('not a model')).toBe(false);
    expect(store.getState().hub).toMatchObject({ stage: 'failed', error: expect.stringMatching(/is not a model id/) });
    store.getState().dismissHub();
    expect(store.getState().hub).toBeNull();
    const unsub = store.subscribe((s) => {
      if (s.hub?.stage === 'downloading') s.cancelHub();
    });
    expect(await store.getState().downloadFromHub('depass/demo-llama')).toBe(false);
    unsub();
    expect(store.getState().hub).toMatchObject({ stage: 'cancelled', error: null });
    expect(store.getState().shelf.models).toEqual([]);
    expect(engine.loads).toEqual([]);
  });

  it('re-runs a shared link that names a Hub model: downloads its commit, checks the fingerprint, runs', async () => {
    const { hub, store, engine } = setup();
    const fp = await fingerprint(NAMES.map((n) => ({ path: `demo-llama/${n}`, blob: new Blob([readFileSync(resolve(DEMO, n))]) })));
    const linkFor = (source: { hub: string; revision: string }, fingerprintOf = fp) => {
      const result = handResult();
      result.model = { name: 'demo-llama', architecture: 'llama', fingerprint: fingerprintOf };
      const snap = snapshotRun({
        result,
        overrides: [],
        settings: { modes: ['token'], rule: 'softmax', layer: null, layerDetail: false },
        selected: null,
        pinnedHead: null,
        pinnedNeuron: null,
        flowThreshold: 0.1,
        vocab: [],
        layers: 2,
        vocabSize: 32,
        source,
      });
      return decodeRun(encodeRun(snap));
    };
    // The link names the sharded repository's commit but the single file's fingerprint: refused.
    store.getState().openShared(linkFor({ hub: 'depass/demo-llama-sharded', revision: hub.commits.get('depass/demo-llama-sharded')! }), 100);
    await store.getState().rerunShared();
    expect(store.getState().runError?.message).toMatch(
      /^The model downloaded from the Hub \(depass\/demo-llama-sharded at [0-9a-f]{7}\) has fingerprint .*, not the link's/,
    );
    expect(store.getState().shared).not.toBeNull();
    expect(engine.runs).toEqual([]);

    store.getState().openShared(linkFor({ hub: 'depass/demo-llama', revision: hub.commits.get('depass/demo-llama')! }), 100);
    const done = store.getState().rerunShared();
    for (let i = 0; i < 100 && engine.runs.length === 0; i++) await flush();
    expect(store.getState().model?.fingerprint).toBe(fp);
    expect(store.getState().shared).toBeNull();
    expect(engine.runs).toHaveLength(1);
    engine.runs[0].resolve(handResult());
    await done;
    expect(store.getState().runError).toBeNull();
  });
});
