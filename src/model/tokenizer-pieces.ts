// How a vocabulary piece of a tokenizer.json spells bytes of the original text, chosen from the
// pipeline the file describes (byte-level, Metaspace, WordPiece prefixes, word suffixes). Not the
// byte tables or the spans themselves (token-spans.ts).

import { byteLevelPieceBytes, sentencePieceBytes } from './token-spans';
import { isObject, type Json } from './tokenizer-json';

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
export function pieceBytesFor(json: Json): (piece: string) => Uint8Array {
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
