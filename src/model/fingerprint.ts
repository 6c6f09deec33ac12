// A short identifier of a checkpoint's weights, for permalinks and caches: SHA-256 over the
// config/header bytes, the tensor index, each weight file's size and a fixed set of sampled
// windows of the weight bytes. It reads about 64 KiB per weight file, not the weights.
//
// Trade-off: a change confined to bytes outside the sampled windows (with the same size, header
// and config) keeps the fingerprint. Fine-tunes, re-quantisations and re-exports change sampled
// bytes or the header; a single flipped byte elsewhere does not. It is an identifier, not an
// integrity check.

import { findCheckpointFiles } from './checkpoint-files';
import { ModelFormatError } from './errors';
import { baseName, readBytes, type ModelFile } from './files';
import { readLlama2cHeader } from './llama2c';
import { MAX_JSON_BYTES, openSafetensorsFile, openSafetensorsIndex } from './safetensors';

export const FINGERPRINT_WINDOWS = 16;
export const FINGERPRINT_WINDOW_BYTES = 4096;

/** [start, end) byte ranges sampled from a data region [begin, end): the whole region when small. */
export function sampleWindows(begin: number, end: number): [number, number][] {
  const n = end - begin;
  const K = FINGERPRINT_WINDOWS;
  const W = FINGERPRINT_WINDOW_BYTES;
  if (n <= K * W) return n > 0 ? [[begin, end]] : [];
  const windows: [number, number][] = [];
  for (let k = 0; k < K; k++) {
    const start = begin + Math.floor((k * (n - W)) / (K - 1));
    windows.push([start, start + W]);
  }
  return windows;
}

class HashInput {
  private parts: Uint8Array[] = [];

  /** Length-prefixed, so no two different sequences of parts give the same stream. */
  add(bytes: Uint8Array): void {
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(bytes.byteLength), true);
    this.parts.push(length, bytes);
  }

  text(s: string): void {
    this.add(new TextEncoder().encode(s));
  }

  number(n: number): void {
    this.text(String(n));
  }

  async digest(): Promise<string> {
    const total = this.parts.reduce((s, p) => s + p.byteLength, 0);
    const all = new Uint8Array(total);
    let offset = 0;
    for (const p of this.parts) {
      all.set(p, offset);
      offset += p.byteLength;
    }
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
    return [...hash.subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }
}

async function addWindows(input: HashInput, file: ModelFile, dataStart: number): Promise<void> {
  input.number(file.blob.size);
  for (const [start, end] of sampleWindows(dataStart, file.blob.size)) {
    input.number(start);
    input.add(await readBytes(file, start, end));
  }
}

async function smallFile(file: ModelFile): Promise<Uint8Array> {
  if (file.blob.size > MAX_JSON_BYTES) throw new ModelFormatError('bad-json', file.path, `${file.blob.size} bytes is too large for this JSON file`);
  return readBytes(file);
}

/**
 * "sha256:" and 32 hex digits (128 bits) identifying the checkpoint among `files`. Paths and
 * file names other than shard names do not enter, so a moved or renamed folder keeps its
 * fingerprint.
 */
export async function fingerprint(files: readonly ModelFile[]): Promise<string> {
  const found = findCheckpointFiles(files);
  const input = new HashInput();
  input.text('depass-fingerprint/1');
  input.text(found.format);
  if (found.format === 'llama2c') {
    await readLlama2cHeader(found.bin); // validates, so only real checkpoints get a fingerprint
    input.add(await readBytes(found.bin, 0, 28));
    await addWindows(input, found.bin, 28);
    return `sha256:${await input.digest()}`;
  }
  input.add(await smallFile(found.config));
  const checkpoint = found.index ? await openSafetensorsIndex(found.index, files) : await openSafetensorsFile(found.weights!);
  if (found.index) input.add(await smallFile(found.index));
  // The header holds the tensor index: names, dtypes, shapes and offsets.
  const headers = [...checkpoint.headers].sort((a, b) => (baseName(a.file.path) < baseName(b.file.path) ? -1 : 1));
  for (const header of headers) {
    input.text(found.index ? baseName(header.file.path) : '');
    input.add(header.headerBytes);
    await addWindows(input, header.file, header.dataStart);
  }
  return `sha256:${await input.digest()}`;
}
