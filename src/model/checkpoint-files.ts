// Which of the files a user dropped make up the checkpoint: a Hugging Face folder (config.json
// beside model.safetensors or a sharded index) or a llama2.c .bin. Only names are looked at here;
// reading and validating is the readers' job. Tokenizer files are someone else's concern.

import { ModelFormatError } from './errors';
import { baseName, type ModelFile } from './files';

export type CheckpointFiles =
  | {
      format: 'safetensors';
      config: ModelFile;
      /** model.safetensors (or the folder's only .safetensors) when not sharded. */
      weights: ModelFile | null;
      /** model.safetensors.index.json when sharded. */
      index: ModelFile | null;
      /** The folder holding config.json ('' at the top), without a trailing '/'. */
      folder: string;
    }
  | { format: 'llama2c'; bin: ModelFile; folder: string };

const dirOf = (path: string) => path.slice(0, path.length - baseName(path).length);
const depth = (path: string) => path.split('/').length;

/** llama2.c tokenizers sit beside models as tokenizer.bin or tok<vocab>.bin. */
export function isLlama2cTokenizer(path: string): boolean {
  const name = baseName(path).toLowerCase();
  return name === 'tokenizer.bin' || (name.startsWith('tok') && name.endsWith('.bin'));
}

export function findCheckpointFiles(files: readonly ModelFile[]): CheckpointFiles {
  const shallowFirst = (a: ModelFile, b: ModelFile) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const configs = files.filter((f) => baseName(f.path) === 'config.json').sort(shallowFirst);
  const config = configs[0];
  if (config) {
    const dir = dirOf(config.path);
    const folder = dir.replace(/\/$/, '');
    const inDir = files.filter((f) => dirOf(f.path) === dir);
    const named = (name: string) => inDir.find((f) => baseName(f.path) === name) ?? null;
    const index = named('model.safetensors.index.json');
    if (index) return { format: 'safetensors', config, weights: null, index, folder };
    const single = named('model.safetensors');
    if (single) return { format: 'safetensors', config, weights: single, index: null, folder };
    const others = inDir.filter((f) => f.path.endsWith('.safetensors'));
    if (others.length === 1) return { format: 'safetensors', config, weights: others[0]!, index: null, folder };
    if (others.length > 1) {
      throw new ModelFormatError(
        'missing',
        config.path,
        `${others.length} .safetensors files beside it but no model.safetensors.index.json to say which tensor is where`,
      );
    }
    if (named('pytorch_model.bin') || named('pytorch_model.bin.index.json')) {
      throw new ModelFormatError(
        'unsupported',
        config.path,
        'PyTorch .bin weights are not supported; save the model as safetensors (save_pretrained with safe_serialization=True)',
      );
    }
    throw new ModelFormatError('missing', config.path, 'no model.safetensors or model.safetensors.index.json beside it');
  }

  const bins = files.filter((f) => f.path.toLowerCase().endsWith('.bin') && !isLlama2cTokenizer(f.path));
  if (bins.length > 0) {
    // Several candidates: the largest is the model (the others are usually tokenizers under other names).
    const bin = [...bins].sort((a, b) => b.blob.size - a.blob.size || shallowFirst(a, b))[0]!;
    return { format: 'llama2c', bin, folder: dirOf(bin.path).replace(/\/$/, '') };
  }
  const safetensors = files.find((f) => f.path.endsWith('.safetensors') || baseName(f.path) === 'model.safetensors.index.json');
  if (safetensors) throw new ModelFormatError('missing', safetensors.path, 'config.json is missing beside the safetensors weights');
  throw new ModelFormatError(
    'missing',
    files[0]?.path ?? '(no files)',
    'no model found: expected config.json with model.safetensors (or a sharded index), or a llama2.c .bin',
  );
}
