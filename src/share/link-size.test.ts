// Link sizes of real runs: 64 tokens, token and head modes, on stories260K (../shared) and the
// bundled demo model (public/models/demo-llama), each with and without the per-layer detail,
// built as the Share button builds them (snapshotRun). Also checks that every score survives
// within the stated quantisation on trained weights, where scores are far from uniform.

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../depass/cpu-backend';
import { toReferenceModel } from '../depass/reference-model';
import type { DepassResult } from '../depass/result';
import { runDepass } from '../depass/run';
import { loadCheckpoint } from '../model/checkpoint';
import { loadTokenizer } from '../model/tokenizer';
import { filesFromPath } from '../node/files';
import { SHARED, skipWithoutFiles } from '../testing/requirements';
import { decodeRun } from './permalink/decode';
import { encodeRun } from './permalink/encode';
import { snapshotRun, withoutLayerDetail } from './snapshot';

const ROOT = resolve(import.meta.dirname, '../..');
const MODELS = [
  { key: 'stories260K', dir: resolve(SHARED, 'models/stories260K') },
  { key: 'demo-llama', dir: resolve(ROOT, 'public/models/demo-llama') },
];
const TEXT =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her big red ball. One day, she saw a dog and a cat and they all played together in the sun until it was time to go home';

const maxAbs = (xs: number[]) => xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe.each(MODELS)('link size on $key', ({ key, dir }) => {
  it.skipIf(skipWithoutFiles(resolve(dir, 'config.json')))('64 tokens, token and head modes: a few kilobytes, scores within the quantisation', async () => {
    const files = await filesFromPath(dir);
    const ck = await loadCheckpoint(files);
    const tok = await loadTokenizer(files);
    // Exactly 64 tokens: cut the text at the 64th token's end.
    const spans = tok.encode(TEXT);
    expect(spans.length).toBeGreaterThanOrEqual(64);
    const prompt = TEXT.slice(0, spans[63].end);
    const tokens = tok.encode(prompt);
    expect(tokens).toHaveLength(64);
    const d = ck.description;
    const result = await runDepass(
      new CpuBackend(toReferenceModel(d, ck.weights)),
      {
        model: { name: key, fingerprint: ck.fingerprint, description: d },
        prompt,
        tokens,
        bosAtZero: tokens[0].id === tok.bosId && tok.isSpecial(tokens[0].id),
      },
      { modes: ['token', 'head'], layerDetail: true },
    );
    const vocab = Array.from({ length: d.vocab_size }, (_, id) => tok.tokenText(id));
    const share = (r: DepassResult, layerDetail: boolean) =>
      snapshotRun({
        result: r,
        overrides: [],
        settings: { modes: ['token', 'head'], rule: 'softmax', layer: null, layerDetail },
        selected: 40,
        pinnedHead: { layer: 1, head: 2 },
        pinnedNeuron: null,
        flowThreshold: 0.1,
        vocab,
        layers: d.num_hidden_layers,
        vocabSize: d.vocab_size,
      });
    const plain = encodeRun(share(withoutLayerDetail(result), false));
    const detail = encodeRun(share(result, true));
    console.log(`link size, ${key}, 64 tokens, token+head: ${plain.length} characters; with per-layer detail: ${detail.length}`);
    expect(plain.length).toBeLessThan(11_000);
    expect(detail.length).toBeLessThan(26_000);

    const back = decodeRun(detail).result;
    result.token!.scores.forEach((row, i) => {
      const tol = maxAbs(row) / 254 + 1e-9;
      row.forEach((v, s) => expect(Math.abs(back.token!.scores[i][s] - v)).toBeLessThanOrEqual(tol));
    });
    result.head!.scores.forEach((rows, i) => {
      const tol = maxAbs(rows.flat()) / 254 + 1e-9;
      rows.forEach((row, l) => row.forEach((v, h) => expect(Math.abs(back.head!.scores[i][l][h] - v)).toBeLessThanOrEqual(tol)));
    });
    expect(back.predictions.map((p) => p.top.map((e) => e.id))).toEqual(result.predictions.map((p) => p.top.map((e) => e.id)));
  });
});
