// Number and token formatting shared by every view: fixed significant digits, signed values,
// sizes, and token text with its whitespace made visible. Pure functions.

/** Four significant digits, plain notation for everyday magnitudes. */
export function num(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(Math.max(0, digits - 2));
  return x
    .toPrecision(digits)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
}

export function signed(x: number, digits = 4): string {
  return (x > 0 ? '+' : x < 0 ? '−' : '') + num(Math.abs(x), digits);
}

/** At most five characters ("−0.06", "12.3", "148"), for numbers printed inside cells. */
export function compact(v: number): string {
  const a = Math.abs(v);
  const t = a >= 99.5 ? a.toFixed(0) : a >= 9.95 ? a.toFixed(1) : a.toFixed(2);
  return (v < 0 && Number(t) !== 0 ? '−' : '') + t;
}

export function percent(x: number): string {
  if (!Number.isFinite(x)) return '—';
  const p = x * 100;
  if (p === 0) return '0%';
  return `${Math.abs(p) >= 10 ? p.toFixed(0) : p.toFixed(1)}%`;
}

export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

export function count(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

/**
 * Characters that can lie about the text around them or vanish: C0 and C1 controls, DEL, the
 * bidirectional embeddings, overrides, isolates and marks, and the invisible separators and
 * joiners. Shown visibly wherever text from a model, a prompt or a link is displayed.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/**
 * A hidden character as something one can see: <0x1B> for C0, DEL and C1 (as byte tokens are
 * written; the Unicode control pictures are missing from common monospace fonts), <U+202E> for
 * the rest.
 */
function shown(c: string): string {
  const code = c.charCodeAt(0);
  const hex = code.toString(16).toUpperCase();
  return code <= 0x9f ? `<0x${hex.padStart(2, '0')}>` : `<U+${hex.padStart(4, '0')}>`;
}

/** Text from outside (model names, prompts, link texts) with every hidden character made visible. */
export function plainText(text: string): string {
  return text.replace(HIDDEN, shown);
}

/**
 * Token text for display: spaces as '·', newlines and tabs as symbols, other control and
 * bidirectional characters visible (see plainText), so ' the' and 'the' look different and
 * nothing is invisible or reorders its neighbours. Empty text shows '∅'.
 */
export function tokenLabel(text: string): string {
  if (text.length === 0) return '∅';
  const spaced = text.replace(/[ \n\t\r]/g, (c) => (c === ' ' ? '·' : c === '\n' ? '↵' : c === '\t' ? '⇥' : '␍'));
  return plainText(spaced).replace(/\s/g, shown);
}

/**
 * Wraps text in a first-strong isolate (U+2068 … U+2069): a right-to-left token then cannot
 * pull the numbers and words beside it into its own direction, in HTML, SVG and exported files.
 */
export function isolate(text: string): string {
  return `\u2068${text}\u2069`;
}

/** Shortens text to `max` characters with an ellipsis (for sentences and captions; tooltips keep it whole). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

/** Quoted, visible, isolated token text for sentences (summary, captions, accessible names). */
export function tokenSpeech(text: string, max = 40): string {
  return `“${isolate(clip(plainText(text.replace(/\n/g, '\\n')), max))}”`;
}

/**
 * Decimals that a permalink holds for a row of scores, which it stores as signed bytes times
 * max|row| / 127: with this many decimals the last digit shown is within one unit of the run's
 * own value. A shared run shows no more digits than that.
 */
export function heldDecimals(row: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < row.length; i++) if (Number.isFinite(row[i])) max = Math.max(max, Math.abs(row[i]));
  const step = max / 127;
  return step > 0 ? Math.min(6, Math.max(0, Math.floor(-Math.log10(step)))) : 0;
}

/** A signed score with a fixed number of decimals ("+0.1", "−12", "0"). */
export function heldSigned(x: number, decimals: number): string {
  const t = Math.abs(x).toFixed(decimals);
  return Number(t) === 0 ? t : (x > 0 ? '+' : '−') + t;
}

/** How views print a score of `row`: live runs with `digits` significant digits, shared runs with the digits the link holds. */
export function scoreText(x: number, row: ArrayLike<number>, shared: boolean, digits = 4): string {
  return shared ? heldSigned(x, heldDecimals(row)) : signed(x, digits);
}
