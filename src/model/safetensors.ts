// Safetensors reading: the header (validated completely before any weight byte is touched), the
// sharded index, and lazy reads of single tensors through Blob.slice. It knows nothing of model
// families or tensor names; checkpoint.ts maps names to weights.

import type { DType, StoredTensor, Tensor } from './description';
import { ModelFormatError } from './errors';
import { baseName, readBytes, type ModelFile } from './files';
import { fileTensor, inMemory } from './stored-tensor';

/** Bytes per element of every dtype the format defines (so ignored tensors can still be bounds-checked). */
export const SAFETENSORS_DTYPE_SIZE: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** The reference implementation's limit; real headers are at most a few hundred KB. */
export const MAX_HEADER_BYTES = 100_000_000;
/** JSON side files (index, config) larger than this are not what they claim to be. */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

export interface SafetensorsEntry {
  name: string;
  /** As written in the file; only F32/F16/BF16 can be read as weights. */
  dtype: string;
  shape: number[];
  /** Absolute byte range [begin, end) in `file`. */
  begin: number;
  end: number;
  file: ModelFile;
}

export interface SafetensorsHeader {
  file: ModelFile;
  /** The 8-byte length prefix and the JSON header, exactly as stored. */
  headerBytes: Uint8Array;
  /** Absolute offset of the data region (8 + header length). */
  dataStart: number;
  metadata: Record<string, unknown> | null;
  /** In header order. */
  entries: Map<string, SafetensorsEntry>;
}

/** Every tensor of a checkpoint, from one file or from the shards of an index. */
export interface SafetensorsCheckpoint {
  entries: Map<string, SafetensorsEntry>;
  /** One per weight file, in the order first referenced. */
  headers: SafetensorsHeader[];
  /** model.safetensors.index.json when sharded. */
  index: ModelFile | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Reads and validates a safetensors header; no tensor data is read. */
export async function readSafetensorsHeader(file: ModelFile): Promise<SafetensorsHeader> {
  const path = file.path;
  const size = file.blob.size;
  if (size < 8) throw new ModelFormatError('truncated', path, `${size} bytes is too short for a safetensors file (8-byte header length first)`);
  const prefix = await readBytes(file, 0, 8);
  const declared = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(size - 8)) {
    throw new ModelFormatError('truncated', path, `header length ${declared} runs past the end of the file (${size} bytes)`);
  }
  const n = Number(declared);
  if (n > MAX_HEADER_BYTES) throw new ModelFormatError('bad-header', path, `header length ${n} is beyond the ${MAX_HEADER_BYTES}-byte limit`);
  if (n < 2) throw new ModelFormatError('bad-header', path, `header length ${n} is too small for a JSON object`);
  const headerBytes = await readBytes(file, 0, 8 + n);
  if (headerBytes.byteLength !== 8 + n) throw new ModelFormatError('truncated', path, 'file shorter than its header');

  let json: unknown;
  try {
    // ignoreBOM keeps a byte-order mark in the text, so it fails to parse as the reference reader does.
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes.subarray(8)));
  } catch (e) {
    throw new ModelFormatError('bad-json', path, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isObject(json)) throw new ModelFormatError('bad-json', path, 'header is not a JSON object');

  const dataStart = 8 + n;
  const dataLength = size - dataStart;
  let metadata: Record<string, unknown> | null = null;
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (value !== null && !isObject(value)) throw new ModelFormatError('bad-json', path, '__metadata__ is not an object');
      metadata = value;
      continue;
    }
    entries.set(name, parseEntry(file, name, value, dataStart, dataLength));
  }

  // Regions may leave gaps but must not share bytes.
  const sorted = [...entries.values()].filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.begin < prev.end) {
      throw new ModelFormatError('bad-tensor', path, `data overlaps tensor '${prev.name}'`, cur.name);
    }
  }
  return { file, headerBytes, dataStart, metadata, entries };
}

function parseEntry(file: ModelFile, name: string, value: unknown, dataStart: number, dataLength: number): SafetensorsEntry {
  const path = file.path;
  const bad = (code: 'bad-json' | 'bad-tensor' | 'truncated', msg: string) => new ModelFormatError(code, path, msg, name);
  if (!isObject(value)) throw bad('bad-json', 'header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw bad('bad-json', 'dtype is not a string');
  if (!Array.isArray(shape) || !shape.every(isCount)) throw bad('bad-json', 'shape is not a list of non-negative integers');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw bad('bad-json', 'data_offsets is not a pair of non-negative integers');
  }
  const elementSize = SAFETENSORS_DTYPE_SIZE[dtype];
  if (elementSize === undefined) throw bad('bad-tensor', `unknown dtype '${dtype}'`);
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw bad('bad-tensor', `data_offsets [${begin}, ${end}] are reversed`);
  if (end > dataLength) throw bad('truncated', `data_offsets [${begin}, ${end}] run past the data region (${dataLength} bytes)`);
  // Multiply with a bound so absurd shapes fail here, long before anything is allocated.
  let count = 1;
  for (const d of shape as number[]) {
    count *= d;
    if (count * elementSize > dataLength) throw bad('bad-tensor', `shape [${shape.join(', ')}] needs more bytes than the file holds`);
  }
  if (count * elementSize !== end - begin) {
    throw bad('bad-tensor', `shape [${shape.join(', ')}] of ${dtype} is ${count * elementSize} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape: [...(shape as number[])], begin: dataStart + begin, end: dataStart + end, file };
}

/** Parses a small JSON side file (config, index) with a size cap; errors name the file. */
export async function readJsonFile(file: ModelFile): Promise<unknown> {
  if (file.blob.size > MAX_JSON_BYTES) throw new ModelFormatError('bad-json', file.path, `${file.blob.size} bytes is too large for this JSON file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await readBytes(file));
  } catch (e) {
    throw new ModelFormatError('bad-json', file.path, `not valid UTF-8 (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError('bad-json', file.path, `not valid JSON (${(e as Error).message})`);
  }
}

/** A single model.safetensors. */
export async function openSafetensorsFile(file: ModelFile): Promise<SafetensorsCheckpoint> {
  const header = await readSafetensorsHeader(file);
  return { entries: header.entries, headers: [header], index: null };
}

/**
 * A sharded checkpoint: model.safetensors.index.json's weight_map names the shard of every
 * tensor; shard paths are relative to the index's folder. Each shard's header is validated and
 * every listed tensor must be in the shard the map names.
 */
export async function openSafetensorsIndex(index: ModelFile, files: readonly ModelFile[]): Promise<SafetensorsCheckpoint> {
  const json = await readJsonFile(index);
  if (!isObject(json) || !isObject(json['weight_map'])) {
    throw new ModelFormatError('bad-json', index.path, 'expected an object with a weight_map object');
  }
  const dir = index.path.slice(0, index.path.length - baseName(index.path).length);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const headers = new Map<string, SafetensorsHeader>();
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, shard] of Object.entries(json['weight_map'])) {
    if (typeof shard !== 'string') throw new ModelFormatError('bad-json', index.path, 'weight_map value is not a file name', name);
    let header = headers.get(shard);
    if (!header) {
      const file = byPath.get(dir + shard);
      if (!file) throw new ModelFormatError('missing', index.path, `shard '${shard}' is not among the files`, name);
      header = await readSafetensorsHeader(file);
      headers.set(shard, header);
    }
    const entry = header.entries.get(name);
    if (!entry) throw new ModelFormatError('missing', header.file.path, `tensor listed in ${baseName(index.path)} is not in this shard`, name);
    entries.set(name, entry);
  }
  if (entries.size === 0) throw new ModelFormatError('bad-json', index.path, 'weight_map is empty');
  return { entries, headers: [...headers.values()], index };
}

/** True for the dtypes the engine can use as weights. */
export function isWeightDType(dtype: string): dtype is DType {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

/** One tensor of the file, left there and read on demand. Refuses dtypes other than F32/F16/BF16. */
export function storedSafetensorsTensor(entry: SafetensorsEntry): StoredTensor {
  if (!isWeightDType(entry.dtype)) {
    throw new ModelFormatError('unsupported', entry.file.path, `dtype ${entry.dtype} is not supported for weights (F32, F16 or BF16 only)`, entry.name);
  }
  return fileTensor(entry.file, entry.begin, entry.end, { name: entry.name, dtype: entry.dtype, shape: [...entry.shape] });
}

/** Reads one tensor's raw bytes (and only those). Refuses dtypes other than F32/F16/BF16. */
export async function readSafetensorsTensor(entry: SafetensorsEntry): Promise<Tensor> {
  return inMemory(storedSafetensorsTensor(entry));
}
