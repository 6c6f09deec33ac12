// The caption block of every exported picture: which model (and fingerprint), prompt, position,
// target or contrast and MLP rule a view shows, as plain lines. Pure, so the words are tested
// apart from the DOM; export.ts draws them under the chart.

import type { Focus } from '../state/types';
import { shortFingerprint } from '../share/snapshot';
import { num, plainText, tokenSpeech } from './format';

/** How a view that lists source tokens showed them: per word, and with special tokens hidden. */
export interface SourceMode {
  words: boolean;
  hideSpecial: boolean;
}

export function captionLines(view: string, f: Focus, vocab: string[], shared: boolean, sources?: SourceMode): string[] {
  const r = f.result;
  const text = (id: number) => vocab[id] ?? `#${id}`;
  const t = f.target;
  const target =
    t.contrast_id === null
      ? `target ${tokenSpeech(text(t.id))} (${f.custom ? 'chosen' : 'the model’s prediction'}), logit ${num(t.logit)}`
      : `target ${tokenSpeech(text(t.id))} vs ${tokenSpeech(text(t.contrast_id))}, logit difference ${num(t.logit)}`;
  const grouping = [
    sources?.words ? 'scores per word (each the exact sum of its tokens’ scores)' : null,
    sources?.hideSpecial ? 'special tokens hidden, their total shown as one entry' : null,
  ].filter((x) => x !== null);
  return [
    `DePass Studio · ${view}${sources?.words ? ' per word' : ''} · model ${plainText(r.model.name)} (${shortFingerprint(r.model.fingerprint)})`,
    `prompt: “${plainText(r.prompt)}” (${r.tokens.length} tokens)`,
    `position ${f.position} ${tokenSpeech(r.tokens[f.position]?.text ?? '')} · ${target}`,
    `MLP rule: ${r.rule === 'softmax' ? 'softmax, τ 0.1' : 'proportional'}${shared ? ' · from a shared link: scores rounded to 8 bits per row' : ''}`,
    ...(grouping.length > 0 ? [grouping.join(' · ')] : []),
  ];
}
