// Byte-level mutations for fuzzing binary inputs (safetensors files, llama2.c .bin files,
// tokenizer.bin) and the raw bytes of text files: bit flips, truncations, insertions, deletions,
// duplicated regions, splices of two inputs, boundary values in integer fields and invalid
// UTF-8. Every operation is a pure function of the Rng; none knows a file format.

import type { Rng } from './rng';

/** A mutated input and the operations that made it, for reproducing a failing case. */
export interface Mutated<T> {
  value: T;
  ops: string[];
}

/** Integers parsers are most likely to mishandle: zero, signs, and the edges of 8/16/32/53/64 bits. */
export const BOUNDARY_INTS: readonly number[] = [
  0,
  1,
  -1,
  2,
  3,
  7,
  8,
  127,
  128,
  255,
  256,
  1023,
  1024,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  -(2 ** 53),
  2 ** 63,
];

/** Byte sequences that are not UTF-8 (or are UTF-8 a strict decoder should still be wary of). */
export const INVALID_UTF8: readonly (readonly number[])[] = [
  [0xc3, 0x28], // bad continuation
  [0xa0, 0xa1], // lone continuations
  [0xe2, 0x28, 0xa1],
  [0xf0, 0x90, 0x28, 0xbc],
  [0xed, 0xa0, 0x80], // an encoded surrogate
  [0xc0, 0xaf], // overlong '/'
  [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
  [0xff],
  [0xfe, 0xff],
  [0xe2, 0x82], // cut inside a character
  [0xef, 0xbb, 0xbf], // a byte-order mark (valid, but not where a parser expects it)
  [0x00],
];

/** An integer field of a binary format: where it is and how wide. */
export interface IntField {
  offset: number;
  width: 4 | 8;
  name: string;
  /** 'f32' fields get NaN and infinities as well as integers. */
  kind?: 'int' | 'f32';
}

export interface ByteMutationOptions {
  /** Another valid input of the same format, for splices. */
  other?: Uint8Array;
  /** Known integer fields (headers, lengths) to overwrite with boundary values. */
  intFields?: readonly IntField[];
  /** At most this many operations in a row; default 3. */
  maxOps?: number;
  /** The output never grows beyond this many bytes; default 4x the input plus 64 KiB. */
  maxBytes?: number;
}

const concat = (...parts: Uint8Array[]): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
};

/** Writes `value` into a 4- or 8-byte little-endian field, wrapping what does not fit. */
export function writeInt(bytes: Uint8Array, offset: number, width: 4 | 8, value: number): void {
  if (offset < 0 || offset + width > bytes.byteLength) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (width === 8) {
    const big = BigInt.asUintN(64, BigInt(Math.trunc(value)));
    view.setBigUint64(offset, big, true);
  } else {
    view.setUint32(offset, Number(BigInt.asUintN(32, BigInt(Math.trunc(value)))), true);
  }
}

/** Values to try in a field that currently holds `current`: boundaries and near misses. */
export function nearbyInts(rng: Rng, current: number): number {
  return rng.weighted<() => number>([
    [4, () => rng.pick(BOUNDARY_INTS)],
    [2, () => current + rng.pick([-1, 1, -2, 2, -4, 4, 8])],
    [1, () => current * 2],
    [1, () => Math.floor(current / 2)],
    [1, () => -current],
    [1, () => current * rng.range(3, 1000)],
  ])();
}

export function flipBits(rng: Rng, b: Uint8Array): Mutated<Uint8Array<ArrayBuffer>> {
  const out = b.slice();
  const n = rng.range(1, 8);
  const at: number[] = [];
  for (let k = 0; k < n && out.length > 0; k++) {
    const i = rng.position(out.length - 1);
    out[i]! ^= 1 << rng.int(8);
    at.push(i);
  }
  return { value: out, ops: [`flip bits at ${at.join(',')}`] };
}

export function setBytes(rng: Rng, b: Uint8Array): Mutated<Uint8Array<ArrayBuffer>> {
  const out = b.slice();
  if (out.length === 0) return { value: out, ops: ['set bytes (empty)'] };
  const i = rng.position(out.length - 1);
  const n = Math.min(out.length - i, rng.range(1, 8));
  const v = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x5c, rng.int(256)]);
  out.fill(v, i, i + n);
  return { value: out, ops: [`set ${n} bytes at ${i} to 0x${v.toString(16)}`] };
}

export function truncate(rng: Rng, b: Uint8Array): Mutated<Uint8Array<ArrayBuffer>> {
  const at = rng.position(Math.max(0, b.length - 1));
  return { value: b.slice(0, at), ops: [`truncate to ${at}`] };
}

export function extend(rng: Rng, b: Uint8Array, maxBytes: number): Mutated<Uint8Array<ArrayBuffer>> {
  const n = Math.max(0, Math.min(maxBytes - b.length, rng.pick([1, 3, 4, 8, 100, 4096, rng.int(65536)])));
  const tail = new Uint8Array(n);
  if (rng.chance(0.5)) for (let i = 0; i < n; i++) tail[i] = rng.int(256);
  return { value: concat(b, tail), ops: [`append ${n} bytes`] };
}

export function insertBytes(rng: Rng, b: Uint8Array, maxBytes: number): Mutated<Uint8Array<ArrayBuffer>> {
  const at = rng.position(b.length);
  let ins: Uint8Array;
  let what: string;
  if (rng.chance(0.5)) {
    ins = Uint8Array.from(rng.pick(INVALID_UTF8));
    what = 'invalid UTF-8';
  } else {
    ins = Uint8Array.from({ length: rng.range(1, 16) }, () => rng.int(256));
    what = 'random bytes';
  }
  if (b.length + ins.length > maxBytes) return { value: b.slice(), ops: ['insert (skipped: size cap)'] };
  return { value: concat(b.subarray(0, at), ins, b.subarray(at)), ops: [`insert ${ins.length} ${what} at ${at}`] };
}

export function deleteRegion(rng: Rng, b: Uint8Array): Mutated<Uint8Array<ArrayBuffer>> {
  const at = rng.position(b.length);
  const n = Math.min(b.length - at, rng.pick([1, 2, 4, 8, rng.int(256), rng.int(b.length + 1)]));
  return { value: concat(b.subarray(0, at), b.subarray(at + n)), ops: [`delete ${n} bytes at ${at}`] };
}

export function duplicateRegion(rng: Rng, b: Uint8Array, maxBytes: number): Mutated<Uint8Array<ArrayBuffer>> {
  const from = rng.position(b.length);
  const n = Math.min(b.length - from, rng.pick([4, 8, 64, rng.int(4096), rng.int(b.length + 1)]));
  const region = b.subarray(from, from + n);
  const times = rng.pick([1, 1, 2, 16, 256]);
  const to = rng.position(b.length);
  const copies = Math.max(0, Math.min(times, n === 0 ? 0 : Math.floor((maxBytes - b.length) / n)));
  const parts: Uint8Array[] = [b.subarray(0, to)];
  for (let k = 0; k < copies; k++) parts.push(region);
  parts.push(b.subarray(to));
  return { value: concat(...parts), ops: [`copy ${n} bytes from ${from} to ${to} x${copies}`] };
}

/** The start of one input glued to the end of another, at random cut points. */
export function splice(rng: Rng, a: Uint8Array, b: Uint8Array): Mutated<Uint8Array<ArrayBuffer>> {
  const i = rng.position(a.length);
  const j = rng.position(b.length);
  return { value: concat(a.subarray(0, i), b.subarray(j)), ops: [`splice a[0, ${i}) + b[${j}, ${b.length})`] };
}

export function overwriteInt(rng: Rng, b: Uint8Array, fields?: readonly IntField[]): Mutated<Uint8Array<ArrayBuffer>> {
  const out = b.slice();
  const usable = (fields ?? []).filter((f) => f.offset + f.width <= out.length);
  const field: IntField =
    usable.length > 0 && rng.chance(0.8) ? rng.pick(usable) : { offset: rng.position(Math.max(0, out.length - 4)) & ~3, width: 4, name: 'word' };
  if (field.offset + field.width > out.length) return { value: out, ops: ['overwrite int (too short)'] };
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (field.kind === 'f32' && rng.chance(0.6)) {
    const v = rng.pick([NaN, Infinity, -Infinity, -0, 3.4e38, -3.4e38, 1e-45]);
    view.setFloat32(field.offset, v, true);
    return { value: out, ops: [`${field.name}@${field.offset} = f32 ${v}`] };
  }
  const current = field.width === 4 ? view.getInt32(field.offset, true) : Number(view.getBigInt64(field.offset, true));
  const v = nearbyInts(rng, current);
  writeInt(out, field.offset, field.width, v);
  return { value: out, ops: [`${field.name}@${field.offset} = ${v}`] };
}

/** One to `maxOps` random byte operations applied in turn. */
export function mutateBytes(rng: Rng, input: Uint8Array, opts: ByteMutationOptions = {}): Mutated<Uint8Array<ArrayBuffer>> {
  const maxBytes = opts.maxBytes ?? input.length * 4 + 65536;
  let value: Uint8Array<ArrayBuffer> = input.slice();
  const ops: string[] = [];
  const n = rng.range(1, opts.maxOps ?? 3);
  for (let k = 0; k < n; k++) {
    const other = opts.other;
    const step = rng.weighted<() => Mutated<Uint8Array<ArrayBuffer>>>([
      [4, () => flipBits(rng, value)],
      [2, () => setBytes(rng, value)],
      [2, () => truncate(rng, value)],
      [1, () => extend(rng, value, maxBytes)],
      [2, () => insertBytes(rng, value, maxBytes)],
      [2, () => deleteRegion(rng, value)],
      [2, () => duplicateRegion(rng, value, maxBytes)],
      [other ? 1 : 0, () => splice(rng, value, other!)],
      [other ? 1 : 0, () => splice(rng, other!, value)],
      [opts.intFields?.length ? 4 : 1, () => overwriteInt(rng, value, opts.intFields)],
    ])();
    value = step.value;
    ops.push(...step.ops);
  }
  return { value, ops };
}
