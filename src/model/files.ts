// The files a user hands over: a dropped folder, a multi-file selection, or paths read in Node.
// Blobs stay lazy so a reader can look at a header without reading the weights.

export interface ModelFile {
  /** Path relative to the dropped folder, with '/' separators (e.g. "config.json"). */
  path: string;
  blob: Blob;
}

/** The last path segment, which is what matters for recognising files. */
export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

export async function readBytes(file: ModelFile, start = 0, end = file.blob.size): Promise<Uint8Array> {
  return new Uint8Array(await file.blob.slice(start, end).arrayBuffer());
}

export async function readText(file: ModelFile): Promise<string> {
  return file.blob.text();
}
