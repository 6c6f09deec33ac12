// The binary tail of a link: zigzag varints, rows of scores as an f32 scale and one signed byte
// each, fixed-point logits, rests and top-k entries. ByteWriter and ByteReader mirror each other;
// what the sections are and in which order is encode.ts's and read-sections.ts's business.

import type { TopEntry } from '../../depass/result';
import { MAX_FIXED, MAX_SCORE } from './caps';
import { LinkError } from './format';
import { fromUnits, Q, quant, REST_STEP, rowScale, sumOf, units } from './quantise';

export class ByteWriter {
  private buf = new Uint8Array(1024);
  private n = 0;
  private ensure(k: number) {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }
  /** A quantised score, one raw byte (deflate packs these far better than varints). */
  i8(v: number) {
    this.ensure(1);
    this.buf[this.n++] = v & 0xff;
  }
  f32(v: number) {
    this.ensure(4);
    new DataView(this.buf.buffer).setFloat32(this.n, v, true);
    this.n += 4;
  }
  int(v: number) {
    let z = v < 0 ? -2 * v - 1 : 2 * v; // zigzag
    this.ensure(5);
    while (z >= 0x80) {
      this.buf[this.n++] = (z & 0x7f) | 0x80;
      z = Math.floor(z / 128);
    }
    this.buf[this.n++] = z;
  }
  fixed(x: number) {
    this.int(units(x));
  }
  /** One row of scores: its f32 scale, then one signed byte per score. */
  row(row: ArrayLike<number>): void {
    const scale = rowScale(row);
    this.f32(scale);
    for (let i = 0; i < row.length; i++) this.i8(quant(row[i], scale));
  }
  /**
   * A rest, as the run's own completeness residual (Σ scores + rest − logit, against the logit
   * as stored): the decoder adds it to logit − Σ(decoded scores).
   */
  rest(rest: number, logit: number, scores: ArrayLike<number>) {
    // Clamped to what the decoder accepts: only a run far from complete could reach it.
    const r = Math.round((rest + sumOf(scores) - fromUnits(units(logit))) / REST_STEP);
    this.int(Math.max(-MAX_FIXED, Math.min(MAX_FIXED, Number.isFinite(r) ? r : 0)));
  }
  /** Top-k entries: ids, the first logit, then each drop from the one before (small, positive). */
  top(entries: TopEntry[]) {
    let prev = 0;
    entries.forEach((e, k) => {
      const u = units(e.logit);
      this.int(e.id);
      this.int(k === 0 ? u : prev - u);
      prev = u;
    });
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.n);
  }
}

export class ByteReader {
  private i = 0;
  constructor(private readonly b: Uint8Array) {}
  /** A zigzag varint of at most 5 bytes, within [-bound, bound]. */
  int(bound = MAX_FIXED): number {
    let z = 0;
    let mul = 1;
    for (let k = 0; k < 5; k++) {
      if (this.i >= this.b.length) throw new LinkError('this link is damaged: truncated data');
      const byte = this.b[this.i++];
      z += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        const v = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        if (Math.abs(v) > bound) throw new LinkError('this link is damaged: number out of range');
        return v;
      }
      mul *= 128;
    }
    throw new LinkError('this link is damaged: bad number');
  }
  fixed(): number {
    return fromUnits(this.int());
  }
  /** A quantised row: f32 scale, then n signed bytes; also Σ as the encoder computed it. */
  row(n: number): { values: number[]; sum: number } {
    if (this.i + 4 + n > this.b.length) throw new LinkError('this link is damaged: truncated scores');
    const scale = new DataView(this.b.buffer, this.b.byteOffset).getFloat32(this.i, true);
    this.i += 4;
    if (!Number.isFinite(scale) || scale < 0 || scale > MAX_SCORE / Q) throw new LinkError('this link is damaged: bad score scale');
    const values = new Array<number>(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const q = (this.b[this.i++] << 24) >> 24;
      if (q < -Q) throw new LinkError('this link is damaged: score out of range');
      values[k] = q * scale;
      sum += values[k];
    }
    return { values, sum };
  }
  /** Version 2 rests: logit − Σ decoded scores + the run's own completeness residual. */
  rest(logit: number, sum: number): number {
    const v = logit - sum + this.int() * REST_STEP;
    if (!Number.isFinite(v)) throw new LinkError('this link is damaged: bad rest');
    return v;
  }
  remaining(): number {
    return this.b.length - this.i;
  }
}
