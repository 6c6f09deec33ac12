// tokenizer.json and tokenizer_config.json as parsed objects: the checks that refuse what
// @huggingface/tokenizers would choke on or run wrongly, the added tokens of both files, and the
// config in the form the library expects. Not encoding (span-tokenizer.ts), not finding files.

import { ModelFormatError } from './errors';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A token field of tokenizer_config.json: a string or an AddedToken object `{content}`. */
export function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

export const TOKEN_FIELDS = ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token'];

export interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
  [key: string]: unknown;
}

export function addedTokensOf(json: Json, config: Json, file: string): AddedTokenJson[] {
  const list = json.added_tokens ?? [];
  if (!Array.isArray(list)) throw new ModelFormatError('bad-json', file, '"added_tokens" is not an array');
  const tokens: AddedTokenJson[] = [];
  const check = (t: unknown, where: string): AddedTokenJson => {
    if (!isObject(t) || !Number.isInteger(t.id) || (t.id as number) < 0 || typeof t.content !== 'string') {
      throw new ModelFormatError('bad-json', file, `${where} holds an entry without an integer id and a string content`);
    }
    return t as AddedTokenJson;
  };
  for (const t of list) tokens.push(check(t, '"added_tokens"'));
  // tokenizer_config.json may list tokens that tokenizer.json lacks; those count too.
  const ids = new Set(tokens.map((t) => t.id));
  const decoder = config.added_tokens_decoder;
  if (isObject(decoder)) {
    for (const [key, t] of Object.entries(decoder)) {
      const id = Number(key);
      if (!Number.isInteger(id) || id < 0 || ids.has(id) || !isObject(t) || typeof t.content !== 'string') continue;
      tokens.push({ ...t, id, content: t.content });
      ids.add(id);
    }
  }
  return tokens;
}

/** Characters of added-token text the library turns into a trie (about 0.15 s); real ones are short markers. */
const MAX_ADDED_CHARS = 1 << 17;

/**
 * Ids and added tokens the library would choke on. It stores tokens in an array indexed by id
 * and walks it up to the largest id, so an id far beyond the number of tokens listed (2^31 in a
 * small file) would take minutes; real vocabularies are dense, and anything sparser than half
 * full is a broken file. An id that is not a non-negative integer comes back out of encode().
 * Added tokens become a trie node per character (a 1 MB one took seconds).
 */
export function checkTokens(model: Json, addedTokens: AddedTokenJson[], file: string): void {
  const vocab = model.vocab;
  const entries = isObject(vocab) ? Object.entries(vocab) : [];
  const count = entries.length + addedTokens.length + (Array.isArray(vocab) ? vocab.length : 0);
  const limit = 2 * count + 1024;
  for (const [piece, id] of entries) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      // Never String() a value from the file: a 100000-deep list overflows the stack.
      const shown = typeof id === 'string' ? `'${id.slice(0, 40)}'` : Array.isArray(id) ? 'a list' : isObject(id) ? 'an object' : String(id);
      throw new ModelFormatError('bad-json', file, `vocabulary entry '${piece.slice(0, 40)}' has id ${shown}, not a token id`);
    }
  }
  for (const id of [...entries.map((e) => e[1] as number), ...addedTokens.map((t) => t.id)]) {
    if (id >= limit) throw new ModelFormatError('bad-json', file, `token id ${id} is far beyond the ${count} tokens the file lists`);
  }
  const chars = addedTokens.reduce((n, t) => n + t.content.length, 0);
  if (chars > MAX_ADDED_CHARS) {
    throw new ModelFormatError('bad-json', file, `added tokens hold ${chars} characters (at most ${MAX_ADDED_CHARS})`);
  }
}

/** The tokenizer models @huggingface/tokenizers implements. */
const MODEL_TYPES = ['BPE', 'Unigram', 'WordPiece'];

/**
 * The library runs any other or missing model type as a model it guesses from the vocabulary's
 * shape, which splits text differently from the real one: refused instead.
 */
export function checkModelType(model: Json, file: string): void {
  const type = model.type;
  if (typeof type !== 'string') {
    throw new ModelFormatError('bad-json', file, `"model" has no "type" string (expected one of ${MODEL_TYPES.join(', ')})`);
  }
  if (!MODEL_TYPES.includes(type)) {
    throw new ModelFormatError('unsupported', file, `model type '${type.slice(0, 40)}' is not one this tool can run (${MODEL_TYPES.join(', ')})`);
  }
}

/** The config as @huggingface/tokenizers expects it: token fields as plain strings. */
export function libraryConfig(config: Json): Json {
  const out: Json = { ...config };
  for (const key of TOKEN_FIELDS) {
    if (key in out) out[key] = tokenContent(out[key]);
  }
  if (Array.isArray(out.additional_special_tokens)) {
    out.additional_special_tokens = out.additional_special_tokens.map(tokenContent).filter((s): s is string => s !== undefined);
  }
  // The library defaults to cleaning up spaces ("a ." -> "a."); shown text must stay faithful.
  out.clean_up_tokenization_spaces ??= false;
  return out;
}
