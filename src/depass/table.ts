// A result as one tidy table: a row per (target, mode, layer, component) with its score and its
// share of the target's logit, rest components included, so that a mode's rows for a target sum
// to that target's logit. Written as CSV by the CLI (--format csv) and the app's "Export CSV".
// Columns are documented in docs/result-format.md.

import type { DepassResult } from './result';
import type { WordGroup } from './words';

export const CSV_COLUMNS = [
  'position',
  'token',
  'target',
  'target_text',
  'contrast',
  'mode',
  'layer',
  'component',
  'component_text',
  'score',
  'share',
] as const;

export type TableRow = Record<(typeof CSV_COLUMNS)[number], string | number>;

/**
 * Every row of the result's modes (or of the ones given). `tokenText` names token ids when the
 * vocabulary is at hand. With `words`, token mode is written per word instead (mode `word`, the
 * component its first-last positions, the text the word's), each score the exact sum of its tokens'.
 */
export function resultRows(r: DepassResult, opts: { modes?: string[]; tokenText?: (id: number) => string; words?: readonly WordGroup[] } = {}): TableRow[] {
  const want = (m: string) => (opts.modes ? opts.modes.includes(m) : true) && m in r;
  const name = (id: number | null) => (id === null ? '' : (opts.tokenText?.(id) ?? ''));
  const rows: TableRow[] = [];
  r.targets.forEach((tg, i) => {
    const base = { position: tg.position, token: r.tokens[tg.position]?.text ?? '', target: tg.id, target_text: name(tg.id), contrast: tg.contrast_id ?? '' };
    const add = (mode: string, layer: number | '', component: string | number, text: string, score: number) =>
      rows.push({ ...base, mode, layer, component, component_text: text, score, share: tg.logit !== 0 ? score / tg.logit : '' });
    if (want('token') && r.token && opts.words) {
      const row = r.token.scores[i]!;
      for (const w of opts.words) {
        const first = w.tokens[0]!;
        const last = w.tokens[w.tokens.length - 1]!;
        add(
          'word',
          '',
          first === last ? String(first) : `${first}-${last}`,
          w.text,
          w.tokens.reduce((sum, t) => sum + (row[t] ?? 0), 0),
        );
      }
      add('word', '', 'rest', '', r.token.rest[i]!);
    } else if (want('token') && r.token) {
      r.token.scores[i]!.forEach((s, src) => add('token', '', src, r.tokens[src]?.text ?? '', s));
      add('token', '', 'rest', '', r.token.rest[i]!);
    }
    if (want('head') && r.head) {
      r.head.scores[i]!.forEach((heads, k) => {
        const layer = r.head!.layers[k]!;
        heads.forEach((s, h) => add('head', layer, h, '', s));
        add('head', layer, 'rest', '', r.head!.rest[i]![k]!);
      });
    }
    if (want('neuron') && r.neuron) {
      r.neuron.scores[i]!.forEach((s, j) => add('neuron', r.neuron!.layer, j, '', s));
      add('neuron', r.neuron.layer, 'rest', '', r.neuron.rest[i]!);
    }
    if (want('module') && r.module) r.module.scores[i]!.forEach((s, k) => add('module', r.module!.layer, r.module!.names[k]!, '', s));
    if (want('subspace') && r.subspace) r.subspace.scores[i]!.forEach((s, k) => add('subspace', r.subspace!.layer, r.subspace!.names[k]!, '', s));
  });
  return rows;
}

/**
 * One CSV cell: quoted when it holds a comma, quote or line break; text that a spreadsheet would
 * run as a formula (starting with = + - @) is prefixed with an apostrophe. Numbers as they are.
 */
function cell(v: string | number): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(rows: readonly TableRow[]): string {
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}
