// Character spans for tokens: maps each token's bytes back onto UTF-16 offsets of the prompt it
// came from, because @huggingface/tokenizers reports no offsets. Pure functions on bytes and
// strings; how a vocabulary piece becomes bytes is decided by the caller (tokenizer-pieces.ts).
//
// Rule for a character split across tokens: the token holding its LAST byte gets the whole
// character; earlier tokens that end inside it get the bytes before it only (an empty span when
// they lie entirely inside it). Byte offsets are rounded down to the start of their character.

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * GPT-2's reversible byte -> printable character table for byte-level BPE: printable Latin-1
 * bytes stand for themselves, the others take code points 256, 257, ... in byte order.
 */
export const BYTE_LEVEL_CHARS: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const chars: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) chars.push(String.fromCharCode(printable(b) ? b : next++));
  return chars;
})();

const BYTE_OF_CHAR: ReadonlyMap<string, number> = new Map(BYTE_LEVEL_CHARS.map((c, b) => [c, b]));

/** Bytes of a byte-level BPE piece (e.g. "Ġcaf" -> " caf"). */
export function byteLevelPieceBytes(piece: string): Uint8Array {
  const out: number[] = [];
  for (const ch of piece) {
    const b = BYTE_OF_CHAR.get(ch);
    // A character outside the table cannot come from byte-level BPE; keep its own bytes.
    if (b === undefined) out.push(...utf8(ch));
    else out.push(b);
  }
  return Uint8Array.from(out);
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

/** Bytes of a SentencePiece-style piece: `<0xNN>` is one byte, the metaspace is a space. */
export function sentencePieceBytes(piece: string, metaspace = '\u2581'): Uint8Array {
  const m = BYTE_PIECE.exec(piece);
  if (m) return Uint8Array.of(parseInt(m[1]!, 16));
  return utf8(piece.split(metaspace).join(' '));
}

/** Length of the well-formed UTF-8 character starting at bytes[i], or 0 if none starts there. */
export function utf8CharLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  let len: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) len = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 === 0xe0) lo = 0xa0; // no overlongs
    if (b0 === 0xed) hi = 0x9f; // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 === 0xf0) lo = 0x90;
    if (b0 === 0xf4) hi = 0x8f; // nothing above U+10FFFF
  } else return 0;
  if (i + len > bytes.length) return 0;
  const b1 = bytes[i + 1]!;
  if (b1 < lo || b1 > hi) return 0;
  for (let k = 2; k < len; k++) {
    const b = bytes[i + k]!;
    if (b < 0x80 || b > 0xbf) return 0;
  }
  return len;
}

/**
 * Text for display: well-formed characters as themselves, every byte that is not part of one as
 * `<0xNN>` (so a token holding half a character still shows something).
 */
export function displayBytes(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length;) {
    const len = utf8CharLength(bytes, i);
    if (len === 0) {
      s += `<0x${bytes[i]!.toString(16).toUpperCase().padStart(2, '0')}>`;
      i += 1;
    } else {
      let cp = len === 1 ? bytes[i]! : bytes[i]! & (0xff >> (len + 1));
      for (let k = 1; k < len; k++) cp = (cp << 6) | (bytes[i + k]! & 0x3f);
      s += String.fromCodePoint(cp);
      i += len;
    }
  }
  return s;
}

/**
 * For each byte offset 0..n of `bytes`, the offset where the character holding that byte starts
 * (offset n maps to n). Bytes that are not part of a well-formed character stand alone.
 */
function charStarts(bytes: Uint8Array): Int32Array {
  const starts = new Int32Array(bytes.length + 1);
  for (let i = 0; i < bytes.length;) {
    const len = Math.max(1, utf8CharLength(bytes, i));
    for (let k = 0; k < len; k++) starts[i + k] = i;
    i += len;
  }
  starts[bytes.length] = bytes.length;
  return starts;
}

/**
 * For each UTF-8 byte offset of `text` (as TextEncoder writes it), the UTF-16 offset of the
 * character holding that byte; the final entry is text.length.
 */
function utf16OffsetsOfBytes(text: string, byteLength: number): Int32Array {
  const map = new Int32Array(byteLength + 1);
  let b = 0;
  for (let k = 0; k < text.length;) {
    const c = text.charCodeAt(k);
    let len: number;
    let units = 1;
    if (c < 0x80) len = 1;
    else if (c < 0x800) len = 2;
    else if (c >= 0xd800 && c <= 0xdbff && k + 1 < text.length) {
      const d = text.charCodeAt(k + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        len = 4;
        units = 2;
      } else len = 3; // lone surrogate: TextEncoder writes U+FFFD
    } else len = 3;
    for (let t = 0; t < len; t++) map[b + t] = k;
    b += len;
    k += units;
  }
  map[byteLength] = text.length;
  return map;
}

function concat(parts: readonly Uint8Array[]): { bytes: Uint8Array; bounds: Int32Array } {
  const bounds = new Int32Array(parts.length + 1);
  for (let k = 0; k < parts.length; k++) bounds[k + 1] = bounds[k]! + parts[k]!.length;
  const bytes = new Uint8Array(bounds[parts.length]!);
  parts.forEach((p, k) => bytes.set(p, bounds[k]!));
  return { bytes, bounds };
}

function looselyEqual(a: number, b: number): boolean {
  // ASCII case folding absorbs lowercasing normalizers at no cost.
  return a === b || ((a | 0x20) === (b | 0x20) && (a | 0x20) >= 0x61 && (a | 0x20) <= 0x7a);
}

/** a[aStart..] equals b, byte for byte up to ASCII case. */
function sameBytes(a: Uint8Array, aStart: number, b: Uint8Array): boolean {
  if (a.length - aStart !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (!looselyEqual(a[aStart + i]!, b[i]!)) return false;
  return true;
}

/**
 * Half-width of the diagonal band the edit-distance alignment explores, beyond the difference in
 * length (which an optimal path may need in full); total cells are capped to bound time and memory.
 */
const BAND = 128;
const MAX_CELLS = 1 << 25;
const DIAG = 1;
const UP = 2; // a prompt byte no token accounts for (stripped whitespace, normalizer deletions)
const LEFT = 3; // a token byte absent from the prompt (a prepended space, normalizer insertions)

/**
 * Aligns the token byte stream S (m bytes) with the prompt bytes P (n bytes) by a banded edit
 * distance and returns, for every stream offset j in 0..m, the largest prompt offset on the
 * alignment path at column j. Monotone in j, with result[m] = n.
 */
function alignStream(P: Uint8Array, S: Uint8Array): Int32Array {
  const n = P.length;
  const m = S.length;
  const pos = new Int32Array(m + 1);
  if (n === 0) return pos;
  // Row i covers the columns between the diagonal at rows i and i + 1, widened by BAND, so that
  // consecutive rows always overlap and (n, m) stays reachable.
  const w = Math.max(1, Math.min(Math.abs(m - n) + BAND, Math.floor((MAX_CELLS / (n + 1) - m / n - 2) / 2)));
  const lo = new Int32Array(n + 1);
  const hi = new Int32Array(n + 1);
  const rowStart = new Float64Array(n + 2);
  for (let i = 0; i <= n; i++) {
    lo[i] = Math.max(0, Math.floor((i * m) / n) - w);
    hi[i] = i === n ? m : Math.min(m, Math.ceil(((i + 1) * m) / n) + w);
    rowStart[i + 1] = rowStart[i]! + (hi[i]! - lo[i]! + 1);
  }
  const dir = new Uint8Array(rowStart[n + 1]!);
  const INF = 0x3fffffff;
  let prev = new Int32Array(0);
  for (let i = 0; i <= n; i++) {
    const l = lo[i]!;
    const h = hi[i]!;
    const cur = new Int32Array(h - l + 1);
    const pl = i > 0 ? lo[i - 1]! : 0;
    const ph = i > 0 ? hi[i - 1]! : -1;
    const base = rowStart[i]!;
    for (let j = l; j <= h; j++) {
      let best = INF;
      let d = 0;
      if (i === 0 && j === 0) best = 0;
      // Ties prefer UP, then DIAG, then LEFT. Read backwards from the end, this places prompt
      // bytes no token spells as late as possible (inside the token that rewrote them, e.g.
      // "e\u0301" under an NFC "é") and dropped stream bytes as early as possible (a prepended
      // space is the first byte).
      if (i > 0 && j >= pl && j <= ph) {
        const c = prev[j - pl]! + 1;
        if (c < best) [best, d] = [c, UP];
      }
      if (i > 0 && j > 0 && j - 1 >= pl && j - 1 <= ph) {
        const c = prev[j - 1 - pl]! + (looselyEqual(P[i - 1]!, S[j - 1]!) ? 0 : 1);
        if (c < best) [best, d] = [c, DIAG];
      }
      if (j > l) {
        const c = cur[j - 1 - l]! + 1;
        if (c < best) [best, d] = [c, LEFT];
      }
      cur[j - l] = best;
      dir[base + j - l] = d;
    }
    prev = cur;
  }
  const seen = new Uint8Array(m + 1);
  let i = n;
  let j = m;
  for (;;) {
    if (!seen[j]) {
      seen[j] = 1;
      pos[j] = i;
    }
    if (i === 0 && j === 0) break;
    const d = dir[rowStart[i]! + j - lo[i]!];
    if (d === DIAG) {
      i--;
      j--;
    } else if (d === LEFT) j--;
    else i--;
  }
  return pos;
}

/**
 * Byte spans [start, end) in the prompt for each token, contiguous and covering the prompt:
 * the first token starts at 0, the last ends at n. Exact when the tokens' bytes spell the
 * prompt, possibly after one prepended space; otherwise (or when asked) an edit-distance
 * alignment, which gives the same cuts in the exact cases.
 */
export function alignTokenBytes(prompt: Uint8Array, tokens: readonly Uint8Array[], method: 'auto' | 'edit-distance' = 'auto'): Int32Array {
  const { bytes: S, bounds } = concat(tokens);
  let pos: (j: number) => number;
  if (method === 'auto' && sameBytes(S, 0, prompt)) pos = (j) => j;
  else if (method === 'auto' && S.length > 0 && S[0] === 0x20 && sameBytes(S, 1, prompt)) {
    pos = (j) => Math.max(0, j - 1);
  } else {
    const path = alignStream(prompt, S);
    pos = (j) => path[j]!;
  }
  const out = new Int32Array(tokens.length + 1);
  for (let k = 1; k <= tokens.length; k++) out[k] = pos(bounds[k]!);
  out[tokens.length] = prompt.length;
  return out;
}

export interface PieceSpan {
  /** UTF-16 offsets into the prompt. */
  start: number;
  end: number;
  /** Display text: the characters this token completes, or its bytes as `<0xNN>` if none. */
  text: string;
}

/**
 * UTF-16 spans and display texts for tokens given as their bytes, in order. Spans are monotone,
 * contiguous and cover the whole prompt (when there is at least one token).
 */
export function spansForTokens(prompt: string, tokens: readonly Uint8Array[]): PieceSpan[] {
  const P = utf8(prompt);
  const bounds = alignTokenBytes(P, tokens);
  const u16 = utf16OffsetsOfBytes(prompt, P.length);
  const { bytes: S, bounds: sBounds } = concat(tokens);
  const sStarts = charStarts(S);
  return tokens.map((own, k) => {
    const text = displayBytes(S.subarray(sStarts[sBounds[k]!]!, sStarts[sBounds[k + 1]!]!));
    return {
      start: u16[bounds[k]!]!,
      end: u16[bounds[k + 1]!]!,
      text: text === '' && own.length > 0 ? displayBytes(own) : text,
    };
  });
}
