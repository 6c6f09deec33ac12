// The one-sentence text summary of the top contributors, read by screen readers (aria-live) and
// shown under the heatmap. Pure: built from the focus, the vocabulary and nothing else.

import type { Focus } from '../state/types';
import { num, percent, scoreText, tokenSpeech } from './format';
import { hiddenTotal, rankSources, spanLabel, type SourceSet } from './sources';

function topIndices(values: number[], k: number, keep: (i: number) => boolean = () => true): number[] {
  return values
    .map((v, i) => [v, i] as const)
    .filter(([v, i]) => keep(i) && Number.isFinite(v))
    .sort((a, b) => Math.abs(b[0]) - Math.abs(a[0]))
    .slice(0, k)
    .map(([, i]) => i);
}

export function targetName(f: Focus, vocab: string[]): string {
  const y = tokenSpeech(vocab[f.target.id] ?? `#${f.target.id}`);
  if (f.target.contrast_id === null) return y;
  return `${y} over ${tokenSpeech(vocab[f.target.contrast_id] ?? `#${f.target.contrast_id}`)}`;
}

/**
 * `shared`: a run from a link, whose scores are printed with the digits the link holds. `sources`:
 * the tokens or words the views list; hidden special tokens are left out of the ranking and named
 * once, together, after it.
 */
export function summarize(f: Focus, vocab: string[], k = 3, shared = false, sources?: SourceSet): string {
  const pos = f.result.tokens[f.position];
  const contrast = f.target.contrast_id !== null;
  const head = `At position ${f.position} (${tokenSpeech(pos?.text ?? '')}), ${f.custom ? 'the chosen target' : 'the prediction'} ${targetName(f, vocab)} has ${contrast ? 'logit difference' : 'logit'} ${num(f.target.logit)}`;
  const parts: string[] = [];
  const logit = f.target.logit;
  // With a contrast the shares are of the difference, and may exceed 100% or turn negative.
  const share = (v: number) => (Math.abs(logit) > 1e-9 ? `, ${percent(v / logit)}${contrast ? ' of the difference' : ''}` : '');
  const tok = f.result.token?.scores[f.i];
  if (tok && sources) {
    const top = rankSources(sources, tok, f.position).slice(0, k);
    const hidden = hiddenTotal(sources, tok, f.position);
    const listed = top.map(
      ({ source, score }) => `${tokenSpeech(source.text)} at ${spanLabel(source.positions)} (${scoreText(score, tok, shared, 3)}${share(score)})`,
    );
    if (hidden) listed.push(`the hidden special tokens together (${scoreText(hidden.score, tok, shared, 3)}${share(hidden.score)})`);
    if (listed.length) parts.push(`source ${sources.words ? 'words' : 'tokens'} ${listed.join(', ')}`);
  } else if (tok) {
    const top = topIndices(tok, k, (s) => s <= f.position);
    if (top.length)
      parts.push(
        `source tokens ${top.map((s) => `${tokenSpeech(f.result.tokens[s].text)} at ${s} (${scoreText(tok[s], tok, shared, 3)}${share(tok[s])})`).join(', ')}`,
      );
  }
  const hd = f.result.head;
  if (hd) {
    const flat: { label: string; v: number }[] = [];
    hd.scores[f.i].forEach((row, n) => row.forEach((v, h) => flat.push({ label: `layer ${hd.layers[n]} head ${h}`, v })));
    const top = topIndices(
      flat.map((x) => x.v),
      k,
    );
    const row = flat.map((x) => x.v);
    if (top.length) parts.push(`heads ${top.map((j) => `${flat[j].label} (${scoreText(flat[j].v, row, shared, 3)})`).join(', ')}`);
  }
  const nr = f.result.neuron;
  if (nr) {
    const top = topIndices(nr.scores[f.i], k);
    if (top.length) parts.push(`layer ${nr.layer} neurons ${top.map((j) => `${j} (${scoreText(nr.scores[f.i][j], nr.scores[f.i], shared, 3)})`).join(', ')}`);
  }
  if (parts.length === 0) return `${head}.`;
  return `${head}; the largest contributions come from ${parts.join('; and ')}.`;
}
