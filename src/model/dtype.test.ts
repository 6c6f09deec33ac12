// Conversions checked against hand-derived bit patterns (IEEE 754 binary16 and bfloat16 tables)
// and, for rounding, against a brute-force nearest-value search over every f16 value.

import { describe, expect, it } from 'vitest';
import { bf16ToF32, bytesToFloat32, f16ToF32, f32FromBits, f32ToBf16, f32ToF16, float32ToTensorBytes, numel, tensorToFloat32 } from './dtype';

const isNaNF16 = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

describe('f16', () => {
  it('encodes hand-derived values', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff], // largest finite
      [65519.99, 0x7bff], // below the midpoint to the next binade
      [65520, 0x7c00], // midpoint, odd mantissa 0x3ff -> rounds up to inf
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [0, 0x0000],
      [-0, 0x8000],
      [2 ** -24, 0x0001], // smallest subnormal
      [(1023 / 1024) * 2 ** -14, 0x03ff], // largest subnormal
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -25, 0x0000], // half the smallest subnormal: tie to even (0)
      [2 ** -25 * 1.0001, 0x0001],
      [3 * 2 ** -25, 0x0002], // 1.5 units: tie to even (2)
      [-(2 ** -24), 0x8001],
      [2 ** -26, 0x0000],
      [1 + 2 ** -11, 0x3c00], // tie between 0x3c00 and 0x3c01 -> even
      [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02 -> even
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
      [-65504, 0xfbff],
    ];
    for (const [x, bits] of cases) expect(f32ToF16(x).toString(16), `f16(${x})`).toBe(bits.toString(16));
    expect(isNaNF16(f32ToF16(NaN))).toBe(true);
  });

  it('decodes hand-derived patterns', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16ToF32(0x0400)).toBe(2 ** -14);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f16ToF32(0xc000)).toBe(-2);
  });

  it('round-trips every non-NaN pattern', () => {
    for (let h = 0; h < 65536; h++) {
      if (isNaNF16(h)) continue;
      if (f32ToF16(f16ToF32(h)) !== h) throw new Error(`pattern ${h.toString(16)}`);
    }
  });

  it('rounds midpoints and random values like a brute-force nearest search', () => {
    // Sorted finite non-negative f16 values; index == bit pattern for 0..0x7bff.
    const values: number[] = [];
    for (let h = 0; h <= 0x7bff; h++) values.push(f16ToF32(h));
    // Every midpoint between neighbours is exact in f32 and must go to the even pattern.
    for (let h = 0; h < 0x7bff; h++) {
      const mid = (values[h]! + values[h + 1]!) / 2;
      const want = h % 2 === 0 ? h : h + 1;
      if (f32ToF16(mid) !== want) throw new Error(`midpoint after ${h.toString(16)}`);
      if (f32ToF16(-mid) !== (want | 0x8000)) throw new Error(`negative midpoint after ${h.toString(16)}`);
    }
    // Random f32 values in range: nearest by binary search, ties to the even pattern.
    let seed = 12345;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround(rand() ** 8 * 65000);
      let lo = 0;
      let hi = values.length - 1;
      while (hi - lo > 1) {
        const m = (lo + hi) >> 1;
        if (values[m]! <= x) lo = m;
        else hi = m;
      }
      const dLo = x - values[lo]!;
      const dHi = values[hi]! - x;
      const want = dLo < dHi ? lo : dHi < dLo ? hi : lo % 2 === 0 ? lo : hi;
      if (f32ToF16(x) !== want) throw new Error(`value ${x}`);
    }
  });
});

describe('bf16', () => {
  it('encodes hand-derived values', () => {
    const cases: [number, number][] = [
      [1, 0x3f80],
      [-2, 0xc000],
      [Math.PI, 0x4049], // 0x40490fdb: low half below 0x8000
      [f32FromBits(0x3f808000), 0x3f80], // tie, even stays
      [f32FromBits(0x3f818000), 0x3f82], // tie, odd rounds up
      [f32FromBits(0x3f808001), 0x3f81],
      [f32FromBits(0x7f7fffff), 0x7f80], // largest f32 rounds to inf
      [Infinity, 0x7f80],
      [-Infinity, 0xff80],
      [-0, 0x8000],
      [2 ** -149, 0x0000], // smallest f32 subnormal
      [2 ** -133, 0x0001], // smallest bf16 subnormal
      [f32FromBits(0x00018000), 0x0002],
    ];
    for (const [x, bits] of cases) expect(f32ToBf16(x).toString(16), `bf16(${x})`).toBe(bits.toString(16));
    const nan = f32ToBf16(NaN);
    expect((nan & 0x7f80) === 0x7f80 && (nan & 0x7f) !== 0).toBe(true);
    // A signalling-looking NaN whose payload lives only in the low half must stay a NaN.
    const low = f32ToBf16(f32FromBits(0x7f800001));
    expect((low & 0x7f80) === 0x7f80 && (low & 0x7f) !== 0).toBe(true);
  });

  it('decodes hand-derived patterns', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0x4049)).toBe(3.140625);
    expect(bf16ToF32(0x0001)).toBe(2 ** -133);
    expect(Object.is(bf16ToF32(0x8000), -0)).toBe(true);
    expect(bf16ToF32(0xff80)).toBe(-Infinity);
    expect(bf16ToF32(0x7fc0)).toBeNaN();
  });

  it('round-trips every non-NaN pattern', () => {
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0) continue;
      if (f32ToBf16(bf16ToF32(h)) !== h) throw new Error(`pattern ${h.toString(16)}`);
    }
  });
});

describe('tensors', () => {
  it('numel', () => {
    expect(numel([])).toBe(1);
    expect(numel([3, 0, 5])).toBe(0);
    expect(numel([2, 3, 4])).toBe(24);
    expect(() => numel([2 ** 40, 2 ** 40])).toThrow(RangeError);
    expect(() => numel([-1])).toThrow(RangeError);
    expect(() => numel([1.5])).toThrow(RangeError);
  });

  it('writes little-endian bytes and reads them back', () => {
    const data = new Float32Array([1, -2, 65504, 0.5]);
    expect([...float32ToTensorBytes(data, 'F16')]).toEqual([0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x00, 0x38]);
    expect([...float32ToTensorBytes(data.subarray(0, 2), 'BF16')]).toEqual([0x80, 0x3f, 0x00, 0xc0]);
    expect([...float32ToTensorBytes(data.subarray(0, 1), 'F32')]).toEqual([0x00, 0x00, 0x80, 0x3f]);
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const bytes = float32ToTensorBytes(data, dtype);
      expect([...tensorToFloat32({ name: 't', dtype, shape: [2, 2], bytes })]).toEqual(dtype === 'BF16' ? [1, -2, 65536, 0.5] : [1, -2, 65504, 0.5]);
    }
  });

  it('reads from an unaligned view', () => {
    const buf = new Uint8Array([0xaa, 0x00, 0x3c, 0x00, 0xc0]);
    expect([...bytesToFloat32(buf.subarray(1), 'F16')]).toEqual([1, -2]);
  });

  it('refuses a byte count that does not match the shape', () => {
    expect(() => tensorToFloat32({ name: 't', dtype: 'F32', shape: [3], bytes: new Uint8Array(8) })).toThrow(RangeError);
  });
});
