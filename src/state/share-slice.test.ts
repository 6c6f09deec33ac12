// The share slice against a scripted engine and an in-memory file system: a link's run shows
// read-only with its own texts and view; nothing asks the engine while it is shown; another
// model loaded underneath is never used for it; the matching model (loaded or remembered)
// re-runs it live with the link's settings and target; remembering survives a new store.

import { describe, expect, it } from 'vitest';
import type { DepassResult } from '../depass/result';
import { decodeRun } from '../share/permalink/decode';
import { encodeRun } from '../share/permalink/encode';
import type { SharedRun } from '../share/permalink/format';
import { ModelShelf } from '../share/remembered';
import { snapshotRun } from '../share/snapshot';
import { MemoryStorage } from '../share/testing/memory-opfs';
import { generatedPositions, numLayers, sharedModelState, specialOf } from './selectors';
import { createAppStore } from './store';
import { file, handResult, ScriptedEngine } from './testing';

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

/** A link of the hand-made run, through the real codec, as another user's Share would make it. */
function linkOf(result: DepassResult, extra: Partial<Parameters<typeof snapshotRun>[0]> = {}): SharedRun {
  const vocab = Array.from({ length: 32 }, (_, id) => `v${id}`);
  return decodeRun(
    encodeRun(
      snapshotRun({
        result,
        overrides: [],
        settings: { modes: ['token', 'head', 'neuron'], rule: 'proportional', layer: 1, layerDetail: false },
        selected: 2,
        pinnedHead: { layer: 1, head: 0 },
        pinnedNeuron: 2,
        flowThreshold: 0.35,
        vocab,
        layers: 2,
        vocabSize: 32,
        ...extra,
      }),
    ),
  );
}

class CountingEngine extends ScriptedEngine {
  asked: string[] = [];
  override async attention(layer: number, head: number) {
    this.asked.push(`attention ${layer}:${head}`);
    return super.attention(layer, head);
  }
  override async promotes(layer: number, neurons: number[], k = 5) {
    this.asked.push(`promotes ${layer}`);
    return super.promotes(layer, neurons, k);
  }
}

function setup(storage = new MemoryStorage()) {
  const engine = new CountingEngine();
  const shelf = new ModelShelf(storage);
  const store = createAppStore(
    () => engine,
    () => shelf,
  );
  return { engine, store, storage };
}

describe('a shared run', () => {
  it('shows read-only with the link’s texts, selection, pins and threshold; nothing asks the engine', async () => {
    const { engine, store } = setup();
    const run = linkOf(handResult());
    store.getState().openShared(run, 1234);
    const s = store.getState();
    expect(s.result?.prompt).toBe('a b c');
    // Within the quantisation of the row (max 2 / 254).
    s.result!.head!.scores[3][1].forEach((v, h) => expect(Math.abs(v - [2, 0.75][h])).toBeLessThanOrEqual(2 / 254));
    expect([s.selected, s.pinnedHead, s.pinnedNeuron, s.flowThreshold]).toEqual([2, { layer: 1, head: 0 }, 2, 0.35]);
    expect(s.settings).toEqual({ modes: ['token', 'head', 'neuron'], rule: 'proportional', layer: 1, layerDetail: false });
    expect(s.prompt).toBe('a b c');
    // Texts come from the link: predictions 10..13, 20, 21 and the prompt's tokens.
    expect(s.vocab[12]).toBe('v12');
    expect(s.vocab[6]).toBe(' b');
    expect(s.vocab[15]).toBe('');
    expect(s.vocab[30]).toBeUndefined();
    expect(numLayers(s)).toBe(2);
    expect(sharedModelState(s)).toBe('none');

    s.run();
    expect(store.getState().runError?.message).toMatch(/read-only/);
    store.getState().setTarget(20, null);
    await store.getState().ablate('head', 1);
    store.getState().fetchPatterns([{ layer: 1, head: 0 }]);
    await store.getState().fetchPromotes(1, [0, 1]);
    await flush();
    expect(engine.runs).toHaveLength(0);
    expect(engine.ablations).toHaveLength(0);
    expect(engine.asked).toEqual([]);
    expect(store.getState().patterns['1:0']).toMatchObject({ status: 'absent', note: expect.stringMatching(/not part of a shared link/) });
    // Selecting is a view matter and works.
    store.getState().move(1);
    expect(store.getState().selected).toBe(3);
  });

  it('carries the words and hidden special tokens settings, and the special tokens the link cannot tell by their span', () => {
    const { store } = setup();
    const r = handResult();
    const plain = linkOf(r);
    expect([plain.view.words, plain.view.hideSpecial, plain.view.special]).toEqual([undefined, undefined, undefined]);
    store.getState().openShared(plain, 1);
    expect([store.getState().words, store.getState().hideSpecial]).toEqual([false, false]);
    // Position 1 is special to the tokenizer although it has a span; position 0 (empty span) needs no mention.
    const run = linkOf(r, { words: true, hideSpecial: true, special: [true, true, false, false] });
    expect(run.view).toMatchObject({ words: true, hideSpecial: true, special: [1] });
    store.getState().openShared(run, 1);
    const s = store.getState();
    expect([s.words, s.hideSpecial]).toEqual([true, true]);
    expect(specialOf(s)).toEqual([r.tokens[0].start === r.tokens[0].end, true, false, false]);
  });

  it('carries where the generated tokens begin and how they were generated', () => {
    const { store } = setup();
    const r = handResult();
    store.getState().openShared(linkOf(r), 1);
    expect(store.getState().generation).toBeNull();
    const run = linkOf(r, { generated: { first: 2, temperature: 0.7, seed: 5 } });
    expect(run.view.generated).toEqual({ first: 2, temperature: 0.7, seed: 5 });
    store.getState().openShared(run, 1);
    expect(store.getState().generation).toEqual({ text: r.prompt, from: 1, temperature: 0.7, seed: 5 });
    expect(generatedPositions(store.getState())).toEqual([2, 3]);
  });

  it('keeps another model loaded underneath apart: its vocabulary and layers are not used, no re-run', async () => {
    const { engine, store } = setup();
    const other = handResult();
    other.model = { name: 'someone-else', architecture: 'llama', fingerprint: 'sha256:other' };
    store.getState().openShared(linkOf(other), 10);
    expect(await store.getState().loadModel([file('m/config.json')], 'm')).toBe(true);
    const s = store.getState();
    expect(s.model?.fingerprint).toBe('sha256:hand');
    expect(s.result?.model.fingerprint).toBe('sha256:other');
    expect(s.vocab[12]).toBe('v12'); // the loaded model says t12
    expect(sharedModelState(s)).toBe('other');
    await s.rerunShared();
    expect(engine.runs).toHaveLength(0);
    expect(store.getState().runError?.message).toMatch(/Load someone-else/);
    expect(store.getState().shared).not.toBeNull();
    // Closing gives back the loaded model's own vocabulary and an empty page.
    store.getState().closeShared();
    expect(store.getState().vocab[12]).toBe('t12');
    expect(store.getState().result).toBeNull();
  });

  it('re-runs live against the matching model with the link’s settings, then its target re-run', async () => {
    const { engine, store } = setup();
    expect(await store.getState().loadModel([file('m/config.json')], 'm')).toBe(true);
    const main = handResult();
    const override = { ...handResult(), targets: [{ position: 2, id: 20, contrast_id: 12, logit: -1 }] };
    override.token = { scores: [[0.5, -0.5, -1, 0]], rest: [0] };
    override.head = undefined;
    override.neuron = undefined;
    const run = linkOf(main, { overrides: [{ position: 2, target: 20, contrast: 12, result: override }], selected: 1 });
    store.getState().openShared(run, 10);
    expect(store.getState().overrides[0]?.target).toBe(20);
    expect(sharedModelState(store.getState())).toBe('loaded');

    const done = store.getState().rerunShared();
    await flush();
    expect(store.getState().shared).toBeNull();
    expect(store.getState().vocab[12]).toBe('t12');
    expect(engine.runs).toHaveLength(1);
    expect(engine.runs[0].prompt).toBe('a b c');
    expect(engine.runs[0].settings).toMatchObject({ modes: ['token', 'head', 'neuron'], rule: 'proportional', layer: 1, layerDetail: false });
    engine.runs[0].resolve(handResult());
    await flush();
    expect(engine.runs).toHaveLength(2);
    expect(engine.runs[1].settings).toMatchObject({ positions: [2], target: 20, contrast: 12 });
    engine.runs[1].resolve(override);
    await done;
    const s = store.getState();
    expect(s.overrides).toMatchObject([{ position: 2, target: 20, contrast: 12 }]);
    expect(s.selected).toBe(1);
    expect(s.pinnedHead).toEqual({ layer: 1, head: 0 });
    expect(engine.asked).toContain('attention 1:0');
  });
});

describe('remembered models in the store', () => {
  it('remembers the loaded files with consent, survives a new store, and re-runs a link from them', async () => {
    const storage = new MemoryStorage();
    const first = setup(storage);
    const files = [file('m/config.json', '{"a":1}'), file('m/model.safetensors', 'weights')];
    await first.store.getState().loadModel(files, 'm');
    await first.store.getState().refreshShelf();
    expect(first.store.getState().shelf).toMatchObject({ available: true, models: [] });
    expect(storage.persistCalls).toBe(0);
    await first.store.getState().rememberLoaded();
    expect(storage.persistCalls).toBe(1);
    expect(first.store.getState().shelf.models.map((m) => [m.name, m.fingerprint, m.bytes])).toEqual([['hand', 'sha256:hand', 14]]);

    // A new page: nothing loaded, a link arrives, its model is remembered.
    const second = setup(storage);
    await second.store.getState().refreshShelf();
    second.store.getState().openShared(linkOf(handResult()), 10);
    expect(sharedModelState(second.store.getState())).toBe('remembered');
    const done = second.store.getState().rerunShared();
    await flush();
    expect(second.engine.loads).toHaveLength(1);
    expect(second.engine.loads[0].map((f) => f.path)).toEqual(['m/config.json', 'm/model.safetensors']);
    expect(await second.engine.loads[0][1].blob.text()).toBe('weights');
    expect(second.engine.runs).toHaveLength(1);
    second.engine.runs[0].resolve(handResult());
    await done;
    expect(second.store.getState().shared).toBeNull();
    expect(second.store.getState().model?.fingerprint).toBe('sha256:hand');

    await second.store.getState().forgetModel('sha256:hand');
    expect(second.store.getState().shelf.models).toEqual([]);
  });

  it('a full disk says so and keeps the model loaded', async () => {
    const storage = new MemoryStorage();
    storage.quota = 5;
    const { store } = setup(storage);
    await store.getState().loadModel([file('m/model.safetensors', 'weights')], 'm');
    await store.getState().rememberLoaded();
    const s = store.getState();
    expect(s.shelf.error).toMatch(/Could not remember hand: not enough storage space.*The model stays loaded/);
    expect(s.shelf.models).toEqual([]);
    expect(s.model?.name).toBe('hand');
  });

  it('without OPFS the shelf says it is unavailable', async () => {
    const engine = new ScriptedEngine();
    const store = createAppStore(
      () => engine,
      () => new ModelShelf(null),
    );
    await store.getState().refreshShelf();
    expect(store.getState().shelf.available).toBe(false);
  });
});
