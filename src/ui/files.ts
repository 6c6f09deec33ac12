// Turning what the user hands over (a dropped folder, several files, a picker selection) into
// ModelFile objects with '/' paths that keep the dropped folder's name as the first segment, as
// the CLI does ("stories260K/config.json"): the checkpoint reader takes the model's display name
// from it. Walks directory entries through the File and Directory Entries API; knows nothing of
// model formats.

import { baseName, type ModelFile } from '../model/files';

/** The parts of FileSystemEntry we use, so tests can hand in plain objects. */
export interface EntryLike {
  name: string;
  isFile: boolean;
  isDirectory: boolean;
  file?(ok: (f: File) => void, fail?: (e: unknown) => void): void;
  createReader?(): { readEntries(ok: (entries: EntryLike[]) => void, fail?: (e: unknown) => void): void };
}

/** Hidden files and folders (.git, .DS_Store, .cache) are never part of a model. */
const hidden = (name: string) => name.startsWith('.');

async function readAll(dir: EntryLike): Promise<EntryLike[]> {
  const reader = dir.createReader!();
  const out: EntryLike[] = [];
  // readEntries hands back at most ~100 entries per call; an empty batch means the end.
  for (;;) {
    const batch = await new Promise<EntryLike[]>((ok, fail) => reader.readEntries(ok, fail));
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

async function walk(entry: EntryLike, prefix: string, out: ModelFile[]): Promise<void> {
  if (hidden(entry.name)) return;
  if (entry.isFile && entry.file) {
    const file = await new Promise<File>((ok, fail) => entry.file!(ok, fail));
    out.push({ path: prefix + entry.name, blob: file });
  } else if (entry.isDirectory && entry.createReader) {
    for (const child of await readAll(entry)) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

/** Files from dropped entries (folders walked recursively), paths starting with each item's name. */
export async function filesFromEntries(entries: EntryLike[]): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  for (const e of entries) await walk(e, '', out);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Files from an <input type=file> (multiple, or webkitdirectory): a folder picker gives paths
 * like "stories260K/config.json", a plain multi-file pick bare names.
 */
export function filesFromList(list: ArrayLike<File>): ModelFile[] {
  return Array.from(list)
    .map((f) => ({ path: (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name, blob: f as Blob }))
    .filter((f) => !f.path.split('/').some(hidden))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** Files from a drop: directory entries when the browser offers them, else the plain list. */
export async function filesFromDrop(dt: DataTransfer): Promise<ModelFile[]> {
  const entries: EntryLike[] = [];
  for (const item of Array.from(dt.items ?? [])) {
    if (item.kind !== 'file') continue;
    const e = item.webkitGetAsEntry?.();
    if (e) entries.push(e as unknown as EntryLike);
  }
  // Entries must be taken synchronously inside the drop handler; they are, above.
  if (entries.length > 0) return filesFromEntries(entries);
  return filesFromList(dt.files);
}

/** A short label for a set of files: the folder or the main file. */
export function describeFiles(files: ModelFile[]): string {
  if (files.length === 0) return 'no files';
  const bin = files.find((f) => f.path.endsWith('.bin') && !/tok/i.test(f.path));
  if (files.length <= 2 && bin) return bin.path;
  return files.length === 1 ? baseName(files[0].path) : `${files.length} files`;
}
