// Writes a generated test model (checkpoint files and a tokenizer) to a folder, as a user's model
// folder looks on disk, and returns the paths for a file chooser.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export async function writeModelFolder(dir: string, files: { path: string; blob: Blob }[], tokenizer: object): Promise<string[]> {
  const paths: string[] = [];
  for (const f of files) {
    const p = join(dir, f.path);
    writeFileSync(p, new Uint8Array(await f.blob.arrayBuffer()));
    paths.push(p);
  }
  for (const [name, json] of [
    ['tokenizer.json', tokenizer],
    ['tokenizer_config.json', {}],
  ] as const) {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(json));
    paths.push(p);
  }
  return paths;
}
