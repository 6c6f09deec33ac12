// Reads a llama2.c tokenizer.bin (SentencePiece BPE pieces with scores) and converts it to the
// equivalent Hugging Face tokenizer.json object, so one library encodes both formats. Does not
// encode anything itself and does not read the model .bin (the checkpoint reader does).
//
// Layout: uint32 max_token_length, then per id: f32 score, int32 byte length, UTF-8 bytes.
// Ids 0/1/2 are <unk>, <s> (stored "\n<s>\n"), </s>; ids 3..258 are <0x00>..<0xFF>; the rest
// are pieces whose score is minus their merge rank, with a space where SentencePiece has `▁`.

import { ModelFormatError } from './errors';

export interface Llama2cVocab {
  maxTokenLength: number;
  /** Pieces exactly as stored (spaces, not `▁`), indexed by id. */
  pieces: string[];
  scores: number[];
}

/** Anything larger is a model or something else picked up by mistake, not a tokenizer. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const MAX_PIECE_BYTES = 1024;
/**
 * Characters hashed while finding merges (about 0.2 s): room for 32000 pieces of 23 characters
 * each, while real vocabularies are mostly far shorter.
 */
const MAX_SPLIT_WORK = 1 << 24;
export const LLAMA2C_SPECIALS = ['<unk>', '<s>', '</s>'] as const;
const METASPACE = '\u2581';
const BYTE_PIECE = /^<0x[0-9A-F]{2}>$/;

export function checkLlama2cTokenizerSize(size: number, file: string): void {
  if (size > MAX_FILE_BYTES) {
    throw new ModelFormatError('bad-header', file, `is ${size} bytes, far too large for a llama2.c tokenizer`);
  }
}

/** Parses tokenizer.bin, refusing every length before it is used to slice or allocate. */
export function parseLlama2cTokenizer(bytes: Uint8Array, file: string): Llama2cVocab {
  checkLlama2cTokenizerSize(bytes.length, file);
  if (bytes.length < 4) {
    throw new ModelFormatError('truncated', file, `is ${bytes.length} bytes, shorter than its 4-byte header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxTokenLength = view.getUint32(0, true);
  if (maxTokenLength === 0 || maxTokenLength > MAX_PIECE_BYTES) {
    throw new ModelFormatError('bad-header', file, `max_token_length ${maxTokenLength} is not plausible`);
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const pieces: string[] = [];
  const scores: number[] = [];
  let off = 4;
  while (off < bytes.length) {
    const id = pieces.length;
    const left = bytes.length - off;
    if (left < 8) {
      throw new ModelFormatError('truncated', file, `ends inside the score and length of token ${id}`);
    }
    const score = view.getFloat32(off, true);
    const len = view.getInt32(off + 4, true);
    if (len > left - 8) {
      throw new ModelFormatError('truncated', file, `token ${id} declares ${len} bytes but only ${left - 8} remain`);
    }
    if (len <= 0 || len > maxTokenLength) {
      throw new ModelFormatError('bad-header', file, `token ${id} has length ${len}, outside 1..max_token_length (${maxTokenLength})`);
    }
    if (!Number.isFinite(score)) {
      throw new ModelFormatError('bad-header', file, `token ${id} has a non-finite score`);
    }
    let piece: string;
    try {
      piece = decoder.decode(bytes.subarray(off + 8, off + 8 + len));
    } catch {
      throw new ModelFormatError('bad-header', file, `token ${id} is not valid UTF-8`);
    }
    pieces.push(piece);
    scores.push(score);
    off += 8 + len;
  }
  if (pieces.length < LLAMA2C_SPECIALS.length) {
    throw new ModelFormatError('bad-header', file, `holds ${pieces.length} tokens; expected at least <unk>, <s> and </s>`);
  }
  return { maxTokenLength, pieces, scores };
}

/** UTF-16 offset of each code point of `s`. */
function codePointStarts(s: string): number[] {
  const starts: number[] = [];
  for (let i = 0; i < s.length; i += s.codePointAt(i)! > 0xffff ? 2 : 1) starts.push(i);
  return starts;
}

/** The tokenizer.json object (Hugging Face schema) and the matching tokenizer_config values. */
export interface ConvertedTokenizer {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/**
 * The Hugging Face BPE tokenizer that encodes like llama2.c: merges are every split of a normal
 * piece into two normal pieces of the vocabulary, ordered by the merged piece's score (highest
 * first; ties by merged id, then left id, then right id), with byte fallback and a prepended `▁`.
 */
export function llama2cToHuggingFace(vocab: Llama2cVocab, file: string): ConvertedTokenizer {
  const names = vocab.pieces.map((p, id) => (id < LLAMA2C_SPECIALS.length ? LLAMA2C_SPECIALS[id]! : p.split(' ').join(METASPACE)));
  const idOf = new Map<string, number>();
  names.forEach((name, id) => {
    if (idOf.has(name)) {
      throw new ModelFormatError('bad-header', file, `tokens ${idOf.get(name)} and ${id} are the same piece`);
    }
    idOf.set(name, id);
  });
  const isNormal = (id: number) => id >= LLAMA2C_SPECIALS.length && !BYTE_PIECE.test(names[id]!);

  // Both halves of a merge are normal pieces, so only split points whose two lengths are lengths
  // of normal pieces can give one; the rest are skipped unhashed. What is left is counted first
  // (each tried split hashes the whole piece) and refused when files of many long pieces of
  // every length would make it take seconds.
  const boundaries = names.map(codePointStarts);
  const lengths = new Set<number>();
  names.forEach((_, id) => {
    if (isNormal(id)) lengths.add(boundaries[id]!.length);
  });
  const splits = (id: number) => {
    const n = boundaries[id]!.length;
    const ks: number[] = [];
    for (let k = 1; k < n; k++) if (lengths.has(k) && lengths.has(n - k)) ks.push(k);
    return ks;
  };
  let work = 0;
  names.forEach((name, id) => {
    if (isNormal(id)) work += splits(id).length * name.length;
  });
  if (work > MAX_SPLIT_WORK) {
    throw new ModelFormatError('bad-header', file, `has too many long pieces to turn into merges (${work} characters to compare, at most ${MAX_SPLIT_WORK})`);
  }
  const merges: { left: number; right: number; merged: number }[] = [];
  names.forEach((name, merged) => {
    if (!isNormal(merged)) return;
    const starts = boundaries[merged]!; // split between code points, never inside a surrogate pair
    for (const k of splits(merged)) {
      const left = idOf.get(name.slice(0, starts[k]));
      const right = idOf.get(name.slice(starts[k]));
      if (left !== undefined && right !== undefined && isNormal(left) && isNormal(right)) {
        merges.push({ left, right, merged });
      }
    }
  });
  merges.sort((a, b) => vocab.scores[b.merged]! - vocab.scores[a.merged]! || a.merged - b.merged || a.left - b.left || a.right - b.right);

  const specialToken = (id: number) => ({
    id,
    content: names[id]!,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [0, 1, 2].map(specialToken),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: METASPACE },
        { type: 'Replace', pattern: { String: ' ' }, content: METASPACE },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<s>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: METASPACE }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab: Object.fromEntries(names.map((name, id) => [name, id])),
      merges: merges.map((m) => `${names[m.left]} ${names[m.right]}`),
    },
  };
  const tokenizerConfig = {
    tokenizer_class: 'LlamaTokenizerFast',
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    add_bos_token: true,
    add_eos_token: false,
    legacy: true,
    clean_up_tokenization_spaces: false,
  };
  return { tokenizerJson, tokenizerConfig };
}
