// The model's tokenizer behind the app's Tokenizer interface: a Hugging Face tokenizer.json (with
// tokenizer_config.json / special_tokens_map.json when present) or a llama2.c tokenizer.bin
// converted to the same schema. Encoding is @huggingface/tokenizers; this file adds the config's
// BOS/EOS rules, character spans (token-spans.ts) and one error type. No DOM, no GPU.

import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { ModelFormatError } from './errors';
import { baseName, readBytes, readText, type ModelFile } from './files';
import { checkLlama2cTokenizerSize, llama2cToHuggingFace, parseLlama2cTokenizer } from './llama2c-tokenizer';
import { byteLevelPieceBytes, displayBytes, sentencePieceBytes, spansForTokens, utf8 } from './token-spans';
import type { TokenSpan, Tokenizer } from './tokenizer-types';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A token field of tokenizer_config.json: a string or an AddedToken object `{content}`. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

const TOKEN_FIELDS = ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token'];

/** Used only when no config names an EOS token (e.g. GPT-2 folders whose config is nearly empty). */
const CONVENTIONAL_EOS = ['<|endoftext|>', '</s>', '<|end_of_text|>', '<eos>'];

/** A component of the pipeline, found directly or inside a Sequence. */
function findComponent(node: unknown, type: string): Json | null {
  if (!isObject(node)) return null;
  if (node.type === type) return node;
  for (const key of ['pretokenizers', 'decoders', 'normalizers', 'processors']) {
    const list = node[key];
    if (!Array.isArray(list)) continue;
    for (const child of list) {
      const found = findComponent(child, type);
      if (found) return found;
    }
  }
  return null;
}

/** How a vocabulary piece of this tokenizer spells bytes of the original text. */
function pieceBytesFor(json: Json): (piece: string) => Uint8Array {
  if (findComponent(json.pre_tokenizer, 'ByteLevel') || findComponent(json.decoder, 'ByteLevel')) {
    return byteLevelPieceBytes;
  }
  const meta = findComponent(json.pre_tokenizer, 'Metaspace') ?? findComponent(json.decoder, 'Metaspace');
  const metaspace = typeof meta?.replacement === 'string' ? meta.replacement : '\u2581';
  const model = json.model as Json;
  const prefix = model.type === 'WordPiece' ? (typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##') : '';
  const suffix = typeof model.end_of_word_suffix === 'string' ? model.end_of_word_suffix : '';
  return (piece) => {
    if (prefix && piece.startsWith(prefix) && piece.length > prefix.length) piece = piece.slice(prefix.length);
    if (suffix && piece.endsWith(suffix)) piece = piece.slice(0, -suffix.length);
    return sentencePieceBytes(piece, metaspace);
  };
}

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
  [key: string]: unknown;
}

function addedTokensOf(json: Json, config: Json, file: string): AddedTokenJson[] {
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
function checkTokens(model: Json, addedTokens: AddedTokenJson[], file: string): void {
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
function checkModelType(model: Json, file: string): void {
  const type = model.type;
  if (typeof type !== 'string') {
    throw new ModelFormatError('bad-json', file, `"model" has no "type" string (expected one of ${MODEL_TYPES.join(', ')})`);
  }
  if (!MODEL_TYPES.includes(type)) {
    throw new ModelFormatError('unsupported', file, `model type '${type.slice(0, 40)}' is not one this tool can run (${MODEL_TYPES.join(', ')})`);
  }
}

/** The config as @huggingface/tokenizers expects it: token fields as plain strings. */
function libraryConfig(config: Json): Json {
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

export interface TokenizerOptions {
  /** Extra stop tokens beyond the config's EOS (llama2.c models also stop at BOS). */
  extraEosIds?: number[];
}

class SpanTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosIds: number[];
  private readonly added = new Map<number, string>();
  private readonly special = new Set<number>();
  private readonly addBos: boolean | undefined;
  private readonly addEos: boolean | undefined;
  private readonly bytesCache = new Map<number, Uint8Array>();
  /** How many template tokens precede the prompt's own (found once, from a probe). */
  private prefixLength: number | undefined;

  constructor(
    private readonly lib: HfTokenizer,
    private readonly file: string,
    private readonly pieceBytes: (piece: string) => Uint8Array,
    addedTokens: AddedTokenJson[],
    config: Json,
    options: TokenizerOptions,
  ) {
    for (const t of addedTokens) {
      this.added.set(t.id, t.content);
      if (t.special === true) this.special.add(t.id);
    }
    const idOf = (content: string | undefined) => (content === undefined ? undefined : this.lib.token_to_id(content));
    const configTokens = [
      ...TOKEN_FIELDS.map((k) => tokenContent(config[k])),
      ...(Array.isArray(config.additional_special_tokens) ? config.additional_special_tokens.map(tokenContent) : []),
    ];
    for (const content of configTokens) {
      const id = idOf(content);
      if (id !== undefined) this.special.add(id);
    }

    let vocabSize = 0;
    for (const id of this.lib.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);
    this.vocabSize = vocabSize;

    this.addBos = typeof config.add_bos_token === 'boolean' ? config.add_bos_token : undefined;
    this.addEos = typeof config.add_eos_token === 'boolean' ? config.add_eos_token : undefined;
    // Without a config, the token the template puts first is the BOS.
    const templateFirst = this.template('').prefix[0];
    this.bosId = idOf(tokenContent(config.bos_token)) ?? templateFirst ?? null;
    let eos = idOf(tokenContent(config.eos_token));
    if (eos === undefined && tokenContent(config.eos_token) === undefined) {
      eos = CONVENTIONAL_EOS.map(idOf).find((id) => id !== undefined && this.special.has(id));
    }
    this.eosIds = [...new Set([...(eos === undefined ? [] : [eos]), ...(options.extraEosIds ?? [])])];
  }

  /** Runs the library, turning any failure into a ModelFormatError about this file. */
  private run<R>(what: string, f: () => R): R {
    try {
      return f();
    } catch (e) {
      throw new ModelFormatError('unsupported', this.file, `${what} failed: ${errorText(e)}`);
    }
  }

  private templatePrefixLength(): number {
    const probe = 'a';
    const body = this.run('encoding', () => this.lib.encode(probe, { add_special_tokens: false }).ids);
    const full = this.run('encoding', () => this.lib.encode(probe, { add_special_tokens: true }).ids);
    for (let k = 0; k + body.length <= full.length; k++) {
      if (body.every((id, i) => full[k + i] === id)) return k;
    }
    return 0;
  }

  /** The prompt's own tokens, and the special tokens the template puts before and after them. */
  private template(text: string): { prefix: number[]; body: number[]; suffix: number[] } {
    const body = this.run('encoding', () => this.lib.encode(text, { add_special_tokens: false }).ids);
    const full = this.run('encoding', () => this.lib.encode(text, { add_special_tokens: true }).ids);
    if (!full.every((id) => Number.isInteger(id))) {
      // e.g. a template naming a special token that is not in the vocabulary
      throw new ModelFormatError('unsupported', this.file, 'encoding produced a token that is not in the vocabulary');
    }
    const fits = (k: number) => k + body.length <= full.length && body.every((id, i) => full[k + i] === id);
    // The template's shape comes from a non-empty probe; an empty body would fit anywhere.
    this.prefixLength ??= this.templatePrefixLength();
    const k = fits(this.prefixLength) ? this.prefixLength : full.findIndex((_, k) => fits(k));
    if (k >= 0) return { prefix: full.slice(0, k), body, suffix: full.slice(k + body.length) };
    // A template that rewrites the body itself is beyond what spans can describe: keep the body.
    return { prefix: [], body, suffix: [] };
  }

  encode(text: string): TokenSpan[] {
    const parts = this.template(text);
    const body = parts.body;
    let { prefix, suffix } = parts;
    // tokenizer_config.json's add_bos_token / add_eos_token win over the template, as in transformers.
    if (this.bosId !== null) {
      const bos = this.bosId;
      if (this.addBos === true && !prefix.includes(bos)) prefix = [bos, ...prefix];
      if (this.addBos === false) prefix = prefix.filter((id) => id !== bos);
    }
    const eos = this.eosIds[0];
    if (eos !== undefined) {
      if (this.addEos === true && !suffix.includes(eos)) suffix = [...suffix, eos];
      if (this.addEos === false) suffix = suffix.filter((id) => id !== eos);
    }
    const spans = spansForTokens(
      text,
      body.map((id) => this.tokenBytes(id)),
    );
    // Template tokens are empty spans where they stand: before the prompt at 0, after it at its end.
    return [
      ...prefix.map((id) => ({ id, text: this.tokenText(id), start: 0, end: 0 })),
      ...body.map((id, k) => ({ id, ...spans[k]! })),
      ...suffix.map((id) => ({ id, text: this.tokenText(id), start: text.length, end: text.length })),
    ];
  }

  decode(ids: number[]): string {
    if (ids.length === 0) return '';
    try {
      return this.lib.decode(ids, { skip_special_tokens: true });
    } catch {
      // Ids the library cannot place (out of range, not integers): show what can be shown.
      return ids
        .filter((id) => !this.special.has(id))
        .map((id) => this.tokenText(id))
        .join('');
    }
  }

  tokenText(id: number): string {
    const content = this.added.get(id);
    if (content !== undefined) return content;
    if (this.lib.id_to_token(id) === undefined) return `<id ${id}>`;
    return displayBytes(this.tokenBytes(id));
  }

  isSpecial(id: number): boolean {
    return this.special.has(id);
  }

  /** The bytes of the original text a token stands for. */
  private tokenBytes(id: number): Uint8Array {
    let bytes = this.bytesCache.get(id);
    if (bytes === undefined) {
      const content = this.added.get(id);
      const piece = this.lib.id_to_token(id);
      bytes = content !== undefined ? utf8(content) : piece !== undefined ? this.pieceBytes(piece) : new Uint8Array(0);
      this.bytesCache.set(id, bytes);
    }
    return bytes;
  }
}

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
