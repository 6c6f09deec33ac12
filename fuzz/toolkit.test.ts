// The fuzz toolkit itself: mutations are reproducible and do what they say (values derived by
// hand), and the harness reports each kind of misbehaviour a parser can show: a wrong error
// type, a multi-line or unnamed message, a hang, slowness, a huge allocation, over-reading, and
// a load whose result is inconsistent.

import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../src/model/errors';
import { encodeSafetensors } from '../src/model/testing/safetensors-writer';
import { mutateBytes, writeInt } from './bytes';
import { mutateSafetensors, splitSafetensors } from './formats/safetensors';
import { tokenizerBinFields } from './formats/tokenizer-bin';
import { countedFiles, readsWithin, refusalProblem, runFuzz, type FuzzCase, type FuzzSuite } from './harness';
import { cloneJson, deepNesting, jsonText, mutateJson, RawJson } from './json';
import { modelRefusalProblem } from './model-cases';
import { Rng } from './rng';
import { syntheticTokenizerBin } from './seeds';

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

describe('mutations', () => {
  it('are the same for the same seed and differ between cases', () => {
    const input = Uint8Array.from({ length: 256 }, (_, i) => i);
    const a = mutateBytes(Rng.forCase(1, 7), input);
    const b = mutateBytes(Rng.forCase(1, 7), input);
    expect(hex(a.value)).toBe(hex(b.value));
    expect(a.ops).toEqual(b.ops);
    const outputs = new Set(Array.from({ length: 20 }, (_, i) => hex(mutateBytes(Rng.forCase(1, i), input).value)));
    expect(outputs.size).toBeGreaterThan(15);
    expect(hex(input)).toBe(hex(Uint8Array.from({ length: 256 }, (_, i) => i))); // input untouched
  });

  it('write integers little-endian, wrapping what does not fit', () => {
    const b = new Uint8Array(8);
    writeInt(b, 0, 4, -1);
    expect(hex(b.subarray(0, 4))).toBe('ff ff ff ff');
    writeInt(b, 0, 4, 2 ** 32 + 5);
    expect(hex(b.subarray(0, 4))).toBe('05 00 00 00');
    writeInt(b, 0, 8, 2 ** 53);
    expect(hex(b)).toBe('00 00 00 00 00 00 20 00');
    writeInt(b, 0, 8, -(2 ** 31));
    expect(hex(b)).toBe('00 00 00 80 ff ff ff ff');
  });

  it('splice raw tokens into JSON text where JSON cannot say them', () => {
    expect(jsonText({ a: new RawJson('NaN'), b: [1, new RawJson('1e999')] })).toBe('{"a":NaN,"b":[1,1e999]}');
    const deep = deepNesting(new Rng(3));
    const parsed: unknown = JSON.parse(deep.text); // JSON.parse copes with any depth
    expect(parsed).toBeDefined();
    expect(() => JSON.stringify(parsed)).toSatisfy((f: () => unknown) => {
      try {
        f();
        return deep.text.length < 3000; // only shallow ones print
      } catch (e) {
        return e instanceof RangeError;
      }
    });
  });

  it('leave the input document untouched and keep "__proto__" a key', () => {
    const doc = { model: { vocab: { a: 0, b: 1 }, merges: ['a b'] }, list: [1, 2, 3] };
    const copy = JSON.stringify(doc);
    for (let i = 0; i < 200; i++) mutateJson(Rng.forCase(2, i), doc);
    expect(JSON.stringify(doc)).toBe(copy);
    const proto = cloneJson(JSON.parse('{"__proto__": {"x": 1}}') as object);
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(jsonText(proto)).toBe('{"__proto__":{"x":1}}');
  });

  it('rebuild safetensors files whose length prefix matches their header unless told otherwise', () => {
    const seed = encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [2, 2], bytes: new Uint8Array(16) }], { format: 'pt' });
    expect(splitSafetensors(seed).header).toEqual({ __metadata__: { format: 'pt' }, w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } });
    let consistent = 0;
    for (let i = 0; i < 100; i++) {
      const m = mutateSafetensors(Rng.forCase(4, i), seed);
      if (m.ops.some((o) => /header length|truncate|splice|insert|delete|copy|append|flip|set |@0/.test(o))) continue;
      const n = Number(new DataView(m.value.buffer).getBigUint64(0, true));
      expect(8 + n).toBeLessThanOrEqual(m.value.length);
      consistent++;
    }
    expect(consistent).toBeGreaterThan(20);
  });

  it('find every field of a tokenizer.bin', () => {
    const bin = syntheticTokenizerBin();
    const { fields, pieces } = tokenizerBinFields(bin);
    // 3 specials + 256 byte pieces + 37 normal pieces, each with a score and a length.
    expect(pieces.length).toBe(3 + 256 + 37);
    expect(fields.length).toBe(1 + 2 * pieces.length);
    expect(pieces[1]).toEqual({ offset: 4 + (8 + 5) + 8, length: 5 }); // '<unk>' then '\n<s>\n'
    const last = pieces[pieces.length - 1]!;
    expect(last.offset + last.length).toBe(bin.length);
  });
});

describe('refusals', () => {
  it('must be the expected class, one line, short and named', () => {
    const ok = new ModelFormatError('missing', 'a/config.json', 'no model');
    expect(modelRefusalProblem(ok, ['a/config.json', 'a/model.safetensors'])).toBeNull();
    expect(modelRefusalProblem(new TypeError('x is undefined'), ['a/config.json'])).toMatch(/^threw TypeError/);
    expect(modelRefusalProblem(ok, ['b/config.json'])).toMatch(/does not start with/);
    const prefixOnly = new ModelFormatError('missing', 'l/model.safetensors.index.json', 'x');
    expect(modelRefusalProblem(prefixOnly, ['l/model.safetensors'])).toMatch(/does not start with/);
    const multi = new Error('this link\nis damaged');
    expect(refusalProblem(multi, Error, ['this link'])).toMatch(/line break/);
    expect(refusalProblem(new Error(`this link ${'x'.repeat(2000)}`), Error, ['this link'])).toMatch(/characters/);
  });
});

/** A suite over one hand-written case per misbehaviour. */
function suiteOf(cases: FuzzCase<number>[], extra: Partial<FuzzSuite<number>> = {}): FuzzSuite<number> {
  return {
    name: 'test',
    cases: cases.length,
    seed: 1,
    makeCase: (_rng, i) => cases[i]!,
    judgeError: (e, c) => refusalProblem(e, ModelFormatError, c.names),
    memoryBound: (n) => 1024 * 1024 + n,
    timeLimitMs: 50,
    hangMs: 300,
    ...extra,
  };
}

const base = { inputBytes: 10, names: ['f.bin'], check: () => {} };

describe('the harness', () => {
  it('counts loads and proper refusals, and reports every other outcome', async () => {
    const blob = countedFiles([{ path: 'f.bin', bytes: new Uint8Array(100) }]);
    const report = await runFuzz(
      suiteOf([
        { ...base, label: 'loads', load: async () => 1 },
        { ...base, label: 'refuses', load: async () => Promise.reject(new ModelFormatError('truncated', 'f.bin', 'short')) },
        { ...base, label: 'type error', load: async () => (undefined as unknown as { x: number }).x },
        { ...base, label: 'range error', load: () => Promise.resolve().then(() => new Array(-1).length) },
        { ...base, label: 'unnamed', load: async () => Promise.reject(new ModelFormatError('truncated', 'other.bin', 'short')) },
        { ...base, label: 'hangs', load: () => new Promise<number>(() => {}) },
        { ...base, label: 'slow', load: () => new Promise<number>((ok) => setTimeout(() => ok(1), 120)) },
        { ...base, label: 'allocates', load: async () => new Uint8Array(64 * 1024 * 1024).length },
        {
          ...base,
          label: 'inconsistent',
          load: async () => 2,
          check: (r) => {
            if (r !== 1) throw new Error(`got ${r}`);
          },
        },
        {
          ...base,
          label: 'over-reads',
          load: async () => (await blob.files[0]!.blob.arrayBuffer()).byteLength + (await blob.files[0]!.blob.slice(0, 50).arrayBuffer()).byteLength,
          readProblem: () => readsWithin(blob, 1, 8),
        },
      ]),
    );
    expect(report.cases).toBe(10);
    expect(report.loaded).toBe(5); // loads, slow, allocates, inconsistent, over-reads
    expect(report.refused).toBe(1);
    const byLabel = new Map<string, string>();
    for (const f of report.failures) byLabel.set(f.label, [byLabel.get(f.label), f.problem].filter(Boolean).join(' | '));
    expect([...byLabel.keys()].sort()).toEqual(['allocates', 'hangs', 'inconsistent', 'over-reads', 'range error', 'slow', 'type error', 'unnamed'].sort());
    expect(byLabel.get('type error')).toMatch(/^threw TypeError/);
    expect(byLabel.get('range error')).toMatch(/^threw RangeError/);
    expect(byLabel.get('hangs')).toMatch(/^no outcome after 300 ms \(hang\) \| took \d+ ms/);
    expect(report.retimed).toEqual([]);
    expect(byLabel.get('slow')).toMatch(/^took \d+ ms \(limit 50 ms\), twice$/);
    expect(byLabel.get('allocates')).toMatch(/ArrayBuffer memory grew/);
    expect(byLabel.get('inconsistent')).toMatch(/inconsistent: got 2/);
    expect(byLabel.get('over-reads')).toMatch(/^read 150 bytes of f\.bin \(100 bytes\)/);
    expect(report.slowestMs).toBeGreaterThanOrEqual(120);
  });

  it('runs a case over the time limit again, and fails it only when it is slow both times', async () => {
    let runs = 0;
    const report = await runFuzz(
      suiteOf([{ ...base, label: 'slow once', load: () => new Promise<number>((ok) => setTimeout(() => ok(1), runs++ === 0 ? 120 : 0)) }]),
    );
    expect(runs).toBe(2);
    expect(report.failures).toEqual([]);
    expect(report.retimed.map((t) => t.index)).toEqual([0]);
    expect(report.slowestMs).toBeLessThan(50);
  });
});
