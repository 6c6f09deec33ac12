// Model weights on the GPU, uploaded once per model. Matrices stay in their file dtype (f32, or
// f16/bf16 packed two per u32 and expanded in the shaders); a matrix larger than one storage
// binding is split by rows into chunks. Norm weights and biases (O(D) floats) become f32.

import type { DType, Linear, ModelDescription, ModelWeights, Norm, Tensor } from '../model/description';
import { bytesPerElement } from '../model/description';
import { tensorToFloat32 } from '../model/dtype';
import { BUFFER_ALIGN, uploadStorage } from './buffers';

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

export function uploadMatrix(device: GPUDevice, t: Tensor, maxBytes: number, out: GPUBuffer[]): GpuMatrix {
  if (t.shape.length !== 2) throw new Error(`${t.name}: expected a matrix, got shape [${t.shape.join(', ')}]`);
  const [rows, cols] = t.shape as [number, number];
  const per = rowsPerChunk(cols, t.dtype, maxBytes);
  const rowBytes = cols * bytesPerElement(t.dtype);
  const chunks: GpuMatrix['chunks'] = [];
  for (let row0 = 0; row0 < rows; row0 += per) {
    const n = Math.min(per, rows - row0);
    const suffix = rows > per ? ` rows ${row0}-${row0 + n - 1}` : '';
    const buffer = uploadStorage(device, `${t.name}${suffix}`, t.bytes.subarray(row0 * rowBytes, (row0 + n) * rowBytes));
    out.push(buffer);
    chunks.push({ buffer, row0, rows: n });
  }
  return { name: t.name, dtype: t.dtype, rows, cols, chunks };
}

function uploadVector(device: GPUDevice, t: Tensor, out: GPUBuffer[]): GPUBuffer {
  const b = uploadStorage(device, t.name, tensorToFloat32(t));
  out.push(b);
  return b;
}

export function uploadWeights(device: GPUDevice, cfg: ModelDescription, w: ModelWeights, maxBindingBytes: number): GpuWeights {
  const buffers: GPUBuffer[] = [];
  const mat = (t: Tensor) => uploadMatrix(device, t, maxBindingBytes, buffers);
  const lin = (l: Linear): GpuLinear => ({ weight: mat(l.weight), bias: l.bias && uploadVector(device, l.bias, buffers) });
  const norm = (n: Norm): GpuNorm => ({ weight: uploadVector(device, n.weight, buffers), bias: n.bias && uploadVector(device, n.bias, buffers) });
  const maybe = (n: Norm | undefined) => n && norm(n);
  if (w.layers.length !== cfg.num_hidden_layers) throw new Error(`weights have ${w.layers.length} layers, the description ${cfg.num_hidden_layers}`);
  const embed_tokens = mat(w.embed_tokens);
  const layers = w.layers.map((l): GpuLayerWeights => ({
    input_layernorm: maybe(l.input_layernorm),
    q_proj: lin(l.q_proj),
    k_proj: lin(l.k_proj),
    v_proj: lin(l.v_proj),
    o_proj: lin(l.o_proj),
    q_norm: maybe(l.q_norm),
    k_norm: maybe(l.k_norm),
    attn_output_norm: maybe(l.attn_output_norm),
    post_attention_layernorm: maybe(l.post_attention_layernorm),
    mlp_output_norm: maybe(l.mlp_output_norm),
    gate_proj: l.gate_proj && lin(l.gate_proj),
    up_proj: lin(l.up_proj),
    down_proj: lin(l.down_proj),
  }));
  return {
    embed_tokens,
    embed_positions: w.embed_positions && mat(w.embed_positions),
    layers,
    norm: norm(w.norm),
    lm_head: w.lm_head === w.embed_tokens ? embed_tokens : mat(w.lm_head),
    bytes: buffers.reduce((s, b) => s + b.size, 0),
    buffers,
  };
}

/** An f32 buffer seen as a one-chunk matrix (for directions and other small operands). */
export function f32Matrix(name: string, buffer: GPUBuffer, rows: number, cols: number): GpuMatrix {
  return { name, dtype: 'F32', rows, cols, chunks: [{ buffer, row0: 0, rows }] };
}
