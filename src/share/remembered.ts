// Models remembered on this computer, with the user's consent: the files as they were dropped,
// kept in the origin private file system (OPFS) under the model's fingerprint, with a small JSON
// manifest written last (a folder without one is an interrupted save and is cleared). Downloads
// from the Hub land in a staging folder first and are moved onto the shelf once complete. Not the
// UI and not the store; nothing here leaves the machine. Layout:
//   depass-models/<fingerprint as a name>/manifest.json
//   depass-models/<fingerprint as a name>/files/<relative path of each file>
//   depass-downloads/<repository and commit as a name>/<file>   (downloads in progress)

import { COMMIT, isRepoId } from '../hub/repo-id';
import type { ModelFile } from '../model/files';

export const MANIFEST_FORMAT = 'depass-remembered/1';
const ROOT = 'depass-models';
const DOWNLOADS = 'depass-downloads';
const MANIFEST = 'manifest.json';
const FILES = 'files';
const MAX_MANIFEST_BYTES = 1 << 20;
const MAX_FILES = 4096;

export interface RememberedFile {
  /** Relative path as the files were dropped ("stories260K/config.json"). */
  path: string;
  size: number;
}

/** Where a model came from when it was downloaded from the Hugging Face Hub. */
export interface ModelSource {
  /** Repository id, "owner/name". */
  hub: string;
  /** The commit hash the files were downloaded at. */
  revision: string;
}

export interface RememberedModel {
  format: typeof MANIFEST_FORMAT;
  name: string;
  fingerprint: string;
  files: RememberedFile[];
  /** Σ file sizes. */
  bytes: number;
  /** When it was saved, ISO 8601. */
  saved: string;
  /** Set for a model downloaded from the Hub. */
  source?: ModelSource;
}

export type StorageErrorKind = 'unavailable' | 'quota' | 'damaged' | 'io';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
  ) {
    super(message);
  }
}

// The parts of the File System API used here; the browser's handles have them, and tests hand
// in an in-memory stand-in.
export interface WritableLike {
  write(data: Blob | BufferSource | string): Promise<void>;
  /** Where the next write goes. */
  seek(position: number): Promise<void>;
  truncate(size: number): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
}
export interface FileHandleLike {
  readonly kind: 'file';
  readonly name: string;
  getFile(): Promise<File | Blob>;
  /** keepExistingData: start from the file as it is (to continue a download), not empty. */
  createWritable(options?: { keepExistingData?: boolean }): Promise<WritableLike>;
  /** Moves the file without copying (Chromium's OPFS); absent elsewhere, then it is copied. */
  move?(parent: DirHandleLike, name: string): Promise<void>;
}
export interface DirHandleLike {
  readonly kind: 'directory';
  readonly name: string;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<DirHandleLike>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<FileHandleLike>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  values(): AsyncIterable<DirHandleLike | FileHandleLike>;
}
export interface StorageLike {
  getDirectory(): Promise<DirHandleLike>;
  estimate?(): Promise<{ usage?: number; quota?: number }>;
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
}

/** The browser's storage manager when it offers OPFS, else null. */
export function browserStorage(): StorageLike | null {
  const s = typeof navigator !== 'undefined' ? (navigator.storage as unknown as Partial<StorageLike> | undefined) : undefined;
  if (!s || typeof s.getDirectory !== 'function') return null;
  return s as StorageLike;
}

/** A folder name for a fingerprint: "sha256:ab12…" -> "sha256-ab12…". */
export function folderName(fingerprint: string): string {
  const name = fingerprint.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 200);
  if (name.length === 0) throw new StorageError('damaged', 'the model has no fingerprint to file it under');
  return name;
}

/** A relative path split into safe segments, or null (empty, ".", "..", separators, NUL). */
export function safeSegments(path: string): string[] | null {
  if (typeof path !== 'string' || path.length === 0 || path.length > 1000) return null;
  const parts = path.split('/');
  if (parts.some((p) => p.length === 0 || p === '.' || p === '..' || p.length > 255 || /[\\\0]/.test(p))) return null;
  return parts;
}

/** A manifest as read back: every field checked, or null. */
export function parseManifest(text: string): RememberedModel | null {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof j !== 'object' || j === null) return null;
  const m = j as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT || typeof m.name !== 'string' || typeof m.fingerprint !== 'string' || typeof m.saved !== 'string') return null;
  if (!Array.isArray(m.files) || m.files.length === 0 || m.files.length > MAX_FILES) return null;
  const files: RememberedFile[] = [];
  for (const f of m.files as unknown[]) {
    if (typeof f !== 'object' || f === null) return null;
    const { path, size } = f as Record<string, unknown>;
    if (typeof path !== 'string' || !safeSegments(path) || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return null;
    files.push({ path, size });
  }
  const bytes = files.reduce((a, f) => a + f.size, 0);
  const out: RememberedModel = { format: MANIFEST_FORMAT, name: m.name.slice(0, 500), fingerprint: m.fingerprint.slice(0, 200), files, bytes, saved: m.saved };
  const src = m.source as Partial<ModelSource> | undefined;
  // A source that does not read as one is dropped; the model itself is still fine.
  if (src && typeof src.hub === 'string' && isRepoId(src.hub) && typeof src.revision === 'string' && COMMIT.test(src.revision)) {
    out.source = { hub: src.hub, revision: src.revision };
  }
  return out;
}

/** Folders being written by this page: a listing must not take them for interrupted saves. */
const writing = new Set<string>();

const isQuota = (e: unknown) => e instanceof Error && (e.name === 'QuotaExceededError' || /quota/i.test(e.message));

export function sizeText(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(n >= 100 ? 0 : 1)} ${units[u]}`;
}

export interface Usage {
  /** Bytes this site stores (all kinds of storage), as the browser reports it. */
  usage: number;
  quota: number;
}

/** The remembered models of this origin. Every method fails with a StorageError only. */
export class ModelShelf {
  constructor(private readonly storage: StorageLike | null = browserStorage()) {}

  get available(): boolean {
    return this.storage !== null;
  }

  private async root(create: boolean): Promise<DirHandleLike | null> {
    if (!this.storage)
      throw new StorageError('unavailable', 'this browser offers no private file storage for this site (OPFS), so models cannot be remembered here');
    let top: DirHandleLike;
    try {
      top = await this.storage.getDirectory();
    } catch (e) {
      throw new StorageError(
        'unavailable',
        `this browser refused its private file storage (${e instanceof Error ? e.message : String(e)}), so models cannot be remembered here`,
      );
    }
    try {
      return await top.getDirectoryHandle(ROOT, { create });
    } catch (e) {
      if (!create && e instanceof Error && e.name === 'NotFoundError') return null;
      throw this.io(e, 'open the storage folder');
    }
  }

  private io(e: unknown, doing: string): StorageError {
    if (e instanceof StorageError) return e;
    if (isQuota(e)) return new StorageError('quota', `not enough storage space to ${doing}`);
    return new StorageError('io', `could not ${doing}: ${e instanceof Error ? e.message : String(e)}`);
  }

  async usage(): Promise<Usage | null> {
    try {
      const e = await this.storage?.estimate?.();
      if (!e || typeof e.usage !== 'number' || typeof e.quota !== 'number') return null;
      return { usage: e.usage, quota: e.quota };
    } catch {
      return null;
    }
  }

  /** Asks the browser not to clear this site's storage under pressure; null when it cannot say. */
  async persist(): Promise<boolean | null> {
    try {
      if (this.storage?.persist) return await this.storage.persist();
    } catch {
      // Not fatal: the model is still saved, only clearable by the browser.
    }
    return null;
  }

  async persisted(): Promise<boolean | null> {
    try {
      if (this.storage?.persisted) return await this.storage.persisted();
    } catch {
      // Unknown.
    }
    return null;
  }

  /** Every complete remembered model, newest first; interrupted saves are cleared on the way. */
  async list(): Promise<RememberedModel[]> {
    const root = await this.root(false);
    if (!root) return [];
    const out: RememberedModel[] = [];
    const stale: string[] = [];
    try {
      for await (const entry of root.values()) {
        if (entry.kind !== 'directory') continue;
        const m = await this.readManifest(entry);
        if (m && folderName(m.fingerprint) === entry.name) out.push(m);
        else if (!writing.has(entry.name)) stale.push(entry.name);
      }
    } catch (e) {
      throw this.io(e, 'list the remembered models');
    }
    for (const name of stale) await root.removeEntry(name, { recursive: true }).catch(() => undefined);
    return out.sort((a, b) => b.saved.localeCompare(a.saved));
  }

  private async readManifest(dir: DirHandleLike): Promise<RememberedModel | null> {
    try {
      const blob = await (await dir.getFileHandle(MANIFEST)).getFile();
      if (blob.size > MAX_MANIFEST_BYTES) return null;
      return parseManifest(await blob.text());
    } catch {
      return null;
    }
  }

  /**
   * Saves the files under the fingerprint (replacing an earlier copy). Checks the free space
   * first; on any failure the partial copy is removed, so nothing half-saved is listed.
   */
  async remember(
    model: { name: string; fingerprint: string },
    files: ModelFile[],
    onProgress?: (done: number, total: number) => void,
  ): Promise<RememberedModel> {
    if (files.length === 0) throw new StorageError('damaged', 'there are no files to remember');
    const paths = files.map((f) => safeSegments(f.path));
    const badAt = paths.findIndex((p) => p === null);
    if (badAt >= 0) throw new StorageError('damaged', `the file name ${JSON.stringify(files[badAt].path)} cannot be stored`);
    if (new Set(files.map((f) => f.path)).size !== files.length) throw new StorageError('damaged', 'two files have the same path');
    const total = files.reduce((a, f) => a + f.blob.size, 0);
    const u = await this.usage();
    if (u && u.quota - u.usage < total) {
      throw new StorageError(
        'quota',
        `not enough storage space: the model needs ${sizeText(total)} and this browser allows this site ${sizeText(Math.max(0, u.quota - u.usage))} more`,
      );
    }
    const root = (await this.root(true))!;
    const name = folderName(model.fingerprint);
    if (writing.has(name)) throw new StorageError('io', `${model.name} is being saved already`);
    writing.add(name);
    await root.removeEntry(name, { recursive: true }).catch(() => undefined);
    let written = 0;
    try {
      const dir = await root.getDirectoryHandle(name, { create: true });
      const filesDir = await dir.getDirectoryHandle(FILES, { create: true });
      onProgress?.(0, total);
      for (let i = 0; i < files.length; i++) {
        const segs = paths[i]!;
        let d = filesDir;
        for (const s of segs.slice(0, -1)) d = await d.getDirectoryHandle(s, { create: true });
        await writeFile(d, segs[segs.length - 1], files[i].blob);
        written += files[i].blob.size;
        onProgress?.(written, total);
      }
      const manifest: RememberedModel = {
        format: MANIFEST_FORMAT,
        name: model.name,
        fingerprint: model.fingerprint,
        files: files.map((f) => ({ path: f.path, size: f.blob.size })),
        bytes: total,
        saved: new Date().toISOString(),
      };
      // Written last: its presence is what makes the copy complete.
      await writeFile(dir, MANIFEST, new Blob([JSON.stringify(manifest, null, 1)], { type: 'application/json' }));
      return manifest;
    } catch (e) {
      await root.removeEntry(name, { recursive: true }).catch(() => undefined);
      throw this.io(e, `remember ${model.name} (${sizeText(total)}; ${sizeText(written)} were written before it stopped)`);
    } finally {
      writing.delete(name);
    }
  }

  /** The remembered files as ModelFile objects (lazy: nothing is read until the loader reads). */
  async open(fingerprint: string): Promise<{ model: RememberedModel; files: ModelFile[] }> {
    const root = await this.root(false);
    const missing = () => new StorageError('damaged', 'this model is no longer remembered on this computer');
    if (!root) throw missing();
    let dir: DirHandleLike;
    try {
      dir = await root.getDirectoryHandle(folderName(fingerprint));
    } catch {
      throw missing();
    }
    const model = await this.readManifest(dir);
    if (!model || model.fingerprint !== fingerprint)
      throw new StorageError('damaged', 'the remembered copy has no readable manifest; remove it and remember the model again');
    const files: ModelFile[] = [];
    try {
      const filesDir = await dir.getDirectoryHandle(FILES);
      for (const f of model.files) {
        const segs = safeSegments(f.path)!;
        let d = filesDir;
        for (const s of segs.slice(0, -1)) d = await d.getDirectoryHandle(s);
        const blob = await (await d.getFileHandle(segs[segs.length - 1])).getFile();
        if (blob.size !== f.size)
          throw new StorageError(
            'damaged',
            `the remembered copy of ${model.name} is incomplete (${f.path} has ${blob.size} bytes, ${f.size} expected); remove it and remember the model again`,
          );
        files.push({ path: f.path, blob });
      }
    } catch (e) {
      if (e instanceof StorageError) throw e;
      throw new StorageError(
        'damaged',
        `the remembered copy of ${model.name} is incomplete (${e instanceof Error ? e.message : String(e)}); remove it and remember the model again`,
      );
    }
    return { model, files };
  }

  /** Free bytes this site may still store, or null when the browser does not say. */
  async freeBytes(): Promise<number | null> {
    const u = await this.usage();
    return u ? Math.max(0, u.quota - u.usage) : null;
  }

  /** The staging folder of a download (created when absent); what is in it stays until adopted or cleared. */
  async staging(key: string): Promise<DirHandleLike> {
    const top = await this.top();
    try {
      const downloads = await top.getDirectoryHandle(DOWNLOADS, { create: true });
      return await downloads.getDirectoryHandle(folderName(key), { create: true });
    } catch (e) {
      throw this.io(e, 'open the download folder');
    }
  }

  /** Removes a download's staging folder (a cancelled or finished download). */
  async clearStaging(key: string): Promise<void> {
    const top = await this.top();
    try {
      const downloads = await top.getDirectoryHandle(DOWNLOADS);
      await downloads.removeEntry(folderName(key), { recursive: true });
    } catch (e) {
      if (e instanceof Error && e.name === 'NotFoundError') return;
      throw this.io(e, 'remove the download folder');
    }
  }

  private async top(): Promise<DirHandleLike> {
    if (!this.storage)
      throw new StorageError('unavailable', 'this browser offers no private file storage for this site (OPFS), so models cannot be downloaded here');
    try {
      return await this.storage.getDirectory();
    } catch (e) {
      throw new StorageError('unavailable', `this browser refused its private file storage (${e instanceof Error ? e.message : String(e)})`);
    }
  }

  /**
   * Puts downloaded files on the shelf under the model's fingerprint, moving them out of the
   * staging folder (copying where a move is not offered), then writes the manifest and clears
   * the staging folder. On failure nothing is listed and the staged files stay where they were
   * (as far as they were not moved yet).
   */
  async adopt(
    model: { name: string; fingerprint: string; source?: ModelSource },
    files: { path: string; handle: FileHandleLike }[],
    stagingKey: string,
  ): Promise<RememberedModel> {
    const paths = files.map((f) => safeSegments(f.path));
    const badAt = paths.findIndex((p) => p === null);
    if (files.length === 0 || badAt >= 0) throw new StorageError('damaged', `the file name ${JSON.stringify(files[badAt]?.path ?? '')} cannot be stored`);
    const root = (await this.root(true))!;
    const name = folderName(model.fingerprint);
    if (writing.has(name)) throw new StorageError('io', `${model.name} is being saved already`);
    writing.add(name);
    await root.removeEntry(name, { recursive: true }).catch(() => undefined);
    try {
      const dir = await root.getDirectoryHandle(name, { create: true });
      const filesDir = await dir.getDirectoryHandle(FILES, { create: true });
      const sizes: number[] = [];
      for (let i = 0; i < files.length; i++) {
        const segs = paths[i]!;
        let d = filesDir;
        for (const s of segs.slice(0, -1)) d = await d.getDirectoryHandle(s, { create: true });
        const leaf = segs[segs.length - 1];
        const blob = await files[i].handle.getFile();
        sizes.push(blob.size);
        const moved = files[i].handle.move
          ? await files[i].handle.move!(d, leaf)
              .then(() => true)
              .catch(() => false)
          : false;
        if (!moved) await writeFile(d, leaf, blob);
      }
      const manifest: RememberedModel = {
        format: MANIFEST_FORMAT,
        name: model.name,
        fingerprint: model.fingerprint,
        files: files.map((f, i) => ({ path: f.path, size: sizes[i] })),
        bytes: sizes.reduce((a, b) => a + b, 0),
        saved: new Date().toISOString(),
        ...(model.source ? { source: model.source } : {}),
      };
      await writeFile(dir, MANIFEST, new Blob([JSON.stringify(manifest, null, 1)], { type: 'application/json' }));
      await this.clearStaging(stagingKey).catch(() => undefined);
      return manifest;
    } catch (e) {
      await root.removeEntry(name, { recursive: true }).catch(() => undefined);
      throw this.io(e, `keep ${model.name} on this computer`);
    } finally {
      writing.delete(name);
    }
  }

  async forget(fingerprint: string): Promise<void> {
    const root = await this.root(false);
    if (!root) return;
    try {
      await root.removeEntry(folderName(fingerprint), { recursive: true });
    } catch (e) {
      if (e instanceof Error && e.name === 'NotFoundError') return;
      throw this.io(e, 'remove the remembered model');
    }
  }
}

async function writeFile(dir: DirHandleLike, name: string, blob: Blob): Promise<void> {
  const handle = await dir.getFileHandle(name, { create: true });
  const w = await handle.createWritable();
  try {
    await w.write(blob);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
}
