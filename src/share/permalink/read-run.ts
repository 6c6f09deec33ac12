// Rebuilding a run from a decoded link: model, prompt, tokens, predictions, targets, logit lens and
// the target re-run, each validated against the token count and the model shape. Not the container
// (decode.ts) and not the score sections' bytes (read-sections.ts).

import type { DepassResult, ResultTarget, TopEntry } from '../../depass/result';
import { RESULT_FORMAT } from '../../depass/result';
import type { ByteReader } from './binary';
import { MAX_FIXED, MAX_LAYERS, MAX_TOKEN_TEXT, MAX_TOKENS, MAX_VOCAB_ID } from './caps';
import type { SharedOverride, SharedRun } from './format';
import { fromUnits } from './quantise';
import { readSections, readTargets, type Need } from './read-sections';
import { settingsOf, viewOf, vocabOf } from './read-settings';
import { arr, bad, int, isObj, num, str } from './validate';
import { COMMIT, isRepoId } from '../../hub/repo-id';

export function rebuild(raw: unknown, r: ByteReader, version: number): SharedRun {
  if (!isObj(raw)) bad('no run header');
  const h = raw as Record<string, unknown>;
  if (h.v !== version) bad('version mismatch');
  const v = version;
  const model = isObj(h.model) ? h.model : bad('model');
  const prompt = str(h.prompt, 'prompt');
  const rule = h.rule === 'softmax' || h.rule === 'proportional' ? h.rule : bad('rule');
  let shape: SharedRun['shape'];
  if (h.shape !== undefined) {
    const s = isObj(h.shape) ? h.shape : bad('model shape');
    shape = { layers: int(s.layers, 'model layers', 1, MAX_LAYERS), vocab_size: int(s.vocab_size, 'model vocabulary', 1, MAX_VOCAB_ID) };
  }
  const maxLayers = shape?.layers ?? MAX_LAYERS;
  const vocabBound = shape ? shape.vocab_size - 1 : MAX_VOCAB_ID;

  const tokensRaw = arr(h.tokens, 'tokens', undefined, MAX_TOKENS);
  const T = tokensRaw.length;
  if (T === 0) bad('no tokens');
  const tokens = tokensRaw.map((t, i) => {
    const a = arr(t, `token ${i}`, undefined, 4);
    if (a.length !== 4 && !(v >= 2 && a.length === 3)) bad(`token ${i}`);
    const start = int(a[1], `token ${i} start`, 0, prompt.length);
    const end = int(a[2], `token ${i} end`, start, prompt.length);
    const text = a.length === 4 ? str(a[3], `token ${i} text`, MAX_TOKEN_TEXT) : prompt.slice(start, end);
    return { id: int(a[0], `token ${i} id`, 0, vocabBound), start, end, text };
  });
  // Every count below is checked against what the binary part can hold before any array is made.
  const need: Need = (n, what) => {
    if (n > r.remaining()) bad(`${what} cut short`);
  };
  const id = (what: string) => {
    const x = r.int();
    if (x < 0 || x > vocabBound) bad(what);
    return x;
  };
  const readTop = (k: number, what: string): TopEntry[] => {
    let prev = 0;
    return Array.from({ length: k }, (_, j): TopEntry => {
      const tid = id(`${what} id`);
      if (v < 2) return { id: tid, logit: r.fixed() };
      // A drop may span the whole range of logits, so that any decoded run encodes again.
      const u = j === 0 ? r.int() : prev - r.int(2 * MAX_FIXED);
      if (Math.abs(u) > MAX_FIXED) bad(`${what} logit`);
      prev = u;
      return { id: tid, logit: fromUnits(u) };
    });
  };
  const top = int(h.top, 'prediction count', 0, 64);
  need(T * top * 2, 'predictions');
  const predictions = Array.from({ length: T }, () => ({ top: readTop(top, 'prediction') }));
  let targets: ResultTarget[];
  if (h.targets === 'predictions') {
    if (top === 0) bad('targets without predictions');
    targets = predictions.map((p, position) => ({ position, id: p.top[0].id, contrast_id: null, logit: p.top[0].logit }));
  } else {
    targets = readTargets(r, need, int(h.targets, 'target count', 1, MAX_TOKENS), T);
  }

  const result: DepassResult = {
    format: RESULT_FORMAT,
    model: {
      name: str(model.name, 'model name', 500),
      architecture: str(model.architecture, 'model architecture', 50),
      fingerprint: str(model.fingerprint, 'model fingerprint', 200),
    },
    prompt,
    rule,
    tokens,
    predictions,
    targets,
    completeness: { max_abs_error: num(h.completeness, 'completeness') },
  };
  Object.assign(result, readSections(h, r, need, targets, T, v, maxLayers));
  if (h.lens !== undefined) {
    const ln = isObj(h.lens) ? h.lens : bad('logit lens');
    const L = int(ln.L, 'logit lens layers', 1, maxLayers);
    const k = int(ln.k, 'logit lens entries', 1, 64);
    const final = ln.final === undefined ? false : ln.final === true && k === top ? true : bad('logit lens');
    const stored = final ? L - 1 : L;
    need(T * stored * k * 2, 'logit lens');
    result.logit_lens = predictions.map((p) => {
      const layers = Array.from({ length: stored }, () => readTop(k, 'logit lens'));
      if (final) layers.push(p.top.map((e) => ({ ...e })));
      return layers;
    });
  }
  const run: SharedRun = { result, settings: settingsOf(h.settings, T, maxLayers), view: viewOf(h.view, T, maxLayers) };
  if (shape) run.shape = shape;
  if (h.source !== undefined) {
    // Only a well-formed id and a full commit hash: the app downloads from its own Hub address,
    // never from anything else a link names.
    const src = isObj(h.source) ? h.source : bad('model source');
    const hub = str(src.hub, 'model source', 200);
    const revision = str(src.revision, 'model revision', 40);
    if (!isRepoId(hub)) bad('model source');
    if (!COMMIT.test(revision)) bad('model revision');
    run.source = { hub, revision };
  }
  if (h.vocab !== undefined) run.vocab = vocabOf(h.vocab, vocabBound);
  if (h.override !== undefined) run.override = overrideOf(h.override, r, need, result, v, maxLayers, vocabBound);
  if (h.more !== undefined) {
    if (run.override === undefined) bad('further re-runs without a first');
    run.more = arr(h.more, 'further re-runs', undefined, T).map((m) => overrideOf(m, r, need, result, v, maxLayers, vocabBound));
  }
  return run;
}

function overrideOf(raw: unknown, r: ByteReader, need: Need, main: DepassResult, v: number, maxLayers: number, vocabBound: number): SharedOverride {
  const o = isObj(raw) ? raw : bad('target re-run');
  const T = main.tokens.length;
  const position = int(o.position, 're-run position', 0, T - 1);
  const target = int(o.target, 're-run target', 0, vocabBound);
  const contrast = o.contrast === null ? null : int(o.contrast, 're-run contrast', 0, vocabBound);
  const targets = readTargets(r, need, int(o.targets, 're-run target count', 1, MAX_TOKENS), T);
  if (!targets.some((t) => t.position === position)) bad('re-run position');
  const result: DepassResult = {
    format: RESULT_FORMAT,
    model: main.model,
    prompt: main.prompt,
    rule: main.rule,
    tokens: main.tokens,
    // The re-run shares the forward pass, hence the predictions and the logit lens.
    predictions: main.predictions,
    targets,
    completeness: { max_abs_error: num(o.completeness, 're-run completeness') },
    ...readSections(o, r, need, targets, T, v, maxLayers),
  };
  if (main.logit_lens) result.logit_lens = main.logit_lens;
  return { position, target, contrast, result };
}
