// Model files from a path on disk, for the CLI and tests under Node: the same lazy ModelFile
// list a browser folder drop gives (fs.openAsBlob reads nothing until a slice is read).
// Node only; the browser builds its ModelFiles from File objects instead.

import { openAsBlob } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isLlama2cTokenizer } from '../model/checkpoint-files';
import { ModelFormatError } from '../model/errors';
import type { ModelFile } from '../model/files';

async function open(fullPath: string, path: string): Promise<ModelFile> {
  return { path, blob: (await openAsBlob(fullPath)) as Blob };
}

/**
 * Every regular file under `dir`, recursively, with paths "<dir name>/<relative path>" as a
 * browser folder drop names them (the folder name becomes the model's display name). Symbolic
 * links to files are followed (Hugging Face cache snapshots are made of them); hidden entries
 * such as .git and .cache are skipped.
 */
async function filesInDirectory(dir: string): Promise<ModelFile[]> {
  const top = basename(resolve(dir));
  const out: ModelFile[] = [];
  const walk = async (full: string, rel: string): Promise<void> => {
    const entries = await readdir(full, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const childFull = join(full, entry.name);
      const childRel = `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(childFull, childRel);
      else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(childFull).catch(() => null))?.isFile())) {
        out.push(await open(childFull, childRel));
      }
    }
  };
  await walk(dir, top);
  return out;
}

/** The llama2.c tokenizer beside a model: tokenizer.bin, else the first tok*.bin. */
async function tokenizerBeside(binPath: string): Promise<string | null> {
  const dir = dirname(binPath);
  const names = (await readdir(dir)).sort();
  const name = names.find((n) => n === 'tokenizer.bin') ?? names.find((n) => isLlama2cTokenizer(n) && n !== basename(binPath));
  return name ? join(dir, name) : null;
}

/**
 * The files of the model at `path`:
 * - a directory: every regular file in it (see above);
 * - a `.bin` file: that llama2.c model plus its tokenizer (`tokenizerPath`, else tokenizer.bin
 *   or tok*.bin beside it; none found gives the model alone), named by their base names;
 * - any other file (config.json, model.safetensors...): the directory that holds it.
 */
export async function filesFromPath(path: string, tokenizerPath?: string): Promise<ModelFile[]> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new ModelFormatError('missing', path, 'no such file or directory');
  if (info.isDirectory()) return filesInDirectory(path);
  if (!info.isFile()) throw new ModelFormatError('unsupported', path, 'not a regular file or directory');
  if (!path.toLowerCase().endsWith('.bin')) return filesInDirectory(dirname(path));
  const files = [await open(path, basename(path))];
  const tokenizer = tokenizerPath ?? (await tokenizerBeside(path));
  if (tokenizer) {
    if (!(await stat(tokenizer).catch(() => null))?.isFile()) throw new ModelFormatError('missing', tokenizer, 'tokenizer file not found');
    files.push(await open(tokenizer, basename(tokenizer)));
  }
  return files;
}
