// The store against a scripted engine: failed loads keep the previous model and results,
// partial results show as modes finish, a cancelled run keeps what it had, target re-runs cover
// one position, ablation compares the real change with -Σ scores, and an unresponsive engine is
// reloaded with the same files without losing the results.

import { describe, expect, it } from 'vitest';
import { EngineError } from '../worker/client';
import { focusOf } from './selectors';
import { createAppStore } from './store';
import { ScriptedEngine, file, handResult } from './testing';

const flush = () => new Promise((r) => setTimeout(r, 0));

async function loaded() {
  const engine = new ScriptedEngine();
  const store = createAppStore(() => engine);
  expect(await store.getState().loadModel([file('m/config.json')], 'm')).toBe(true);
  store.getState().setPrompt('a b c');
  return { engine, store };
}

describe('model slice', () => {
  it('loads, fetches the vocabulary table, and tokenizes the prompt', async () => {
    const { store } = await loaded();
    const s = store.getState();
    expect(s.model?.name).toBe('hand');
    expect(s.vocab).toHaveLength(32);
    expect(s.vocab[7]).toBe('t7');
    expect(s.modelFiles).toEqual([{ path: 'm/config.json', size: 1 }]);
    await s.tokenize('x y');
    expect(store.getState().tokens.map((t) => t.text)).toEqual(['x', 'y']);
  });

  it('a failed load names the file and keeps the previous model and its results', async () => {
    const { engine, store } = await loaded();
    store.getState().run();
    engine.runs[0].resolve(handResult());
    await flush();
    engine.failLoad = new EngineError('model', 'model.safetensors: the file ends at byte 10', 'model.safetensors');
    expect(await store.getState().loadModel([file('model.safetensors')], 'broken')).toBe(false);
    const s = store.getState();
    expect(s.load?.status).toBe('failed');
    expect(s.load?.error).toEqual({ kind: 'model', message: 'model.safetensors: the file ends at byte 10', file: 'model.safetensors' });
    expect(s.model?.name).toBe('hand');
    expect(s.result?.prompt).toBe('a b c');
  });
});

describe('run slice', () => {
  it('shows partial results per mode, then the final one', async () => {
    const { engine, store } = await loaded();
    store.getState().run();
    expect(store.getState().running?.kind).toBe('run');
    expect(engine.runs[0].settings).toMatchObject({ modes: ['token', 'head'], rule: 'softmax', layerDetail: true });
    const partial = { ...handResult(), head: undefined };
    engine.runs[0].partial('token', partial);
    expect(store.getState().resultState).toBe('partial');
    expect(store.getState().running?.modesDone).toEqual(['token']);
    engine.runs[0].resolve(handResult());
    await flush();
    expect(store.getState().resultState).toBe('complete');
    expect(store.getState().running).toBeNull();
    expect(store.getState().completedRuns).toBe(1);
  });

  it('a cancelled run keeps the partial result; an error keeps the previous one', async () => {
    const { engine, store } = await loaded();
    store.getState().run();
    engine.runs[0].partial('token', handResult());
    store.getState().cancel();
    await flush();
    expect(engine.runs[0].cancelled).toBe(true);
    expect(store.getState().resultState).toBe('cancelled');
    expect(store.getState().result).not.toBeNull();
    expect(store.getState().runError).toBeNull();

    store.getState().run();
    engine.runs[1].reject(new EngineError('input', 'the prompt has 900 tokens; this model reads at most 64'));
    await flush();
    expect(store.getState().runError?.message).toMatch(/900 tokens/);
    expect(store.getState().result?.prompt).toBe('a b c');
  });

  it('refuses to run without a model or a mode', async () => {
    const store = createAppStore(() => new ScriptedEngine());
    store.getState().run();
    expect(store.getState().runError?.message).toMatch(/Load a model/);
  });

  it('neuron and module modes send the chosen layer (default: the last)', async () => {
    const { engine, store } = await loaded();
    store.getState().toggleMode('neuron');
    expect(store.getState().settings.modes).toEqual(['token', 'head', 'neuron']);
    store.getState().run();
    expect(engine.runs[0].settings.layer).toBe(1);
    engine.runs[0].resolve(handResult());
    await flush();
    store.getState().setSettings({ layer: 0 });
    store.getState().run();
    expect(engine.runs[1].settings.layer).toBe(0);
  });

  it('a target change re-runs one position; other positions keep the main run', async () => {
    const { engine, store } = await loaded();
    store.getState().run();
    engine.runs[0].resolve(handResult());
    await flush();
    store.getState().select(2);
    store.getState().setTarget(20, 21);
    expect(engine.runs[1].settings).toMatchObject({ positions: [2], target: 20, contrast: 21 });
    const one = handResult();
    one.targets = [{ position: 2, id: 20, contrast_id: 21, logit: 1 }];
    engine.runs[1].resolve(one);
    await flush();
    const s = store.getState();
    const f = focusOf(s.result, s.overrides, s.selected)!;
    expect(f.custom).toBe(true);
    expect(f.target).toEqual({ position: 2, id: 20, contrast_id: 21, logit: 1 });
    const g = focusOf(s.result, s.overrides, 1)!;
    expect(g.custom).toBe(false);
    expect(g.target.id).toBe(11);
    // A second chosen target at another position: both are kept, each at its own position.
    store.getState().select(1);
    store.getState().setTarget(21, null);
    expect(engine.runs[2].settings).toMatchObject({ positions: [1], target: 21 });
    const two = handResult();
    two.targets = [{ position: 1, id: 21, contrast_id: null, logit: 2 }];
    engine.runs[2].resolve(two);
    await flush();
    const s2 = store.getState();
    expect(s2.overrides.map((o) => [o.position, o.target, o.contrast])).toEqual([
      [1, 21, null],
      [2, 20, 21],
    ]);
    expect(focusOf(s2.result, s2.overrides, 2)!.target).toEqual({ position: 2, id: 20, contrast_id: 21, logit: 1 });
    expect(focusOf(s2.result, s2.overrides, 1)!.target.id).toBe(21);
    // Resetting one position leaves the other.
    store.getState().setTarget(null, null);
    expect(store.getState().overrides.map((o) => o.position)).toEqual([2]);
    // Ignored while a run is in progress (it would cancel it).
    store.getState().run();
    store.getState().setTarget(21, null);
    expect(engine.runs).toHaveLength(4);
    expect(engine.runs[3].settings.positions).toBeUndefined();
    engine.runs[3].resolve(handResult());
    await flush();
    // A new run starts without chosen targets.
    expect(store.getState().overrides).toEqual([]);
    store.getState().select(2);
    // Back to the prediction: no engine call.
    store.getState().setTarget(null, null);
    expect(engine.runs).toHaveLength(4);
    expect(store.getState().overrides).toEqual([]);
  });

  it('ablation removes the top-k by score and reports real vs predicted change', async () => {
    const { engine, store } = await loaded();
    store.getState().run();
    engine.runs[0].resolve(handResult());
    await flush();
    // Position 3 heads: L1H0 2, L1H1 0.75, L0H0 0.5, L0H1 -0.25.
    await store.getState().ablate('head', 2);
    expect(engine.ablations[0][1]).toEqual({
      heads: [
        { layer: 1, head: 0 },
        { layer: 1, head: 1 },
      ],
    });
    expect(engine.ablations[0][2]).toEqual([{ position: 3, id: 13, contrast_id: null }]);
    const a = store.getState().ablation!;
    expect(a.status).toBe('done');
    expect(a.predicted).toBeCloseTo(-2.75, 12);
    expect(a.ablated! - a.baseline!).toBeCloseTo(-2.5, 12);
  });

  it('after the engine stops answering, the same files are loaded again and results are kept', async () => {
    const { engine, store } = await loaded();
    store.getState().run();
    engine.runs[0].resolve(handResult());
    await flush();
    store.getState().run();
    engine.runs[1].reject(new EngineError('unresponsive', 'The engine stopped answering'));
    await flush();
    await flush();
    expect(engine.loads).toHaveLength(2);
    expect(engine.loads[1][0].path).toBe('m/config.json');
    expect(store.getState().result?.prompt).toBe('a b c');
    expect(store.getState().notice).toMatch(/reloaded/);
  });
});

describe('selection slice', () => {
  it('moves within the prompt, pins and clears with Esc in order', async () => {
    const { engine, store } = await loaded();
    store.getState().run();
    engine.runs[0].resolve(handResult());
    await flush();
    const s = () => store.getState();
    s().move(-1);
    expect(s().selected).toBe(2);
    s().move(-5);
    expect(s().selected).toBe(0);
    s().move(9);
    expect(s().selected).toBe(3);
    s().pinHead({ layer: 1, head: 0 });
    await flush();
    expect(s().patterns['1:0']).toMatchObject({ status: 'done', T: 4 });
    s().escape();
    expect(s().pinnedHead).toBeNull();
    expect(s().selected).toBe(3);
    s().escape();
    expect(s().selected).toBeNull();
  });
});
