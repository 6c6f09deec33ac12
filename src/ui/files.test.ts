// Dropped folders and picker selections become ModelFile lists with the folder name kept, hidden
// entries skipped, and directory readers drained batch by batch (as browsers hand them out).

import { describe, expect, it } from 'vitest';
import { describeFiles, filesFromEntries, filesFromList, type EntryLike } from './files';

function fileEntry(name: string, size = 1): EntryLike {
  const f = new File([new Uint8Array(size)], name);
  return { name, isFile: true, isDirectory: false, file: (ok) => ok(f) };
}

/** A directory whose reader returns its children two at a time, then an empty batch. */
function dirEntry(name: string, children: EntryLike[]): EntryLike {
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader() {
      let at = 0;
      return {
        readEntries(ok) {
          const batch = children.slice(at, at + 2);
          at += batch.length;
          setTimeout(() => ok(batch), 0);
        },
      };
    },
  };
}

describe('filesFromEntries', () => {
  it('walks a dropped folder recursively, keeping its name and skipping hidden entries', async () => {
    const drop = dirEntry('stories260K', [
      fileEntry('config.json'),
      fileEntry('.DS_Store'),
      fileEntry('model.safetensors', 40),
      dirEntry('.git', [fileEntry('HEAD')]),
      dirEntry('llama2c', [fileEntry('stories260K.bin'), fileEntry('tok512.bin')]),
      fileEntry('tokenizer.json'),
    ]);
    const files = await filesFromEntries([drop]);
    expect(files.map((f) => f.path)).toEqual([
      'stories260K/config.json',
      'stories260K/llama2c/stories260K.bin',
      'stories260K/llama2c/tok512.bin',
      'stories260K/model.safetensors',
      'stories260K/tokenizer.json',
    ]);
    expect(files[3].blob.size).toBe(40);
  });

  it('takes several loose files as they are', async () => {
    const files = await filesFromEntries([fileEntry('tok512.bin'), fileEntry('stories260K.bin')]);
    expect(files.map((f) => f.path)).toEqual(['stories260K.bin', 'tok512.bin']);
  });
});

describe('filesFromList', () => {
  it('uses the folder picker relative path, or the bare name', () => {
    const a = new File(['{}'], 'config.json');
    Object.defineProperty(a, 'webkitRelativePath', { value: 'gpt2/config.json' });
    const b = new File(['x'], '.hidden');
    Object.defineProperty(b, 'webkitRelativePath', { value: 'gpt2/.cache/x' });
    const c = new File(['x'], 'model.safetensors');
    expect(filesFromList([a, b, c]).map((f) => f.path)).toEqual(['gpt2/config.json', 'model.safetensors']);
  });
});

describe('describeFiles', () => {
  it('names a llama2.c pair by its .bin, else counts files', () => {
    const f = (path: string) => ({ path, blob: new Blob([]) });
    expect(describeFiles([f('stories260K.bin'), f('tok512.bin')])).toBe('stories260K.bin');
    expect(describeFiles([f('a/config.json'), f('a/model.safetensors'), f('a/tokenizer.json')])).toBe('3 files');
    expect(describeFiles([])).toBe('no files');
    // One file is named, never "1 files".
    expect(describeFiles([f('a/config.json')])).toBe('config.json');
  });
});
