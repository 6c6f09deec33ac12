// filesFromPath on a temporary folder laid out by hand, and on ../shared/models/stories260K.

import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../model/checkpoint';
import { ModelFormatError } from '../model/errors';
import { SHARED, skipWithoutFiles } from '../testing/requirements';
import { filesFromPath } from './files';

let root = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'depass-files-'));
  const model = join(root, 'my-model');
  await mkdir(join(model, 'sub'), { recursive: true });
  await mkdir(join(model, '.git'));
  await writeFile(join(model, 'config.json'), '{"a": 1}');
  await writeFile(join(model, 'sub', 'b.txt'), 'bee');
  await writeFile(join(model, '.git', 'HEAD'), 'x');
  await writeFile(join(root, 'blob-target'), 'linked');
  await symlink(join(root, 'blob-target'), join(model, 'link.safetensors'));
  const l2c = join(root, 'l2c');
  await mkdir(l2c);
  await writeFile(join(l2c, 'model.bin'), 'm');
  await writeFile(join(l2c, 'tok512.bin'), 't');
  await writeFile(join(l2c, 'other.bin'), 'o');
  const l2cDefault = join(root, 'l2c-default');
  await mkdir(l2cDefault);
  await writeFile(join(l2cDefault, 'model.bin'), 'm');
  await writeFile(join(l2cDefault, 'tok512.bin'), 't');
  await writeFile(join(l2cDefault, 'tokenizer.bin'), 'T');
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('filesFromPath', () => {
  it('lists a directory recursively under its own name, following file links, skipping hidden entries', async () => {
    const files = await filesFromPath(join(root, 'my-model'));
    expect(files.map((f) => f.path)).toEqual(['my-model/config.json', 'my-model/link.safetensors', 'my-model/sub/b.txt']);
    expect(await files[1]!.blob.text()).toBe('linked');
    expect(files[2]!.blob.size).toBe(3);
    expect(await files[2]!.blob.slice(1, 3).text()).toBe('ee');
  });

  it('takes a file inside a folder as the folder', async () => {
    const files = await filesFromPath(join(root, 'my-model', 'config.json'));
    expect(files.map((f) => f.path)).toContain('my-model/sub/b.txt');
  });

  it('pairs a .bin with tokenizer.bin, else tok*.bin, else the given tokenizer', async () => {
    expect((await filesFromPath(join(root, 'l2c-default', 'model.bin'))).map((f) => f.path)).toEqual(['model.bin', 'tokenizer.bin']);
    expect((await filesFromPath(join(root, 'l2c', 'model.bin'))).map((f) => f.path)).toEqual(['model.bin', 'tok512.bin']);
    const given = await filesFromPath(join(root, 'l2c', 'model.bin'), join(root, 'l2c', 'other.bin'));
    expect(given.map((f) => f.path)).toEqual(['model.bin', 'other.bin']);
    expect(await given[1]!.blob.text()).toBe('o');
  });

  it('refuses paths that do not exist', async () => {
    const err = await filesFromPath(join(root, 'nope')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toContain('nope: no such file or directory');
    const err2 = await filesFromPath(join(root, 'l2c', 'model.bin'), join(root, 'missing.bin')).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(ModelFormatError);
  });
});

const STORIES = join(SHARED, 'models/stories260K');

describe.skipIf(skipWithoutFiles(STORIES))('stories260K from disk (../shared)', () => {
  it('loads the folder and the .bin with its tokenizer', async () => {
    const folder = await filesFromPath(STORIES);
    expect(folder.map((f) => f.path)).toContain('stories260K/llama2c/tok512.bin');
    const hf = await loadCheckpoint(folder);
    expect(hf.description.name).toBe('stories260K');
    const bin = await filesFromPath(join(STORIES, 'llama2c', 'stories260K.bin'));
    expect(bin.map((f) => f.path)).toEqual(['stories260K.bin', 'tok512.bin']);
    expect((await loadCheckpoint(bin)).format).toBe('llama2c');
  });
});
