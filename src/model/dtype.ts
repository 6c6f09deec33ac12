// Element conversions between the file dtypes (F32, F16, BF16) and f32, on the CPU.
// Used by the reference implementation, the importers and the test-model generator; the GPU
// expands f16/bf16 in its shaders and does not go through here.

import { bytesPerElement, type DType, type Tensor } from './description';

// Scratch views for reinterpreting one f32 as its bit pattern (little-endian on every platform
// we run on; the typed-array path below also assumes a little-endian host).
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The f32 bit pattern of `x` (after rounding `x` to f32). */
export function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

/** The f32 value of a 32-bit pattern. */
export function f32FromBits(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0]!;
}

/** IEEE binary16 bits -> value (exact: every f16 is an f32). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Value -> IEEE binary16 bits, rounding to nearest, ties to even (the value is first rounded to
 * f32, as a Float32Array store would). Overflow gives +-inf, underflow +-0 or a subnormal; NaN
 * stays a quiet NaN keeping the top payload bits.
 */
export function f32ToF16(x: number): number {
  const b = f32Bits(x);
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 127 + 15; // f16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is an f16 subnormal (or rounds up to the smallest normal, which the encoding gives
    // for free when r reaches 0x400). Units of 2^-24: value = M * 2^(exp-150) = M >> (14 - e).
    if (e < -10) return sign; // below half the smallest subnormal
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++; // a carry into the exponent is still right (up to inf)
  return sign | r;
}

/** bfloat16 bits -> value (exact: bf16 is the top half of an f32). */
export function bf16ToF32(h: number): number {
  return f32FromBits((h & 0xffff) << 16);
}

/** Value -> bfloat16 bits, round to nearest even; NaN stays a quiet NaN. */
export function f32ToBf16(x: number): number {
  const b = f32Bits(x);
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  const rounded = b + 0x7fff + ((b >>> 16) & 1); // below 2^32 for every non-NaN pattern
  return Math.floor(rounded / 0x10000) & 0xffff;
}

/**
 * Number of elements of a shape. Throws RangeError for dimensions that are not non-negative
 * safe integers or a product beyond 2^53; file readers validate before calling this.
 */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`bad dimension ${d}`);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new RangeError('element count beyond 2^53');
  }
  return n;
}

let f16Table: Float32Array | null = null; // [65536], every f16 pattern's value

function f16Lookup(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16ToF32(h);
  }
  return f16Table;
}

/** Little-endian raw elements of `dtype` -> f32 values (a fresh array, never a view). */
export function bytesToFloat32(bytes: Uint8Array, dtype: DType): Float32Array {
  const size = bytesPerElement(dtype);
  if (bytes.byteLength % size !== 0) throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype}`);
  const n = bytes.byteLength / size;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (dtype === 'F16') {
    const table = f16Lookup();
    for (let i = 0; i < n; i++) out[i] = table[view.getUint16(2 * i, true)]!;
  } else {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  }
  return out;
}

/** A tensor's elements as f32, in its stored (row-major) order. */
export function tensorToFloat32(t: Tensor): Float32Array {
  const n = numel(t.shape);
  if (t.bytes.byteLength !== n * bytesPerElement(t.dtype)) {
    throw new RangeError(`${t.name}: ${t.bytes.byteLength} bytes for ${n} ${t.dtype} elements`);
  }
  return bytesToFloat32(t.bytes, t.dtype);
}

/** f32 values -> little-endian raw elements of `dtype` (round to nearest even for F16/BF16). */
export function float32ToTensorBytes(data: Float32Array, dtype: DType): Uint8Array<ArrayBuffer> {
  const size = bytesPerElement(dtype);
  const out = new Uint8Array(data.length * size);
  const view = new DataView(out.buffer);
  if (dtype === 'F32') {
    for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
  } else if (dtype === 'F16') {
    for (let i = 0; i < data.length; i++) view.setUint16(2 * i, f32ToF16(data[i]!), true);
  } else {
    for (let i = 0; i < data.length; i++) view.setUint16(2 * i, f32ToBf16(data[i]!), true);
  }
  return out;
}
