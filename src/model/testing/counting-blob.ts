// A Blob stand-in that counts the bytes actually read (arrayBuffer, text, bytes, stream), for
// tests that check a reader looks at headers and samples rather than whole weight files.

import type { ModelFile } from '../files';

export interface ReadCounter {
  bytes: number;
  reads: number;
  /** The most bytes one read asked for. */
  largest?: number;
}

export function countingBlob(blob: Blob, counter: ReadCounter): Blob {
  const count = () => {
    counter.bytes += blob.size;
    counter.reads += 1;
    counter.largest = Math.max(counter.largest ?? 0, blob.size);
  };
  const wrapper = {
    size: blob.size,
    type: blob.type,
    slice: (start?: number, end?: number, type?: string) => countingBlob(blob.slice(start, end, type), counter),
    arrayBuffer: () => (count(), blob.arrayBuffer()),
    text: () => (count(), blob.text()),
    bytes: async () => (count(), new Uint8Array(await blob.arrayBuffer())),
    stream: () => (count(), blob.stream()),
  };
  return wrapper as unknown as Blob;
}

export function countingFiles(files: readonly ModelFile[], counter: ReadCounter): ModelFile[] {
  return files.map((f) => ({ path: f.path, blob: countingBlob(f.blob, counter) }));
}
