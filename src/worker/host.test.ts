// The engine host driven as the worker would drive it, on the CPU reference (no GPU provider):
// load, tokenize, run with progress and partial results, cancel, ablate, generate, and errors as
// messages.

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesFromPath } from '../node/files';
import { skipWithoutFiles } from '../testing/requirements';
import { decodeResult } from './codec';
import { EngineHost } from './host';
import type { Reply, Request } from './protocol';

const model = resolve(process.cwd(), 'public/models/demo-llama');

function harness() {
  const replies: Reply[] = [];
  const waiters: ((r: Reply) => void)[] = [];
  const host = new EngineHost((r) => {
    replies.push(r);
    waiters.splice(0).forEach((w) => w(r));
  }, null);
  const final = (id: number) =>
    new Promise<Reply>((done) => {
      const check = () => {
        const r = replies.find((x) => x.id === id && x.type !== 'progress' && x.type !== 'partial');
        if (r) done(r);
        else waiters.push(check);
      };
      check();
    });
  const send = (req: Request) => {
    host.handle(req);
    return final(req.id);
  };
  return { host, replies, send };
}

describe.skipIf(skipWithoutFiles(resolve(model, 'config.json')))('engine host on the CPU', () => {
  it('loads, tokenizes, runs with progress and partials, and reports the CPU backend', async () => {
    const { send, replies } = harness();
    const loaded = await send({ type: 'load', id: 1, files: await filesFromPath(model) });
    expect(loaded.type).toBe('loaded');
    if (loaded.type !== 'loaded') return;
    expect(loaded.info.backend).toBe('cpu');
    expect(loaded.info.backendNote).toMatch(/WebGPU is not available/);
    expect(loaded.info.parameters).toBeGreaterThan(100_000);

    const tok = await send({ type: 'tokenize', id: 2, text: 'Tom has a red kite.' });
    expect(tok.type).toBe('tokens');

    const res = await send({ type: 'run', id: 3, prompt: 'Tom has a red kite. Tom', settings: { modes: ['token', 'head'] } });
    expect(res.type).toBe('result');
    if (res.type !== 'result') return;
    const result = decodeResult(res.json);
    expect(result.token!.scores.length).toBe(result.tokens.length);
    const progress = replies.filter((r) => r.id === 3 && r.type === 'progress');
    expect(progress.length).toBeGreaterThan(4);
    const partials = replies.filter((r) => r.id === 3 && r.type === 'partial').map((r) => (r as { mode: string }).mode);
    expect(partials).toEqual(['token', 'head']);

    const att = await send({ type: 'attention', id: 4, layer: 1, head: 2 });
    expect(att.type === 'attention' && att.T).toBe(result.tokens.length);

    const last = result.targets[result.targets.length - 1];
    const abl = await send({ type: 'ablate', id: 5, prompt: result.prompt, ablation: { heads: [{ layer: 0, head: 0 }] }, targets: [last] });
    expect(abl.type).toBe('ablated');
    if (abl.type === 'ablated') expect(abl.baseline[0]).toBeCloseTo(last.logit, 3);

    const pro = await send({ type: 'promotes', id: 6, layer: 0, neurons: [0, 5], k: 3 });
    expect(pro.type === 'promotes' && pro.tokens.map((t) => t.top.length)).toEqual([3, 3]);

    const voc = await send({ type: 'vocab', id: 7 });
    expect(voc.type === 'vocab' && voc.texts.length).toBe(loaded.info.description.vocab_size);
    expect(voc.type === 'vocab' && voc.texts.some((t) => t.trim() === 'red')).toBe(true);
  });

  it('cancels a run and stays usable', async () => {
    const { send, host } = harness();
    await send({ type: 'load', id: 1, files: await filesFromPath(model) });
    const running = send({ type: 'run', id: 2, prompt: 'Tom has a red kite. Mia has a blue cup. Tom', settings: { modes: ['token', 'head', 'neuron'] } });
    host.handle({ type: 'cancel', id: 3, target: 2 });
    const r = await running;
    expect(r.type === 'error' && r.kind).toBe('cancelled');
    const again = await send({ type: 'run', id: 4, prompt: 'Tom', settings: { modes: ['token'] } });
    expect(again.type).toBe('result');
  });

  it('continues a prompt greedily, and one run of the whole text explains each generated token from the position before it', async () => {
    const { send } = harness();
    await send({ type: 'load', id: 1, files: await filesFromPath(model) });
    const prompt = 'Lily saw a';
    const g = await send({ type: 'generate', id: 2, prompt, n: 4, temperature: 0, seed: 0 });
    expect(g.type).toBe('generated');
    if (g.type !== 'generated') return;
    expect(g.ids.length).toBeGreaterThan(0);
    expect(g.text.startsWith(prompt)).toBe(true);
    expect(g.text.length).toBeGreaterThan(prompt.length);
    const res = await send({ type: 'run', id: 3, prompt: g.text, settings: { modes: ['token'] } });
    if (res.type !== 'result') throw new Error(`the run failed: ${JSON.stringify(res)}`);
    const r = decodeResult(res.json);
    const generated = r.tokens.flatMap((t, p) => (t.start >= prompt.length ? [p] : []));
    // The text tokenizes back to the prompt's tokens and then the generated ones.
    expect(generated.map((p) => r.tokens[p]!.id)).toEqual(g.ids);
    // Greedy: at each position before a generated token, the model's own prediction is that token.
    for (const p of generated) expect(r.targets.find((t) => t.position === p - 1)?.id, `position ${p - 1}`).toBe(r.tokens[p]!.id);
    const bad = await send({ type: 'generate', id: 4, prompt, n: 0, temperature: 0, seed: 0 });
    expect(bad.type === 'error' && [bad.kind, bad.message]).toEqual(['input', 'the number of tokens to generate must be 1 to 64, not 0']);
  });

  it('answers bad requests with messages, never by throwing', async () => {
    const { send } = harness();
    const none = await send({ type: 'run', id: 1, prompt: 'x', settings: { modes: ['token'] } });
    expect(none.type === 'error' && none.message).toMatch(/no model is loaded/);
    const broken = await send({ type: 'load', id: 2, files: [{ path: 'm/config.json', blob: new Blob(['{not json']) }] });
    expect(broken.type === 'error' && broken.kind).toBe('model');
    expect(broken.type === 'error' && broken.message).toMatch(/config\.json/);
    await send({ type: 'load', id: 3, files: await filesFromPath(model) });
    const badLayer = await send({ type: 'run', id: 4, prompt: 'Tom', settings: { modes: ['neuron'], layer: 99 } });
    expect(badLayer.type === 'error' && badLayer.kind).toBe('input');
    const long = await send({ type: 'run', id: 5, prompt: 'Tom has a red kite. '.repeat(40), settings: { modes: ['token'] } });
    expect(long.type === 'error' && long.message).toMatch(/reads at most/);
  });
});
