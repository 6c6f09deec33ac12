// The weights fingerprint: reads a bounded amount, reacts to sampled bytes, size and config, and
// matches values computed for stories260K by a separate Python implementation of the same
// recipe (hashlib.sha256 over the length-prefixed parts listed in fingerprint.ts).

import { openAsBlob } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHARED, skipWithoutFiles } from '../testing/requirements';
import { ModelFormatError } from './errors';
import type { ModelFile } from './files';
import { fingerprint, sampleWindows } from './fingerprint';
import { readSafetensorsHeader } from './safetensors';
import { countingFiles } from './testing/counting-blob';
import { randomModel } from './testing/random-model';
import { toHfFiles, toLlama2cBin } from './testing/serialize';

// About 4.7 MB of f32 weights.
const model = randomModel({
  family: 'llama',
  hidden_size: 256,
  num_attention_heads: 4,
  intermediate_size: 512,
  vocab_size: 1000,
  num_hidden_layers: 2,
  seed: 21,
});
const files = toHfFiles(model.description, model.weights, { folder: 'big' });

async function withWeightBytes(edit: (bytes: Uint8Array) => Uint8Array<ArrayBuffer>): Promise<ModelFile[]> {
  const bytes = new Uint8Array(await files[1]!.blob.arrayBuffer());
  return [files[0]!, { path: files[1]!.path, blob: new Blob([edit(bytes)]) }];
}

describe('fingerprint', () => {
  it('samples 16 windows of 4 KiB spread over the data region (hand-computed starts)', () => {
    const w = sampleWindows(100, 100 + 16 * 4096 + 1500); // n - W = 62940, step 62940 / 15 = 4196
    expect(w.length).toBe(16);
    expect(w[0]).toEqual([100, 4196]);
    expect(w[1]).toEqual([4296, 8392]);
    expect(w[15]).toEqual([63040, 67136]);
    expect(sampleWindows(10, 20)).toEqual([[10, 20]]);
    expect(sampleWindows(10, 10)).toEqual([]);
  });

  it('reads a small bounded part of a few-MB model', async () => {
    const size = files[1]!.blob.size;
    expect(size).toBeGreaterThan(4_000_000);
    const counter = { bytes: 0, reads: 0 };
    const fp = await fingerprint(countingFiles(files, counter));
    expect(fp).toMatch(/^sha256:[0-9a-f]{32}$/);
    expect(counter.bytes).toBeLessThan(100_000); // 64 KiB of windows + header + config
    expect(counter.bytes / size).toBeLessThan(0.02);
    console.log(`fingerprint read ${counter.bytes} of ${size + files[0]!.blob.size} bytes in ${counter.reads} reads`);
  });

  it('is stable, and ignores the folder name', async () => {
    const a = await fingerprint(files);
    expect(await fingerprint(files)).toBe(a);
    expect(await fingerprint(files.map((f) => ({ ...f, path: f.path.replace('big/', 'elsewhere/') })))).toBe(a);
  });

  it('changes with a byte inside a sampled window, the file size, or the config', async () => {
    const base = await fingerprint(files);
    const header = await readSafetensorsHeader(files[1]!);
    const windows = sampleWindows(header.dataStart, files[1]!.blob.size);
    for (const k of [0, 7, 15]) {
      const [start, end] = windows[k]!;
      const at = Math.floor((start + end) / 2);
      const flipped = await withWeightBytes((b) => ((b[at] ^= 0x01), b.slice()));
      expect(await fingerprint(flipped), `window ${k}`).not.toBe(base);
    }
    const longer = await withWeightBytes((b) => {
      const out = new Uint8Array(b.byteLength + 1);
      out.set(b);
      return out;
    });
    expect(await fingerprint(longer)).not.toBe(base);
    const config = JSON.parse(await files[0]!.blob.text());
    const changed: ModelFile = { path: files[0]!.path, blob: new Blob([JSON.stringify({ ...config, rope_theta: 20000 }, null, 2)]) };
    expect(await fingerprint([changed, files[1]!])).not.toBe(base);
  });

  it('does not see a byte outside every window (the documented trade-off)', async () => {
    const base = await fingerprint(files);
    const header = await readSafetensorsHeader(files[1]!);
    const windows = sampleWindows(header.dataStart, files[1]!.blob.size);
    const at = windows[3]![1] + 100; // between windows 3 and 4
    expect(windows[4]![0]).toBeGreaterThan(at);
    const flipped = await withWeightBytes((b) => ((b[at] ^= 0x01), b.slice()));
    expect(await fingerprint(flipped)).toBe(base);
  });

  it('covers sharded and llama2.c checkpoints', async () => {
    const sharded = toHfFiles(model.description, model.weights, { shards: 2 });
    const fp = await fingerprint(sharded);
    expect(fp).not.toBe(await fingerprint(files));
    const bin: ModelFile[] = [{ path: 'm.bin', blob: new Blob([toLlama2cBin(model.description, model.weights)]) }];
    const counter = { bytes: 0, reads: 0 };
    expect(await fingerprint(countingFiles(bin, counter))).toMatch(/^sha256:[0-9a-f]{32}$/);
    expect(counter.bytes).toBeLessThan(80_000);
  });

  it('refuses what is not a checkpoint', async () => {
    const err = await fingerprint([{ path: 'x/model.bin', blob: new Blob([new Uint8Array(40)]) }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toContain('x/model.bin');
  });
});

const STORIES = SHARED + 'models/stories260K';

describe.skipIf(skipWithoutFiles(STORIES))('stories260K fingerprints (../shared)', () => {
  it('match the Python implementation', async () => {
    const open = async (rel: string): Promise<ModelFile> => ({ path: `stories260K/${rel}`, blob: (await openAsBlob(`${STORIES}/${rel}`)) as Blob });
    expect(await fingerprint([await open('config.json'), await open('model.safetensors')])).toBe('sha256:18c661b26bfc15e4bd7bac23feea9655');
    expect(await fingerprint([await open('llama2c/stories260K.bin'), await open('llama2c/tok512.bin')])).toBe('sha256:515cfd0b3856bba9236fe453f3c3fcc2');
  });
});
