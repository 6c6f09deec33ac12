// How large a report is: the viewer (built once) plus the run as a link's fragment. Two runs: the
// demo model's (real numbers from the CLI's engine) and a 64-token run shaped like Qwen2.5-0.5B
// (24 layers, 14 heads, 4,864 MLP neurons, 151,936 tokens) with random heavy-tailed scores, which
// compress worse than real ones, so its figure is an upper bound. `npm run bench:report`.

import { resolve } from 'node:path';
import { reportTemplate } from '../src/cli/report-template';
import type { DepassResult, TopEntry } from '../src/depass/result';
import { runDepass } from '../src/depass/run';
import { CpuBackend } from '../src/depass/cpu-backend';
import { toReferenceModel } from '../src/depass/reference-model';
import { loadCheckpoint } from '../src/model/checkpoint';
import { loadTokenizer } from '../src/model/tokenizer';
import { filesFromPath } from '../src/node/files';
import { encodeRun } from '../src/share/permalink/encode';
import { fillReport } from '../src/share/report';
import { snapshotRun } from '../src/share/snapshot';

const root = resolve(import.meta.dirname, '..');
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** Seeded uniform numbers (mulberry32), so the figure is the same on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 64-token token+head(+neuron) run with per-layer detail, of Qwen2.5-0.5B's shape. */
function qwenShaped(neurons: boolean): { result: DepassResult; layers: number; vocab: number } {
  const T = 64,
    L = 24,
    H = 14,
    I = 4864,
    V = 151_936;
  const u = random(7);
  const laplace = () => (u() < 0.5 ? 1 : -1) * Math.log(1 - u() + 1e-12) * 0.3;
  const ids = Array.from({ length: T }, () => Math.floor(u() * V));
  let at = 0;
  const tokens = ids.map((id) => {
    const text = ` w${id % 997}`;
    const tok = { id, text, start: at, end: at + text.length };
    at += text.length;
    return tok;
  });
  const prompt = tokens.map((t) => t.text).join('');
  const top = (): TopEntry[] => Array.from({ length: 5 }, (_, k) => ({ id: Math.floor(u() * V), logit: 20 - k - u() }));
  const predictions = tokens.map(() => ({ top: top() }));
  const targets = predictions.map((p, i) => ({ position: i, id: p.top[0]!.id, contrast_id: null, logit: p.top[0]!.logit }));
  const row = (n: number, upTo = n) => Array.from({ length: n }, (_, k) => (k < upTo ? laplace() : 0));
  const restOf = (r: number[], logit: number) => logit - r.reduce((a, b) => a + b, 0);
  const tokenScores = targets.map((t) => row(T, t.position + 1));
  const result: DepassResult = {
    format: 'depass-result/1',
    model: { name: 'Qwen2.5-0.5B-shaped', architecture: 'qwen2', fingerprint: 'sha256:' + '0'.repeat(64) },
    prompt,
    rule: 'softmax',
    tokens,
    predictions,
    targets,
    token: {
      scores: tokenScores,
      rest: tokenScores.map((r, i) => restOf(r, targets[i]!.logit)),
      by_layer: targets.map((t) => Array.from({ length: L }, () => row(T, t.position + 1))),
      rest_by_layer: targets.map(() => Array.from({ length: L }, () => laplace())),
    },
    head: {
      scores: targets.map(() => Array.from({ length: L }, () => row(H))),
      rest: targets.map(() => Array.from({ length: L }, () => laplace())),
      layers: Array.from({ length: L }, (_, l) => l),
    },
    ...(neurons ? { neuron: { layer: L - 1, scores: targets.map(() => row(I)), rest: targets.map(() => laplace()), group_size: I } } : {}),
    completeness: { max_abs_error: 1e-5 },
    logit_lens: tokens.map(() => Array.from({ length: L }, () => top())),
  };
  return { result, layers: L, vocab: V };
}

async function demoRun(): Promise<{ result: DepassResult; layers: number; vocab: number }> {
  const files = await filesFromPath(resolve(root, 'public/models/demo-llama'));
  const checkpoint = await loadCheckpoint(files);
  const tokenizer = await loadTokenizer(files);
  const prompt = 'The cat sat on the mat. The dog sat on the rug. The cat saw the';
  const tokens = tokenizer.encode(prompt);
  const backend = new CpuBackend(toReferenceModel(checkpoint.description, checkpoint.weights));
  const result = await runDepass(
    backend,
    { model: { name: 'demo-llama', fingerprint: checkpoint.fingerprint, description: checkpoint.description }, prompt, tokens, bosAtZero: true },
    { modes: ['token', 'head'], layerDetail: true },
  );
  return { result, layers: checkpoint.description.num_hidden_layers, vocab: checkpoint.description.vocab_size };
}

function report(template: string, run: { result: DepassResult; layers: number; vocab: number }, vocabText: (id: number) => string) {
  const r = run.result;
  const ids = new Set<number>();
  const vocab: string[] = [];
  for (const p of r.predictions) for (const e of p.top) ids.add(e.id);
  for (const l of r.logit_lens ?? []) for (const es of l) for (const e of es) ids.add(e.id);
  for (const id of ids) vocab[id] = vocabText(id);
  const shared = snapshotRun({
    result: r,
    overrides: [],
    settings: {
      modes: (['token', 'head', 'neuron'] as const).filter((m) => r[m] !== undefined),
      rule: r.rule,
      layer: r.neuron?.layer ?? null,
      layerDetail: r.token?.by_layer !== undefined,
    },
    selected: r.tokens.length - 1,
    pinnedHead: null,
    pinnedNeuron: null,
    flowThreshold: 0.1,
    vocab,
    layers: run.layers,
    vocabSize: run.vocab,
  });
  const fragment = encodeRun(shared);
  return { fragment: fragment.length, total: Buffer.byteLength(fillReport(template, { fragment, created: new Date().toISOString(), app: null })) };
}

const template = await reportTemplate(root, (line) => process.stderr.write(line + '\n'));
const rows: [string, { fragment: number; total: number }][] = [
  ['demo-llama, 20 tokens, tokens + heads + per-layer detail (real run)', report(template, await demoRun(), (id) => `t${id}`)],
  ['Qwen2.5-0.5B shape, 64 tokens, tokens + heads + per-layer detail (random scores)', report(template, qwenShaped(false), (id) => ` w${id % 997}`)],
  ['the same with the 4,864 neurons of the last layer', report(template, qwenShaped(true), (id) => ` w${id % 997}`)],
];
console.log(`report viewer (template): ${kib(Buffer.byteLength(template))}`);
for (const [name, s] of rows) console.log(`${name}: run ${kib(s.fragment)}, report ${kib(s.total)}`);
