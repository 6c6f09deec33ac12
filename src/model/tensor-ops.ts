// Rearranging checkpoint tensors into the layout the engines read, lazily (each is a StoredTensor
// read through its source): GPT-NeoX's per-head q|k|v rows picked out of the fused matrix, Conv1D
// matrices transposed, and Gemma's (1 + w) norm weights made plain. Raw elements move as they
// are; only the norm weights are computed, in f32 as the reference does. Contiguous row blocks
// (Phi-3's qkv and gate_up) are stored-tensor.ts rowBlock.

import { bytesPerElement, type DType, type StoredTensor } from './description';
import { bytesToFloat32, float32ToTensorBytes } from './dtype';
import { derived } from './stored-tensor';

/** Rows of a stored tensor ([rows, ...] row-major), in the order given, as a tensor of its own. */
export function pickRows(t: StoredTensor, rows: readonly number[], tag: string): StoredTensor {
  const rowBytes = t.byteLength / t.shape[0]!;
  return derived({ name: `${t.name}[${tag}]`, dtype: t.dtype, shape: [rows.length, ...t.shape.slice(1)] }, async () => {
    const all = await t.read();
    const out = new Uint8Array(rows.length * rowBytes);
    rows.forEach((r, i) => out.set(all.subarray(r * rowBytes, (r + 1) * rowBytes), i * rowBytes));
    return out;
  });
}

/** Columns [colStart, colStart + cols) of a stored [rows, totalCols] matrix, transposed to [cols, rows]. */
export function transposed(t: StoredTensor, colStart: number, cols: number, name = t.name): StoredTensor {
  const [rows, totalCols] = t.shape as [number, number];
  return derived({ name, dtype: t.dtype, shape: [cols, rows] }, async () => transposeColumns(await t.read(), rows, totalCols, colStart, cols, t.dtype));
}

/**
 * Columns [colStart, colStart + cols) of a row-major [rows, totalCols] matrix, transposed to
 * [cols, rows]: Conv1D's [in, out] becomes Linear's [out, in]. Raw 2- or 4-byte elements are
 * moved as they are.
 */
export function transposeColumns(bytes: Uint8Array, rows: number, totalCols: number, colStart: number, cols: number, dtype: DType): Uint8Array<ArrayBuffer> {
  const size = bytesPerElement(dtype);
  const out = new Uint8Array(rows * cols * size);
  if (bytes.byteOffset % size === 0) {
    const view = (buffer: ArrayBufferLike, offset: number, n: number) => (size === 4 ? new Uint32Array(buffer, offset, n) : new Uint16Array(buffer, offset, n));
    const src = view(bytes.buffer, bytes.byteOffset, rows * totalCols);
    const dst = view(out.buffer, 0, rows * cols);
    for (let r = 0; r < rows; r++) {
      const rowBase = r * totalCols + colStart;
      for (let c = 0; c < cols; c++) dst[c * rows + r] = src[rowBase + c]!;
    }
    return out;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const from = (r * totalCols + colStart + c) * size;
      out.set(bytes.subarray(from, from + size), (c * rows + r) * size);
    }
  }
  return out;
}

/** Gemma's RMSNorm scales by (1 + w): the plain weight 1 + w, in f32 (as the reference computes it). */
export function onePlus(t: StoredTensor): StoredTensor {
  return derived({ name: `1 + ${t.name}`, dtype: 'F32', shape: t.shape.slice() }, async () => {
    const w = bytesToFloat32(await t.read(), t.dtype);
    for (let i = 0; i < w.length; i++) w[i] = 1 + w[i]!;
    return float32ToTensorBytes(w, 'F32');
  });
}

/** x rounded to a tensor dtype (Gemma's sqrt(D) embedding scale is held in the embedding's dtype). */
export function roundTo(x: number, dtype: DType): number {
  return bytesToFloat32(float32ToTensorBytes(Float32Array.of(x), dtype), dtype)[0]!;
}
