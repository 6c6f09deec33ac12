// Weights left in the user's files until an engine needs them: a safetensors entry as a
// StoredTensor that reads its slice of the file (a byte range at a time when asked), tensors
// derived from others (a row block, rearranged rows, a transpose) that read through them, and
// reading any weight whole into memory when an engine wants it there.

import { bytesPerElement, type DType, elementCount, type ModelWeights, type StoredTensor, type Tensor, type Weight } from './description';
import { ModelFormatError } from './errors';
import type { ModelFile } from './files';

function inRange(t: { name: string; byteLength: number }, offset: number, length: number): void {
  if (!(offset >= 0 && length >= 0 && offset + length <= t.byteLength)) {
    throw new RangeError(`${t.name}: bytes ${offset}..${offset + length} are outside its ${t.byteLength}`);
  }
}

/** The bytes [begin, end) of a file, as a tensor read on demand; a short read names the file. */
export function fileTensor(file: ModelFile, begin: number, end: number, meta: { name: string; dtype: DType; shape: number[] }): StoredTensor {
  const byteLength = end - begin;
  return {
    ...meta,
    byteLength,
    async read(offset = 0, length = byteLength - offset) {
      inRange({ name: meta.name, byteLength }, offset, length);
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = new Uint8Array(await file.blob.slice(begin + offset, begin + offset + length).arrayBuffer());
      } catch (e) {
        throw new ModelFormatError(
          'truncated',
          file.path,
          `could not read bytes ${begin + offset}..${begin + offset + length} (${(e as Error).message})`,
          meta.name,
        );
      }
      if (bytes.byteLength !== length) throw new ModelFormatError('truncated', file.path, `read ${bytes.byteLength} of ${length} bytes`, meta.name);
      return bytes;
    },
  };
}

/** Rows [from, from + n) of a stored matrix (a contiguous block: read through without copying the rest). */
export function rowBlock(t: StoredTensor, from: number, n: number, tag: string): StoredTensor {
  const rowBytes = t.byteLength / t.shape[0]!;
  const byteLength = n * rowBytes;
  return {
    name: `${t.name}[${tag}]`,
    dtype: t.dtype,
    shape: [n, ...t.shape.slice(1)],
    byteLength,
    read: (offset = 0, length = byteLength - offset) => {
      inRange({ name: t.name, byteLength }, offset, length);
      return t.read(from * rowBytes + offset, length);
    },
  };
}

/**
 * A tensor computed from the whole of another (rows picked out of order, a transpose, Gemma's
 * 1 + w): each read computes it, holding one copy of the source and one of the result.
 */
export function derived(meta: { name: string; dtype: DType; shape: number[] }, compute: () => Promise<Uint8Array<ArrayBuffer>>): StoredTensor {
  const byteLength = meta.shape.reduce((a, b) => a * b, 1) * bytesPerElement(meta.dtype);
  return {
    ...meta,
    byteLength,
    async read(offset = 0, length = byteLength - offset) {
      inRange({ name: meta.name, byteLength }, offset, length);
      const all = await compute();
      return offset === 0 && length === all.byteLength ? all : all.slice(offset, offset + length);
    },
  };
}

/** Bytes [offset, offset + length) of any weight. */
export async function readWeight(t: Weight, offset = 0, length?: number): Promise<Uint8Array> {
  if ('bytes' in t) return t.bytes.subarray(offset, length === undefined ? undefined : offset + length);
  return t.read(offset, length ?? t.byteLength - offset);
}

/** A weight in memory (read whole when it is stored). */
export async function inMemory(t: Weight): Promise<Tensor> {
  if ('bytes' in t) return t;
  const bytes = await t.read();
  if (bytes.byteLength !== elementCount(t) * bytesPerElement(t.dtype))
    throw new RangeError(`${t.name}: ${bytes.byteLength} bytes for shape [${t.shape.join(', ')}]`);
  return { name: t.name, dtype: t.dtype, shape: t.shape, bytes };
}

/** Every weight read into memory, keeping tied weights one object. */
export async function weightsInMemory(w: ModelWeights<Weight>): Promise<ModelWeights> {
  const done = new Map<Weight, Promise<Tensor>>();
  const m = (t: Weight) => {
    let p = done.get(t);
    if (!p) done.set(t, (p = inMemory(t)));
    return p;
  };
  const opt = async (t?: Weight) => (t ? m(t) : undefined);
  const lin = async <L extends { weight: Weight; bias?: Weight }>(l: L | undefined) => (l ? { weight: await m(l.weight), bias: await opt(l.bias) } : undefined);
  const layers = [];
  for (const l of w.layers) {
    layers.push({
      input_layernorm: await lin(l.input_layernorm),
      q_proj: (await lin(l.q_proj))!,
      k_proj: (await lin(l.k_proj))!,
      v_proj: (await lin(l.v_proj))!,
      o_proj: (await lin(l.o_proj))!,
      q_norm: await lin(l.q_norm),
      k_norm: await lin(l.k_norm),
      attn_output_norm: await lin(l.attn_output_norm),
      post_attention_layernorm: await lin(l.post_attention_layernorm),
      mlp_output_norm: await lin(l.mlp_output_norm),
      gate_proj: await lin(l.gate_proj),
      up_proj: (await lin(l.up_proj))!,
      down_proj: (await lin(l.down_proj))!,
    });
  }
  const out: ModelWeights = {
    embed_tokens: await m(w.embed_tokens),
    layers: layers.map(dropUndefined),
    norm: (await lin(w.norm))!,
    lm_head: await m(w.lm_head),
  };
  if (w.embed_positions) out.embed_positions = await m(w.embed_positions);
  return out;
}

/** Without the keys whose value is undefined (so that layers compare equal to hand-built ones). */
function dropUndefined<O extends object>(o: O): O {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as O;
}
