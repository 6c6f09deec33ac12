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
 * Token text for display: spaces as '·', newlines and tabs as symbols, other control bytes as
 * hex, so ' the' and 'the' look different and nothing is invisible. Empty text shows '∅'.
 */
export function tokenLabel(text: string): string {
  if (text.length === 0) return '∅';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this makes visible
  return text.replace(/[\s\u0000-\u001f\u007f]/g, (c) => {
    if (c === ' ') return '·';
    if (c === '\n') return '↵';
    if (c === '\t') return '⇥';
    if (c === '\r') return '␍';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** Plain, quoted token text for sentences read by screen readers. */
export function tokenSpeech(text: string): string {
  return `“${text.replace(/\n/g, '\\n')}”`;
}
