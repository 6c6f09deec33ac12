// Remembered models against an in-memory file system: a save reads back byte for byte with its
// folder structure, a full disk or a refused storage ends in a clear StorageError and leaves
// nothing half-saved behind, a damaged copy is refused on opening, unsafe paths are never
// written. The real OPFS is exercised by e2e/remembered.spec.ts in Chromium.

import { describe, expect, it } from 'vitest';
import type { ModelFile } from '../model/files';
import { folderName, ModelShelf, parseManifest, safeSegments, StorageError } from './remembered';
import { MemoryDir, MemoryStorage } from './testing/memory-opfs';

const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
const modelFiles = (): ModelFile[] => [
  { path: 'tiny/config.json', blob: new Blob(['{"model_type":"llama"}']) },
  { path: 'tiny/model.safetensors', blob: new Blob([bytesOf(5000, 1)]) },
  { path: 'tiny/sub/tokenizer.json', blob: new Blob([bytesOf(300, 2)]) },
];
const MODEL = { name: 'tiny', fingerprint: 'sha256:00ff' };

async function failure(p: Promise<unknown>): Promise<StorageError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StorageError);
    return e as StorageError;
  }
  throw new Error('expected a StorageError');
}

describe('remembered models', () => {
  it('save, list and open give back the same files under the same paths', async () => {
    const storage = new MemoryStorage();
    const shelf = new ModelShelf(storage);
    const progress: number[] = [];
    const saved = await shelf.remember(MODEL, modelFiles(), (done) => progress.push(done));
    expect(saved.bytes).toBe(22 + 5000 + 300);
    expect(progress).toEqual([0, 22, 5022, 5322]);
    expect(storage.used()).toBeGreaterThan(5322); // the files plus the manifest

    const list = await shelf.list();
    expect(list.map((m) => [m.name, m.fingerprint, m.bytes])).toEqual([['tiny', 'sha256:00ff', 5322]]);
    expect(list[0].files).toEqual([
      { path: 'tiny/config.json', size: 22 },
      { path: 'tiny/model.safetensors', size: 5000 },
      { path: 'tiny/sub/tokenizer.json', size: 300 },
    ]);
    expect(Number.isNaN(Date.parse(list[0].saved))).toBe(false);

    const { files } = await shelf.open('sha256:00ff');
    expect(files.map((f) => f.path)).toEqual(modelFiles().map((f) => f.path));
    expect(new Uint8Array(await files[1].blob.arrayBuffer())).toEqual(bytesOf(5000, 1));
    expect(await files[0].blob.text()).toBe('{"model_type":"llama"}');
    // On disk: one folder per fingerprint, the manifest beside the files folder.
    const root = storage.top.entries.get('depass-models') as MemoryDir;
    expect([...root.entries.keys()]).toEqual(['sha256-00ff']);
    expect([...(root.entries.get('sha256-00ff') as MemoryDir).entries.keys()].sort()).toEqual(['files', 'manifest.json']);

    await shelf.forget('sha256:00ff');
    expect(await shelf.list()).toEqual([]);
    expect((await failure(shelf.open('sha256:00ff'))).kind).toBe('damaged');
  });

  it('refuses before writing when the free space is too small, and says how much is needed', async () => {
    const storage = new MemoryStorage();
    storage.quota = 4000;
    const e = await failure(new ModelShelf(storage).remember(MODEL, modelFiles()));
    expect(e.kind).toBe('quota');
    expect(e.message).toMatch(/needs 5\.2 KB .* 3\.9 KB more/);
    expect(storage.used()).toBe(0);
  });

  it('a quota error during the save removes the partial copy', async () => {
    const storage = new MemoryStorage();
    const shelf = new ModelShelf(storage);
    // The estimate says there is room, but a write fails (another tab filled the disk meanwhile).
    storage.estimate = async () => ({ usage: 0, quota: 1 << 30 });
    storage.quota = 3000;
    const e = await failure(shelf.remember(MODEL, modelFiles()));
    expect(e.kind).toBe('quota');
    expect(e.message).toMatch(/not enough storage space to remember tiny/);
    expect(await shelf.list()).toEqual([]);
    expect(storage.used()).toBe(0);
  });

  it('clears interrupted saves (no manifest) and refuses a copy whose files changed size', async () => {
    const storage = new MemoryStorage();
    const shelf = new ModelShelf(storage);
    await shelf.remember(MODEL, modelFiles());
    const root = storage.top.entries.get('depass-models') as MemoryDir;
    await root.getDirectoryHandle('sha256-dead', { create: true }).then((d) => d.getFileHandle('half', { create: true }));
    expect((await shelf.list()).map((m) => m.fingerprint)).toEqual(['sha256:00ff']);
    expect(root.entries.has('sha256-dead')).toBe(false);

    const weights = await (
      await (await (await root.getDirectoryHandle('sha256-00ff')).getDirectoryHandle('files')).getDirectoryHandle('tiny')
    ).getFileHandle('model.safetensors');
    weights.data = weights.data.slice(0, 100);
    const e = await failure(shelf.open('sha256:00ff'));
    expect(e.kind).toBe('damaged');
    expect(e.message).toMatch(/incomplete \(tiny\/model\.safetensors has 100 bytes, 5000 expected\)/);
  });

  it('without storage, or with storage refused, says so; nothing else breaks', async () => {
    const none = new ModelShelf(null);
    expect(none.available).toBe(false);
    expect((await failure(none.list())).kind).toBe('unavailable');
    expect((await failure(none.remember(MODEL, modelFiles()))).message).toMatch(/no private file storage/);
    expect(await none.usage()).toBeNull();
    const storage = new MemoryStorage();
    storage.refuse = true;
    const e = await failure(new ModelShelf(storage).remember(MODEL, modelFiles()));
    expect(e.kind).toBe('unavailable');
    expect(e.message).toMatch(/refused its private file storage/);
  });

  it('asks for persistent storage only when asked to', async () => {
    const storage = new MemoryStorage();
    const shelf = new ModelShelf(storage);
    await shelf.remember(MODEL, modelFiles());
    expect(storage.persistCalls).toBe(0);
    expect(await shelf.persist()).toBe(true);
    expect(storage.persistCalls).toBe(1);
  });

  it('never writes outside its folder', async () => {
    for (const path of ['../x', 'a//b', '/abs', 'a/./b', 'a\\b', '']) expect(safeSegments(path), path).toBeNull();
    expect(safeSegments('stories260K/config.json')).toEqual(['stories260K', 'config.json']);
    const e = await failure(new ModelShelf(new MemoryStorage()).remember(MODEL, [{ path: '../evil', blob: new Blob(['x']) }]));
    expect(e.message).toMatch(/cannot be stored/);
    expect(folderName('sha256:ab/../cd')).toBe('sha256-ab----cd');
  });

  it('reads back only well-formed manifests', () => {
    const good = {
      format: 'depass-remembered/1',
      name: 'm',
      fingerprint: 'sha256:1',
      saved: '2025-01-01T00:00:00Z',
      files: [{ path: 'a/b', size: 3 }],
      bytes: 3,
    };
    expect(parseManifest(JSON.stringify(good))?.bytes).toBe(3);
    expect(parseManifest('{')).toBeNull();
    expect(parseManifest(JSON.stringify({ ...good, format: 'other/1' }))).toBeNull();
    expect(parseManifest(JSON.stringify({ ...good, files: [{ path: '../b', size: 3 }] }))).toBeNull();
    expect(parseManifest(JSON.stringify({ ...good, files: [{ path: 'b', size: -1 }] }))).toBeNull();
    expect(parseManifest(JSON.stringify({ ...good, files: [] }))).toBeNull();
    // A Hub source is kept when it reads as one, dropped (model kept) when not.
    const source = { hub: 'owner/name', revision: 'c'.repeat(40) };
    expect(parseManifest(JSON.stringify({ ...good, source }))?.source).toEqual(source);
    const dropped = parseManifest(JSON.stringify({ ...good, source: { hub: '../x', revision: 'main' } }));
    expect(dropped?.bytes).toBe(3);
    expect(dropped && 'source' in dropped).toBe(false);
  });

  it('adopts staged downloads by moving them, or by copying where a move is not offered', async () => {
    const storage = new MemoryStorage();
    const shelf = new ModelShelf(storage);
    const stage = async (key: string, strip: boolean) => {
      const dir = await shelf.staging(key);
      return Promise.all(
        modelFiles()
          .filter((f) => !f.path.includes('sub/'))
          .map(async (f) => {
            const handle = await dir.getFileHandle(f.path.split('/').pop()!, { create: true });
            const w = await handle.createWritable();
            await w.write(f.blob);
            await w.close();
            if (strip) Object.defineProperty(handle, 'move', { value: undefined });
            return { path: f.path, handle };
          }),
      );
    };
    const source = { hub: 'o/tiny', revision: 'a'.repeat(40) };
    const moved = await shelf.adopt({ ...MODEL, source }, await stage('o/tiny@a', false), 'o/tiny@a');
    expect(storage.moves).toBe(2);
    expect(moved).toMatchObject({ name: 'tiny', bytes: 5022, source });
    expect((await shelf.list())[0].source).toEqual(source);
    expect(new Uint8Array(await (await shelf.open(MODEL.fingerprint)).files[1].blob.arrayBuffer())).toEqual(bytesOf(5000, 1));
    // The staging folder is gone.
    expect([...(storage.top.entries.get('depass-downloads') as MemoryDir).entries.keys()]).toEqual([]);

    const other = { name: 'copy', fingerprint: 'sha256:0copy' };
    await shelf.adopt(other, await stage('o/copy@b', true), 'o/copy@b');
    expect(storage.moves).toBe(2);
    expect((await shelf.open(other.fingerprint)).files.map((f) => f.blob.size)).toEqual([22, 5000]);
  });
});
