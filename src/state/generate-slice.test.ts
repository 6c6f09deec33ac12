// The generate slice against a scripted engine: the continuation becomes the prompt and is run,
// its tokens are marked by where the generated text starts, a generated token is explained from
// the position before it (a target re-run only when the prediction there is another token), and
// what cannot generate says why in one line.

import { describe, expect, it } from 'vitest';
import { generatedPositions, generationOf } from './selectors';
import { createAppStore } from './store';
import { ScriptedEngine, file, handResult } from './testing';

const flush = () => new Promise((r) => setTimeout(r, 0));

async function generated() {
  const engine = new ScriptedEngine();
  // "a" continued by " b c" (ids 6, 7): positions 2 and 3 of the hand result.
  engine.generateReply = (prompt) => ({ type: 'generated', id: 0, text: `${prompt} b c`, ids: [6, 7], stopped: 'count' });
  const store = createAppStore(() => engine);
  expect(await store.getState().loadModel([file('m/config.json')], 'm')).toBe(true);
  store.getState().setPrompt('a');
  store.getState().setGenerateSettings({ n: 2, temperature: 0.7, seed: 42 });
  await store.getState().generate();
  await flush();
  return { engine, store };
}

describe('generate slice', () => {
  it('puts the continuation in the prompt, runs it, and marks the generated tokens', async () => {
    const { engine, store } = await generated();
    expect(engine.generations).toEqual([{ prompt: 'a', n: 2, temperature: 0.7, seed: 42 }]);
    expect(store.getState().prompt).toBe('a b c');
    expect(store.getState().generation).toEqual({ text: 'a b c', from: 1, temperature: 0.7, seed: 42, stopped: 'count' });
    expect(engine.runs.map((r) => r.prompt)).toEqual(['a b c']);
    expect(generatedPositions(store.getState())).toEqual([]); // nothing on screen yet
    engine.runs[0].resolve(handResult('a b c'));
    await flush();
    expect(generatedPositions(store.getState())).toEqual([2, 3]);
    // A result of another text is not the generation's.
    store.setState({ result: handResult('x y z') });
    expect(generationOf(store.getState())).toBeNull();
    expect(generatedPositions(store.getState())).toEqual([]);
  });

  it('explains a generated token from the position before it, re-running only when the prediction there is another token', async () => {
    const { engine, store } = await generated();
    const r = handResult('a b c');
    r.targets[1] = { ...r.targets[1]!, id: 6 }; // the prediction at 1 is the generated " b"
    engine.runs[0].resolve(r);
    await flush();
    store.getState().explainGenerated(2);
    expect(store.getState().selected).toBe(1);
    expect(engine.runs).toHaveLength(1);
    // At 2 the model predicted 12, but " c" (7) was sampled: it becomes the target there.
    store.getState().explainGenerated(3);
    expect(store.getState().selected).toBe(2);
    expect(engine.runs).toHaveLength(2);
    expect(engine.runs[1].settings).toMatchObject({ positions: [2], target: 7 });
  });

  it('says why it cannot generate', async () => {
    const engine = new ScriptedEngine();
    const store = createAppStore(() => engine);
    await store.getState().generate();
    expect(store.getState().generateError).toBe('Load a model first.');
    await store.getState().loadModel([file('m/config.json')], 'm');
    await store.getState().generate();
    expect(store.getState().generateError).toBe('Type a prompt to continue first.');
    engine.generateReply = (prompt) => ({ type: 'generated', id: 0, text: prompt, ids: [], stopped: 'stop' });
    store.getState().setPrompt('a');
    await store.getState().generate();
    expect(store.getState().generateError).toMatch(/^The model ended the text at once/);
    expect(engine.runs).toHaveLength(0);
  });
});
