// Safetensors header validation and lazy reads, on hand-built files and on the stories260K file
// in ../shared (whose header layout was listed with Python's json module when these tests were
// written). The large malformed-file corpus lives in checkpoint.malformed-*.test.ts.

import { openAsBlob } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHARED, skipWithoutFiles } from '../testing/requirements';
import { ModelFormatError } from './errors';
import type { ModelFile } from './files';
import { openSafetensorsIndex, readSafetensorsHeader, readSafetensorsTensor } from './safetensors';
import { countingFiles } from './testing/counting-blob';
import { rawSafetensors } from './testing/safetensors-writer';

const file = (path: string, bytes: Uint8Array<ArrayBuffer>): ModelFile => ({ path, blob: new Blob([bytes]) });

// a: F32 [2] = [1, 2] at [0, 8); b: F16 [1] = 1.0 at [8, 10).
const DATA = new Uint8Array([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40, 0x00, 0x3c]);
const HEADER = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[1],"data_offsets":[8,10]}}';

async function rejects(f: ModelFile, code: string, fragment: string): Promise<void> {
  const err = await readSafetensorsHeader(f).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelFormatError);
  expect((err as ModelFormatError).code).toBe(code);
  expect((err as Error).message).toContain(f.path);
  expect((err as Error).message).toContain(fragment);
}

describe('readSafetensorsHeader', () => {
  it('parses a hand-built file and reads tensors lazily', async () => {
    const bytes = rawSafetensors(HEADER, DATA);
    const h = await readSafetensorsHeader(file('m.safetensors', bytes));
    expect(h.dataStart).toBe(8 + HEADER.length);
    expect(h.metadata).toEqual({ format: 'pt' });
    expect([...h.entries.keys()]).toEqual(['a', 'b']);
    const b = h.entries.get('b')!;
    expect([b.begin, b.end]).toEqual([8 + HEADER.length + 8, 8 + HEADER.length + 10]);
    const t = await readSafetensorsTensor(b);
    expect(t).toMatchObject({ name: 'b', dtype: 'F16', shape: [1] });
    expect([...t.bytes]).toEqual([0x00, 0x3c]);
    const a = await readSafetensorsTensor(h.entries.get('a')!);
    expect([...new Float32Array(a.bytes.buffer)]).toEqual([1, 2]);
  });

  it('reads only the header', async () => {
    const big = new Uint8Array(1 << 20);
    const bytes = rawSafetensors({ w: { dtype: 'F32', shape: [1 << 18], data_offsets: [0, 1 << 20] } }, big);
    const counter = { bytes: 0, reads: 0 };
    const [f] = countingFiles([file('big.safetensors', bytes)], counter);
    const h = await readSafetensorsHeader(f!);
    expect(counter.bytes).toBe(8 + h.dataStart);
  });

  it('allows other dtypes in the header, but not as weights', async () => {
    const h = await readSafetensorsHeader(
      file('g.safetensors', rawSafetensors({ m: { dtype: 'BOOL', shape: [2, 2], data_offsets: [0, 4] } }, new Uint8Array(4))),
    );
    const err = await readSafetensorsTensor(h.entries.get('m')!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as ModelFormatError).code).toBe('unsupported');
    expect((err as Error).message).toContain('g.safetensors (m)');
  });

  it('refuses each broken header with a specific message', async () => {
    const ok = (header: unknown, data = DATA) => file('x.safetensors', rawSafetensors(header, data));
    await rejects(file('x.safetensors', new Uint8Array(5)), 'truncated', 'too short');
    await rejects(file('x.safetensors', rawSafetensors(HEADER, DATA, 10n ** 6n)), 'truncated', 'header length 1000000 runs past');
    await rejects(file('x.safetensors', rawSafetensors(HEADER, DATA, 2n ** 64n - 1n)), 'truncated', 'runs past');
    await rejects(file('x.safetensors', rawSafetensors('{', DATA, 0n)), 'bad-header', 'too small');
    await rejects(ok('{"a": '), 'bad-json', 'not valid UTF-8 JSON');
    await rejects(ok(new Uint8Array([0x7b, 0xff, 0x7d])), 'bad-json', 'not valid UTF-8 JSON');
    await rejects(ok('[1, 2]'), 'bad-json', 'not a JSON object');
    await rejects(ok({ a: 3 }), 'bad-json', 'header entry is not an object');
    await rejects(ok({ __metadata__: 'x' }), 'bad-json', '__metadata__');
    await rejects(ok({ a: { dtype: 4, shape: [2], data_offsets: [0, 8] } }), 'bad-json', 'dtype is not a string');
    await rejects(ok({ a: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }), 'bad-json', 'shape');
    await rejects(ok({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }), 'bad-json', 'shape');
    await rejects(ok({ a: { dtype: 'F32', shape: 2, data_offsets: [0, 8] } }), 'bad-json', 'shape');
    await rejects(ok({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }), 'bad-json', 'data_offsets');
    await rejects(ok({ a: { dtype: 'F32', shape: [2], data_offsets: ['0', 8] } }), 'bad-json', 'data_offsets');
    await rejects(ok({ a: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }), 'bad-tensor', "unknown dtype 'Q4'");
    await rejects(ok({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }), 'bad-tensor', 'reversed');
    await rejects(ok({ a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }), 'truncated', 'run past the data region');
    await rejects(ok({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 8] } }), 'bad-tensor', 'is 4 bytes but data_offsets span 8');
    await rejects(ok({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }), 'bad-tensor', 'needs more bytes');
    await rejects(
      ok({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F16', shape: [2], data_offsets: [6, 10] } }),
      'bad-tensor',
      "overlaps tensor 'a'",
    );
  });
});

describe('openSafetensorsIndex', () => {
  const shard = (names: string[]) =>
    rawSafetensors(
      Object.fromEntries(names.map((n, i) => [n, { dtype: 'F16', shape: [1], data_offsets: [2 * i, 2 * i + 2] }])),
      new Uint8Array(2 * names.length),
    );
  const index = (map: Record<string, string>) => new TextEncoder().encode(JSON.stringify({ metadata: {}, weight_map: map }));

  it('resolves shards beside the index', async () => {
    const files = [
      file('m/model.safetensors.index.json', index({ a: 's1.safetensors', b: 's2.safetensors', c: 's1.safetensors' })),
      file('m/s1.safetensors', shard(['a', 'c'])),
      file('m/s2.safetensors', shard(['b'])),
    ];
    const ckpt = await openSafetensorsIndex(files[0]!, files);
    expect(ckpt.headers.map((h) => h.file.path)).toEqual(['m/s1.safetensors', 'm/s2.safetensors']);
    expect(ckpt.entries.get('b')!.file.path).toBe('m/s2.safetensors');
  });

  it('names the index and the shard when a shard is missing, the shard and tensor when a tensor is', async () => {
    const idx = file('m/model.safetensors.index.json', index({ a: 's1.safetensors', b: 's2.safetensors' }));
    const err = await openSafetensorsIndex(idx, [idx, file('m/s1.safetensors', shard(['a']))]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toContain('m/model.safetensors.index.json');
    expect((err as Error).message).toContain("shard 's2.safetensors'");
    const err2 = await openSafetensorsIndex(idx, [idx, file('m/s1.safetensors', shard(['a'])), file('m/s2.safetensors', shard(['c']))]).catch(
      (e: unknown) => e,
    );
    expect((err2 as Error).message).toBe('m/s2.safetensors (b): tensor listed in model.safetensors.index.json is not in this shard');
  });
});

const STORIES = SHARED + 'models/stories260K/model.safetensors';

describe.skipIf(skipWithoutFiles(STORIES))('stories260K model.safetensors (../shared)', () => {
  it('has the layout Python lists', async () => {
    const f: ModelFile = { path: 'model.safetensors', blob: (await openAsBlob(STORIES)) as Blob };
    const h = await readSafetensorsHeader(f);
    expect(h.dataStart).toBe(8 + 4880);
    expect(h.entries.size).toBe(47);
    expect(h.metadata).toEqual({ format: 'pt', source: 'stories260K.bin' });
    const k = h.entries.get('model.layers.0.self_attn.k_proj.weight')!;
    expect(k).toMatchObject({ dtype: 'F32', shape: [32, 64], begin: 8 + 4880 + 147712, end: 8 + 4880 + 155904 });
  });
});
