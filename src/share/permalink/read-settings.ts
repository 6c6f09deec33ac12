// Reading a link's settings, view state and vocabulary from its JSON head, each field checked
// against the token count and the model's layers. Not the result itself (read-run.ts,
// read-sections.ts).

import { MAX_TEMPERATURE } from '../../depass/generate';
import type { Mode } from '../../depass/result';
import { MAX_HEADS, MAX_NEURONS, MAX_TOKEN_TEXT, MAX_TOKENS, MAX_VOCAB_ENTRIES, MAX_VOCAB_ID } from './caps';
import type { RunSettingsShared, ViewState } from './format';
import { arr, bad, int, isObj, num, str } from './validate';

const MODES: Mode[] = ['token', 'head', 'neuron', 'module', 'subspace'];
const VIEWS = new Set(['tokens', 'prediction', 'heads', 'flow', 'layers', 'neurons', 'modules', 'lens', 'ablation']);

export function vocabOf(raw: unknown, vocabBound: number): [number, string][] {
  const entries = arr(raw, 'vocabulary', undefined, MAX_VOCAB_ENTRIES);
  return entries.map((e) => {
    const a = arr(e, 'vocabulary entry', 2);
    return [int(a[0], 'vocabulary id', 0, vocabBound), str(a[1], 'vocabulary text', MAX_TOKEN_TEXT)];
  });
}

export function settingsOf(raw: unknown, T: number, maxLayers: number): RunSettingsShared {
  const s = isObj(raw) ? raw : bad('settings');
  const modes = arr(s.modes, 'modes', undefined, 5).map((m) => (MODES.includes(m as Mode) ? (m as Mode) : bad('mode')));
  const out: RunSettingsShared = { modes, rule: s.rule === 'proportional' ? 'proportional' : s.rule === 'softmax' ? 'softmax' : bad('rule') };
  if (s.layer !== undefined) out.layer = int(s.layer, 'layer', 0, maxLayers - 1);
  if (s.target !== undefined) out.target = int(s.target, 'target', 0, MAX_VOCAB_ID);
  if (s.contrast !== undefined) out.contrast = int(s.contrast, 'contrast', 0, MAX_VOCAB_ID);
  if (s.positions !== undefined) {
    out.positions =
      s.positions === 'all' || s.positions === 'last'
        ? s.positions
        : arr(s.positions, 'positions', undefined, MAX_TOKENS).map((p) => int(p, 'position', 0, T - 1));
  }
  if (s.layerDetail !== undefined) out.layerDetail = typeof s.layerDetail === 'boolean' ? s.layerDetail : bad('layer detail');
  return out;
}

export function viewOf(raw: unknown, T: number, maxLayers: number): ViewState {
  const v = isObj(raw) ? raw : bad('view');
  const views = arr(v.views, 'views', undefined, 16).map((n) => (typeof n === 'string' && VIEWS.has(n) ? n : bad('view name')));
  let head: ViewState['head'] = null;
  if (v.head !== null && v.head !== undefined) {
    const hd = isObj(v.head) ? v.head : bad('chosen head');
    head = { layer: int(hd.layer, 'chosen head layer', 0, maxLayers - 1), head: int(hd.head, 'chosen head', 0, MAX_HEADS - 1) };
  }
  const threshold = num(v.threshold, 'threshold');
  if (threshold < 0 || threshold > 1) bad('threshold');
  const out: ViewState = {
    selected: v.selected === null ? null : int(v.selected, 'selected position', 0, T - 1),
    views,
    threshold,
    head,
    layer: v.layer === null || v.layer === undefined ? null : int(v.layer, 'layer', 0, maxLayers - 1),
  };
  if (v.neuron !== undefined) out.neuron = v.neuron === null ? null : int(v.neuron, 'pinned neuron', 0, MAX_NEURONS - 1);
  if (v.words !== undefined) out.words = typeof v.words === 'boolean' ? v.words : bad('words setting');
  if (v.hideSpecial !== undefined) out.hideSpecial = typeof v.hideSpecial === 'boolean' ? v.hideSpecial : bad('special tokens setting');
  if (v.special !== undefined) {
    const at = arr(v.special, 'special tokens', undefined, Math.min(T, MAX_TOKENS)).map((p) => int(p, 'special token position', 0, T - 1));
    if (at.some((p, k) => k > 0 && p <= at[k - 1]!)) bad('special token positions (not ascending)');
    out.special = at;
  }
  if (v.generated !== undefined) {
    const g = isObj(v.generated) ? v.generated : bad('generated tokens');
    const temperature = num(g.temperature, 'generation temperature');
    if (temperature < 0 || temperature > MAX_TEMPERATURE) bad('generation temperature');
    out.generated = { first: int(g.first, 'first generated position', 1, T - 1), temperature, seed: int(g.seed, 'generation seed', 0, 0xffffffff) };
  }
  return out;
}
