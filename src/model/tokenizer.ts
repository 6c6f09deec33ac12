// Loading the model's tokenizer from the dropped files: a Hugging Face tokenizer.json (with
// tokenizer_config.json / special_tokens_map.json when present) or a llama2.c tokenizer.bin in the
// same schema. Checks: tokenizer-json.ts; encoding: span-tokenizer.ts. No DOM, no GPU.

import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { errorText, ModelFormatError } from './errors';
import { baseName, readBytes, readText, type ModelFile } from './files';
import { checkLlama2cTokenizerSize, llama2cToHuggingFace, parseLlama2cTokenizer } from './llama2c-tokenizer';
import { SpanTokenizer, type TokenizerOptions } from './span-tokenizer';
import { addedTokensOf, checkModelType, checkTokens, isObject, libraryConfig, type Json } from './tokenizer-json';
import { pieceBytesFor } from './tokenizer-pieces';
import type { Tokenizer } from './tokenizer-types';

/**
 * A Tokenizer from parsed tokenizer.json and tokenizer_config.json objects (config may be {}).
 * `file` names the source in error messages.
 */
export function tokenizerFromJson(tokenizerJson: unknown, tokenizerConfig: unknown, file: string, options: TokenizerOptions = {}): Tokenizer {
  if (!isObject(tokenizerJson) || !isObject(tokenizerJson.model)) {
    throw new ModelFormatError('bad-json', file, 'is not a tokenizer.json object (no "model")');
  }
  checkModelType(tokenizerJson.model, file);
  const config = isObject(tokenizerConfig) ? tokenizerConfig : {};
  const addedTokens = addedTokensOf(tokenizerJson, config, file);
  checkTokens(tokenizerJson.model, addedTokens, file);
  const prepared = {
    ...tokenizerJson,
    normalizer: tokenizerJson.normalizer ?? null,
    pre_tokenizer: tokenizerJson.pre_tokenizer ?? null,
    post_processor: tokenizerJson.post_processor ?? null,
    decoder: tokenizerJson.decoder ?? null,
    added_tokens: addedTokens,
  };
  let lib: HfTokenizer;
  try {
    lib = new HfTokenizer(prepared, libraryConfig(config));
    lib.encode('Hello world, 123!');
  } catch (e) {
    throw new ModelFormatError('unsupported', file, `not a tokenizer this tool can run: ${errorText(e)}`);
  }
  try {
    return new SpanTokenizer(lib, file, pieceBytesFor(tokenizerJson), addedTokens, config, options);
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError('unsupported', file, `not a tokenizer this tool can run: ${errorText(e)}`);
  }
}

/** Shallowest first, so a model folder's own files win over nested copies. */
function byDepth(a: ModelFile, b: ModelFile): number {
  return a.path.split('/').length - b.path.split('/').length || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

function folderOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/') + 1);
}

async function readJson(file: ModelFile): Promise<unknown> {
  let text: string;
  try {
    text = await readText(file);
  } catch (e) {
    throw new ModelFormatError('bad-json', file.path, `cannot be read: ${errorText(e)}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError('bad-json', file.path, `is not valid JSON: ${errorText(e)}`);
  }
}

/**
 * Finds the tokenizer among the dropped files (which may include weights and configs) and loads
 * it: tokenizer.json first, else a llama2.c tokenizer.bin or tok*.bin. Throws ModelFormatError.
 */
export async function loadTokenizer(files: ModelFile[]): Promise<Tokenizer> {
  const jsonFile = files.filter((f) => baseName(f.path) === 'tokenizer.json').sort(byDepth)[0];
  if (jsonFile) {
    const folder = folderOf(jsonFile.path);
    const sibling = (name: string) => files.find((f) => f.path === folder + name);
    const configFile = sibling('tokenizer_config.json');
    const mapFile = sibling('special_tokens_map.json');
    const json = await readJson(jsonFile);
    const config: Json = {};
    for (const f of [mapFile, configFile]) {
      if (!f) continue;
      const value = await readJson(f);
      if (!isObject(value)) throw new ModelFormatError('bad-json', f.path, 'is not a JSON object');
      Object.assign(config, value);
    }
    return tokenizerFromJson(json, config, jsonFile.path);
  }

  const binFile = files
    .filter((f) => /^tok.*\.bin$/i.test(baseName(f.path)))
    .sort((a, b) => Number(baseName(b.path) === 'tokenizer.bin') - Number(baseName(a.path) === 'tokenizer.bin') || byDepth(a, b))[0];
  if (binFile) {
    checkLlama2cTokenizerSize(binFile.blob.size, binFile.path);
    let bytes: Uint8Array;
    try {
      bytes = await readBytes(binFile);
    } catch (e) {
      throw new ModelFormatError('truncated', binFile.path, `cannot be read: ${errorText(e)}`);
    }
    const { tokenizerJson, tokenizerConfig } = llama2cToHuggingFace(parseLlama2cTokenizer(bytes, binFile.path), binFile.path);
    // llama2.c separates stories with BOS, so generation stops there as well as at EOS.
    return tokenizerFromJson(tokenizerJson, tokenizerConfig, binFile.path, { extraEosIds: [1] });
  }

  throw new ModelFormatError('missing', 'tokenizer.json', 'no tokenizer among the files (expected tokenizer.json, or tokenizer.bin / tok*.bin for llama2.c)');
}
