// Writes safetensors files for tests: a well-formed writer, plus a raw one that takes any header
// (or header bytes) so malformed files can be built. Not used by the app, which only reads.

import type { Tensor } from '../description';

export interface RawTensor {
  name: string;
  /** Any safetensors dtype string ('F32', 'BOOL', 'I64', ...), written as is. */
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/**
 * A valid safetensors file: 8-byte little-endian header length, JSON header padded with spaces
 * to a multiple of 8 (as the reference writer does), then the tensors back to back in the given
 * order.
 */
export function encodeSafetensors(tensors: readonly (Tensor | RawTensor)[], metadata?: Record<string, string>): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.byteLength] };
    offset += t.bytes.byteLength;
  }
  const data = new Uint8Array(offset);
  offset = 0;
  for (const t of tensors) {
    data.set(t.bytes, offset);
    offset += t.bytes.byteLength;
  }
  return rawSafetensors(header, data);
}

/**
 * Length prefix + header + data with no checks. `header` may be a value (JSON-encoded and padded)
 * or exact header bytes; `declaredLength` overrides the length prefix.
 */
export function rawSafetensors(header: unknown, data: Uint8Array, declaredLength?: bigint): Uint8Array<ArrayBuffer> {
  let headerBytes: Uint8Array;
  if (header instanceof Uint8Array) {
    headerBytes = header;
  } else {
    const json = typeof header === 'string' ? header : JSON.stringify(header);
    const pad = typeof header === 'string' ? 0 : (8 - (new TextEncoder().encode(json).byteLength % 8)) % 8;
    headerBytes = new TextEncoder().encode(json + ' '.repeat(pad));
  }
  const out = new Uint8Array(8 + headerBytes.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.byteLength);
  return out;
}
