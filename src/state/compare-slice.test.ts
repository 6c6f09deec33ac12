// The compare slice against a scripted engine: the second prompt runs with the first run's
// settings (and its own target), a short pass over the first prompt is queued right behind it so
// attention patterns stay the first run's, refusals say why, and a shared comparison opens
// read-only, closes with the shared run, and re-runs both live.

import { describe, expect, it } from 'vitest';
import type { DepassResult } from '../depass/result';
import { encodeRun } from '../share/permalink/encode';
import { snapshotRun } from '../share/snapshot';
import { decodeLink, joinLink } from '../share/compare-link';
import { EngineError } from '../worker/client';
import { compareRuns, tokenDiff } from './compare';
import { createAppStore } from './store';
import { ScriptedEngine, file, handResult } from './testing';

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

async function withFirstRun() {
  const engine = new ScriptedEngine();
  const store = createAppStore(() => engine);
  await store.getState().loadModel([file('m/config.json')], 'm');
  store.getState().setPrompt('a b c');
  store.getState().run();
  engine.runs[0].resolve(handResult('a b c'));
  await flush();
  return { engine, store };
}

function secondResult(prompt = 'a b d'): DepassResult {
  const b = handResult(prompt);
  b.tokens[3] = { id: 9, text: ' d', start: 3, end: 5 };
  b.token!.scores[3] = [0.5, 1, 1, 0];
  return b;
}

describe('compare slice', () => {
  it('runs the second prompt with the first run’s settings, then a short pass over the first prompt', async () => {
    const { engine, store } = await withFirstRun();
    const done = store.getState().compareWith('a b d', null, null);
    expect(store.getState().comparing).toEqual({ status: 'running' });
    expect(engine.runs).toHaveLength(3);
    expect(engine.runs[1].prompt).toBe('a b d');
    expect(engine.runs[1].settings).toMatchObject({ modes: ['token', 'head'], rule: 'softmax', layerDetail: true });
    expect(engine.runs[1].settings.target).toBeUndefined();
    // Queued right behind, so the engine's last forward pass is the first prompt's again.
    expect(engine.runs[2].prompt).toBe('a b c');
    expect(engine.runs[2].settings).toMatchObject({ modes: ['token'], positions: 'last', layerDetail: false });
    engine.runs[1].resolve(secondResult());
    engine.runs[2].resolve(handResult('a b c'));
    await done;
    const s = store.getState();
    expect(s.comparing).toBeNull();
    expect(s.second?.result.prompt).toBe('a b d');
    expect(s.compared).toBe(1);
    // The first run on screen is untouched.
    expect(s.result?.prompt).toBe('a b c');
    const c = compareRuns(s.result, s.overrides, s.selected, s.second!.result, s.second!.overrides)!;
    expect(tokenDiff(c)!.rows.map((r) => r.diff)).toEqual([0.5, 1, -2, 1.5]);
    store.getState().closeCompare();
    expect(store.getState().second).toBeNull();
  });

  it('explains a chosen target in the same prompt without a further pass', async () => {
    const { engine, store } = await withFirstRun();
    const done = store.getState().compareWith('a b c', 20, 21);
    expect(engine.runs).toHaveLength(2);
    expect(engine.runs[1].settings).toMatchObject({ target: 20, contrast: 21 });
    engine.runs[1].resolve(handResult('a b c'));
    await done;
    expect(store.getState().second).toMatchObject({ target: 20, contrast: 21 });
  });

  it('says why it cannot compare', async () => {
    const engine = new ScriptedEngine();
    const store = createAppStore(() => engine);
    await store.getState().compareWith('x', null, null);
    expect(store.getState().comparing).toEqual({ status: 'failed', error: 'Load a model first.' });
    await store.getState().loadModel([file('m/config.json')], 'm');
    await store.getState().compareWith('x', null, null);
    expect(store.getState().comparing).toMatchObject({ error: expect.stringMatching(/^Run the first prompt first/) });
    const { store: ran, engine: e2 } = await withFirstRun();
    await ran.getState().compareWith('', null, null);
    expect(ran.getState().comparing).toMatchObject({ error: expect.stringMatching(/^Type a second prompt/) });
    await ran.getState().compareWith('a', null, 3);
    expect(ran.getState().comparing).toMatchObject({ error: expect.stringMatching(/distractor/) });
    expect(e2.runs).toHaveLength(1);
  });

  it('keeps a failure and drops a cancelled comparison', async () => {
    const { engine, store } = await withFirstRun();
    const done = store.getState().compareWith('a b d', null, null);
    store.getState().closeCompare();
    await done;
    expect(engine.runs[1].cancelled).toBe(true);
    expect(store.getState().comparing).toBeNull();
    expect(store.getState().second).toBeNull();

    const failed = store.getState().compareWith('a b d', null, null);
    engine.runs[3].reject(new EngineError('input', 'the prompt has 70 tokens; the model reads at most 64'));
    await failed;
    expect(store.getState().comparing).toEqual({ status: 'failed', error: 'the prompt has 70 tokens; the model reads at most 64' });
    expect(store.getState().second).toBeNull();
  });
});

describe('another model', () => {
  it('drops a second run of the previous model', async () => {
    const { engine, store } = await withFirstRun();
    const done = store.getState().compareWith('a b d', null, null);
    engine.runs[1].resolve(secondResult());
    engine.runs[2].resolve(handResult('a b c'));
    await done;
    expect(store.getState().second).not.toBeNull();
    // The same model again keeps it; another one drops it.
    await store.getState().loadModel([file('m/config.json')], 'm');
    expect(store.getState().second).not.toBeNull();
    const other = { ...store.getState().model!, fingerprint: 'sha256:other' };
    store.setState({ model: other });
    expect(store.getState().second).toBeNull();
  });
});

describe('a shared comparison', () => {
  const vocab = Array.from({ length: 32 }, (_, id) => `v${id}`);
  const snap = (result: DepassResult) =>
    snapshotRun({
      result,
      overrides: [],
      settings: { modes: ['token', 'head'], rule: 'softmax', layer: null, layerDetail: true },
      selected: null,
      pinnedHead: null,
      pinnedNeuron: null,
      flowThreshold: 0.1,
      vocab,
      layers: 2,
      vocabSize: 32,
    });

  it('opens read-only with both runs, closes with the shared run, and re-runs both live', async () => {
    const second = snap(secondResult());
    second.settings.target = 20;
    const { run, second: back } = decodeLink(joinLink(encodeRun(snap(handResult('a b c'))), encodeRun(second)));
    const engine = new ScriptedEngine();
    const store = createAppStore(() => engine);
    store.getState().openShared(run, 100, back);
    expect(store.getState().second).toMatchObject({ target: 20, contrast: null });
    expect(store.getState().second?.result.prompt).toBe('a b d');
    await store.getState().compareWith('x', null, null);
    expect(store.getState().comparing).toMatchObject({ error: expect.stringMatching(/read-only/) });
    expect(engine.runs).toHaveLength(0);

    await store.getState().loadModel([file('m/config.json')], 'm');
    const done = store.getState().rerunShared();
    await flush();
    engine.runs[0].resolve(handResult('a b c'));
    await flush();
    // The second prompt is run again with its target, then the short pass over the first.
    expect(engine.runs[1].prompt).toBe('a b d');
    expect(engine.runs[1].settings).toMatchObject({ target: 20 });
    engine.runs[1].resolve(secondResult());
    engine.runs[2].resolve(handResult('a b c'));
    await done;
    expect(store.getState().shared).toBeNull();
    expect(store.getState().second?.result.token!.scores[3]).toEqual([0.5, 1, 1, 0]);

    store.getState().openShared(run, 100, back);
    store.getState().closeShared();
    expect(store.getState().second).toBeNull();
  });
});
