// The valid inputs the fuzz suites mutate: tiny generated checkpoints of every family (single
// file, sharded, llama2.c), hand-built tokenizers (SentencePiece-style and byte-level), and the
// real files under ../shared (stories260K) and public/models (demo models) when they are there.
// Seeds are bytes; the suites wrap them in (counting) blobs per case.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ModelFile } from '../src/model/files';
import { llama2cToHuggingFace, parseLlama2cTokenizer } from '../src/model/llama2c-tokenizer';
import { randomModel, type RandomModelOptions } from '../src/model/testing/random-model';
import { toHfFiles, toLlama2cBin, type HfFilesOptions } from '../src/model/testing/serialize';
import { BYTE_LEVEL_CHARS } from '../src/model/token-spans';

/** A file as bytes: what a seed is made of. */
export interface SeedFile {
  path: string;
  bytes: Uint8Array<ArrayBuffer>;
}

export interface Seed {
  name: string;
  files: SeedFile[];
}

const SHARED = fileURLToPath(new URL('../../shared/models/', import.meta.url));
const PUBLIC = fileURLToPath(new URL('../public/models/', import.meta.url));

/** Which optional seed folders were missing, so each suite can say what it fuzzed without. */
export const missingSeeds: string[] = [];

function readIfPresent(path: string): Uint8Array<ArrayBuffer> | null {
  if (existsSync(path)) return new Uint8Array(readFileSync(path));
  missingSeeds.push(path);
  return null;
}

/** Seed files from a folder on disk, all of `names` or none (with the folder noted as missing). */
function diskSeed(name: string, dir: string, names: readonly string[], as: string): Seed | null {
  const files: SeedFile[] = [];
  for (const n of names) {
    const bytes = readIfPresent(dir + n);
    if (!bytes) return null;
    files.push({ path: `${as}/${n}`, bytes });
  }
  return { name, files };
}

async function asSeedFiles(files: ModelFile[]): Promise<SeedFile[]> {
  return Promise.all(files.map(async (f) => ({ path: f.path, bytes: new Uint8Array(await f.blob.arrayBuffer()) })));
}

const TINY: Record<string, RandomModelOptions> = {
  llama: { family: 'llama', vocab_size: 40, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 24, seed: 3 },
  gpt2: { family: 'gpt2', vocab_size: 30, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 8, dtype: 'F16', seed: 4 },
  qwen2: { family: 'qwen2', vocab_size: 24, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, dtype: 'BF16', seed: 5 },
  qwen3: { family: 'qwen3', vocab_size: 30, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, head_dim: 10, dtype: 'BF16', seed: 6 },
  mistral: {
    family: 'mistral',
    vocab_size: 20,
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    tie_word_embeddings: true,
    sliding_window: 16,
    seed: 7,
  },
};

async function tinyHf(key: string, opts: HfFilesOptions): Promise<Seed> {
  const m = randomModel(TINY[key]!);
  return { name: `tiny ${key}${opts.shards ? ` in ${opts.shards} shards` : ''}`, files: await asSeedFiles(toHfFiles(m.description, m.weights, opts)) };
}

/** Hugging Face folders with config.json and one model.safetensors. */
export async function singleFileSeeds(): Promise<Seed[]> {
  const seeds = [
    await tinyHf('llama', { folder: 'tiny-llama' }),
    await tinyHf('gpt2', { folder: 'tiny-gpt2', gpt2Buffers: true }),
    await tinyHf('qwen2', { folder: 'tiny-qwen2' }),
    await tinyHf('qwen3', { folder: 'tiny-qwen3' }),
    await tinyHf('mistral', { folder: 'tiny-mistral' }),
  ];
  const real = [
    diskSeed('stories260K', `${SHARED}stories260K/`, ['config.json', 'model.safetensors'], 'stories260K'),
    diskSeed('demo-llama', `${PUBLIC}demo-llama/`, ['config.json', 'model.safetensors'], 'demo-llama'),
    diskSeed('demo-gpt2', `${PUBLIC}demo-gpt2/`, ['config.json', 'model.safetensors'], 'demo-gpt2'),
  ];
  return [...seeds, ...real.filter((s): s is Seed => s !== null)];
}

/** Sharded folders: config.json, shards and model.safetensors.index.json. */
export async function shardedSeeds(): Promise<Seed[]> {
  return [
    await tinyHf('qwen3', { folder: 'q', shards: 3 }),
    await tinyHf('llama', { folder: 'l', shards: 2 }),
    await tinyHf('gpt2', { folder: 'g', shards: 2, prefix: 'transformer.' }),
  ];
}

/** llama2.c legacy .bin files (tied and untied, with and without GQA). */
export function llama2cSeeds(): Seed[] {
  const tied = randomModel({
    family: 'llama',
    vocab_size: 20,
    hidden_size: 8,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    intermediate_size: 12,
    max_position_embeddings: 6,
    tie_word_embeddings: true,
    seed: 6,
  });
  const untied = randomModel({
    family: 'llama',
    vocab_size: 16,
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 8,
    max_position_embeddings: 4,
    seed: 8,
  });
  const seeds: Seed[] = [
    { name: 'tiny llama2.c tied', files: [{ path: 'l2c/model.bin', bytes: toLlama2cBin(tied.description, tied.weights) }] },
    { name: 'tiny llama2.c untied', files: [{ path: 'l2c/untied.bin', bytes: toLlama2cBin(untied.description, untied.weights) }] },
  ];
  const stories = readIfPresent(`${SHARED}stories260K/llama2c/stories260K.bin`);
  if (stories) seeds.push({ name: 'stories260K.bin', files: [{ path: 'stories260K/stories260K.bin', bytes: stories }] });
  return seeds;
}

/**
 * A small SentencePiece-style tokenizer.bin: <unk>, <s>, </s>, the 256 byte pieces, then pieces
 * whose score is minus their merge rank (llama2.c's layout), written here byte by byte.
 */
export function syntheticTokenizerBin(): Uint8Array<ArrayBuffer> {
  const normal = [
    ' ',
    'a',
    'b',
    'c',
    'd',
    'e',
    'h',
    'i',
    'l',
    'n',
    'o',
    'r',
    's',
    't',
    'w',
    ',',
    '1',
    '2',
    '3',
    '!',
    ' t',
    'he',
    ' the',
    'in',
    'ing',
    ' w',
    'or',
    ' wor',
    'ld',
    ' world',
    'll',
    'He',
    'Hell',
    'Hello',
    'H',
    'é',
    '😀',
  ];
  const pieces: [string, number][] = [
    ['<unk>', 0],
    ['\n<s>\n', 0],
    ['\n</s>\n', 0],
  ];
  for (let b = 0; b < 256; b++) pieces.push([`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, 0]);
  normal.forEach((p, rank) => pieces.push([p, -rank]));
  const enc = new TextEncoder();
  const encoded = pieces.map(([p, score]) => [enc.encode(p), score] as const);
  const size = 4 + encoded.reduce((s, [b]) => s + 8 + b.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.max(...encoded.map(([b]) => b.length)), true);
  let off = 4;
  for (const [b, score] of encoded) {
    view.setFloat32(off, score, true);
    view.setInt32(off + 4, b.length, true);
    out.set(b, off + 8);
    off += 8 + b.length;
  }
  return out;
}

/** tokenizer.bin files: the synthetic one and stories260K's tok512.bin. */
export function tokenizerBinSeeds(): Seed[] {
  const seeds: Seed[] = [{ name: 'synthetic tokenizer.bin', files: [{ path: 'tok/tokenizer.bin', bytes: syntheticTokenizerBin() }] }];
  const tok512 = readIfPresent(`${SHARED}stories260K/llama2c/tok512.bin`);
  if (tok512) seeds.push({ name: 'tok512.bin', files: [{ path: 'stories260K/tok512.bin', bytes: tok512 }] });
  return seeds;
}

/** A GPT-2-style byte-level BPE tokenizer.json written by hand: 256 byte symbols and a few merges. */
export function syntheticByteLevelTokenizer(): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  BYTE_LEVEL_CHARS.forEach((c, i) => (vocab[c] = i));
  const G = BYTE_LEVEL_CHARS[0x20]!; // 'Ġ', the byte-level space
  const merges = [
    [G, 't'],
    ['h', 'e'],
    [`${G}t`, 'he'],
    ['l', 'l'],
    ['H', 'e'],
    ['He', 'll'],
    ['Hell', 'o'],
    [G, 'w'],
    ['o', 'r'],
    [`${G}w`, 'or'],
    ['l', 'd'],
    [`${G}wor`, 'ld'],
  ];
  for (const [a, b] of merges) vocab[a! + b!] = Object.keys(vocab).length;
  vocab['<|endoftext|>'] = Object.keys(vocab).length;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: vocab['<|endoftext|>'], content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

const json = (path: string, value: unknown): SeedFile => ({ path, bytes: new TextEncoder().encode(JSON.stringify(value, null, 2)) });

/** Folders with tokenizer.json and tokenizer_config.json. */
export function tokenizerJsonSeeds(): Seed[] {
  const converted = llama2cToHuggingFace(parseLlama2cTokenizer(syntheticTokenizerBin(), 'synthetic'), 'synthetic');
  const seeds: Seed[] = [
    {
      name: 'synthetic SentencePiece',
      files: [json('sp/tokenizer.json', converted.tokenizerJson), json('sp/tokenizer_config.json', converted.tokenizerConfig)],
    },
    {
      name: 'synthetic byte-level',
      files: [
        json('bl/tokenizer.json', syntheticByteLevelTokenizer()),
        json('bl/tokenizer_config.json', { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', add_bos_token: false }),
      ],
    },
  ];
  const names = ['tokenizer.json', 'tokenizer_config.json'];
  const real = [
    diskSeed('stories260K tokenizer', `${SHARED}stories260K/`, names, 'stories260K'),
    diskSeed('demo-llama tokenizer', `${PUBLIC}demo-llama/`, names, 'demo-llama'),
    diskSeed('demo-gpt2 tokenizer', `${PUBLIC}demo-gpt2/`, names, 'demo-gpt2'),
  ];
  return [...seeds, ...real.filter((s): s is Seed => s !== null)];
}

/** A line for the suite's output naming the optional seeds it ran without. */
export function missingSeedNote(): string {
  return missingSeeds.length === 0 ? 'all optional seeds present' : `optional seeds not found (fuzzing without them): ${[...new Set(missingSeeds)].join(', ')}`;
}
