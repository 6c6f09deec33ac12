// Model weights on the GPU, uploaded once per model and streamed from where they are (the user's
// file, a piece at a time). Matrices stay in their file dtype (f32, or f16/bf16 packed two per u32
// and expanded in the shaders); a matrix larger than one storage binding is split by rows into
// chunks. Norm weights and biases (O(D) floats) become f32.

import type { DType, Linear, ModelDescription, ModelWeights, Norm, Weight } from '../model/description';
import { bytesPerElement, elementCount } from '../model/description';
import { tensorToFloat32 } from '../model/dtype';
import { inMemory, readWeight } from '../model/stored-tensor';
import { BUFFER_ALIGN, createStorage, uploadStorage, writeStorage } from './buffers';

/** A row-major [rows, cols] matrix, split by rows into buffers that each fit one binding. */
export interface GpuMatrix {
  name: string;
  dtype: DType;
  rows: number;
  cols: number;
  chunks: { buffer: GPUBuffer; row0: number; rows: number }[];
}

export interface GpuLinear {
  weight: GpuMatrix; // [out, in]
  bias?: GPUBuffer; // [out] f32
}

export interface GpuNorm {
  weight: GPUBuffer; // [n] f32
  bias?: GPUBuffer; // [n] f32, LayerNorm only
}

export interface GpuLayerWeights {
  input_layernorm?: GpuNorm;
  q_proj: GpuLinear;
  k_proj: GpuLinear;
  v_proj: GpuLinear;
  o_proj: GpuLinear;
  q_norm?: GpuNorm;
  k_norm?: GpuNorm;
  attn_output_norm?: GpuNorm;
  post_attention_layernorm?: GpuNorm;
  mlp_output_norm?: GpuNorm;
  gate_proj?: GpuLinear;
  up_proj: GpuLinear;
  down_proj: GpuLinear;
}

export interface GpuWeights {
  embed_tokens: GpuMatrix; // [V, D]
  embed_positions?: GpuMatrix; // [P, D]
  layers: GpuLayerWeights[];
  norm: GpuNorm; // [D]
  lm_head: GpuMatrix; // [V, D]; the same object as embed_tokens when tied
  /** Bytes held on the GPU. */
  bytes: number;
  buffers: GPUBuffer[];
}

/** Rows per chunk so that a chunk (a buffer of its own, padded to 16 bytes) fits `maxBytes`. */
export function rowsPerChunk(cols: number, dtype: DType, maxBytes: number): number {
  const rowBytes = cols * bytesPerElement(dtype);
  return Math.max(1, Math.floor((maxBytes - BUFFER_ALIGN) / rowBytes));
}

/** Bytes written to the GPU per queue write: a large tensor streams through in pieces of this size. */
export const UPLOAD_PIECE_BYTES = 16 * 1024 * 1024;

/** Progress of an upload: bytes of weights on the GPU so far, of the total. */
export type UploadProgress = (done: number, total: number) => void;

interface Uploader {
  device: GPUDevice;
  maxBytes: number;
  /** Bytes per queue write (a multiple of 4). */
  piece: number;
  out: GPUBuffer[];
  done: number;
  total: number;
  onProgress?: UploadProgress;
}

/**
 * A matrix in its file dtype, split by rows into buffers of at most `maxBytes`; its bytes are read
 * from where they are (memory or the user's file) a piece at a time, so a large checkpoint never
 * passes through memory whole.
 */
async function uploadMatrix(u: Uploader, t: Weight): Promise<GpuMatrix> {
  if (t.shape.length !== 2) throw new Error(`${t.name}: expected a matrix, got shape [${t.shape.join(', ')}]`);
  const [rows, cols] = t.shape as [number, number];
  const rowBytes = cols * bytesPerElement(t.dtype);
  if (rowBytes + BUFFER_ALIGN > u.maxBytes)
    throw new GpuLimitError(`${t.name}: one row of ${rowBytes} bytes does not fit this GPU's largest buffer (${u.maxBytes} bytes)`);
  const per = rowsPerChunk(cols, t.dtype, u.maxBytes);
  const chunks: GpuMatrix['chunks'] = [];
  for (let row0 = 0; row0 < rows; row0 += per) {
    const n = Math.min(per, rows - row0);
    const suffix = rows > per ? ` rows ${row0}-${row0 + n - 1}` : '';
    const buffer = createStorage(u.device, `${t.name}${suffix}`, n * rowBytes);
    u.out.push(buffer);
    for (let at = 0; at < n * rowBytes; at += u.piece) {
      const length = Math.min(u.piece, n * rowBytes - at);
      writeStorage(u.device, buffer, at, await readWeight(t, row0 * rowBytes + at, length));
      u.done += length;
      u.onProgress?.(u.done, u.total);
    }
    chunks.push({ buffer, row0, rows: n });
  }
  return { name: t.name, dtype: t.dtype, rows, cols, chunks };
}

async function uploadVector(u: Uploader, t: Weight): Promise<GPUBuffer> {
  const b = uploadStorage(u.device, t.name, tensorToFloat32(await inMemory(t)));
  u.out.push(b);
  u.done += elementCount(t) * bytesPerElement(t.dtype);
  return b;
}

/** A limit of the device the model cannot be split to fit. */
export class GpuLimitError extends Error {
  override readonly name = 'GpuLimitError';
}

/** Bytes of a model's weights as they are read (the total an upload's progress counts to). */
export function storedBytes(w: ModelWeights<Weight>): number {
  const seen = new Set<Weight>();
  let total = 0;
  const add = (t?: Weight) => {
    if (t && !seen.has(t)) {
      seen.add(t);
      total += elementCount(t) * bytesPerElement(t.dtype);
    }
  };
  [w.embed_tokens, w.embed_positions, w.lm_head, w.norm.weight, w.norm.bias].forEach(add);
  for (const l of w.layers) for (const part of Object.values(l)) if (part) [part.weight, part.bias].forEach(add);
  return total;
}

/** Uploads every weight once (tied heads share the embedding's buffers), reporting progress. */
export interface UploadOptions {
  onProgress?: UploadProgress;
  /** Bytes per queue write (default UPLOAD_PIECE_BYTES; a multiple of 4). */
  pieceBytes?: number;
}

export async function uploadWeights(
  device: GPUDevice,
  cfg: ModelDescription,
  w: ModelWeights<Weight>,
  maxBindingBytes: number,
  opts: UploadOptions = {},
): Promise<GpuWeights> {
  const piece = opts.pieceBytes ?? UPLOAD_PIECE_BYTES;
  if (!(piece > 0 && piece % 4 === 0)) throw new RangeError(`upload pieces must be a positive multiple of 4 bytes, not ${piece}`);
  const u: Uploader = { device, maxBytes: maxBindingBytes, piece, out: [], done: 0, total: storedBytes(w), onProgress: opts.onProgress };
  const mat = (t: Weight) => uploadMatrix(u, t);
  const vec = (t: Weight | undefined) => (t ? uploadVector(u, t) : undefined);
  const lin = async (l: Linear<Weight>): Promise<GpuLinear> => ({ weight: await mat(l.weight), bias: await vec(l.bias) });
  const norm = async (n: Norm<Weight>): Promise<GpuNorm> => ({ weight: (await vec(n.weight))!, bias: await vec(n.bias) });
  const maybe = (n: Norm<Weight> | undefined) => (n ? norm(n) : undefined);
  if (w.layers.length !== cfg.num_hidden_layers) throw new Error(`weights have ${w.layers.length} layers, the description ${cfg.num_hidden_layers}`);
  const embed_tokens = await mat(w.embed_tokens);
  const layers: GpuLayerWeights[] = [];
  for (const l of w.layers) {
    layers.push({
      input_layernorm: await maybe(l.input_layernorm),
      q_proj: await lin(l.q_proj),
      k_proj: await lin(l.k_proj),
      v_proj: await lin(l.v_proj),
      o_proj: await lin(l.o_proj),
      q_norm: await maybe(l.q_norm),
      k_norm: await maybe(l.k_norm),
      attn_output_norm: await maybe(l.attn_output_norm),
      post_attention_layernorm: await maybe(l.post_attention_layernorm),
      mlp_output_norm: await maybe(l.mlp_output_norm),
      gate_proj: l.gate_proj && (await lin(l.gate_proj)),
      up_proj: await lin(l.up_proj),
      down_proj: await lin(l.down_proj),
    });
  }
  return {
    embed_tokens,
    embed_positions: w.embed_positions && (await mat(w.embed_positions)),
    layers,
    norm: await norm(w.norm),
    lm_head: w.lm_head === w.embed_tokens ? embed_tokens : await mat(w.lm_head),
    bytes: u.out.reduce((s, b) => s + b.size, 0),
    buffers: u.out,
  };
}

/** An f32 buffer seen as a one-chunk matrix (for directions and other small operands). */
export function f32Matrix(name: string, buffer: GPUBuffer, rows: number, cols: number): GpuMatrix {
  return { name, dtype: 'F32', rows, cols, chunks: [{ buffer, row0: 0, rows }] };
}
