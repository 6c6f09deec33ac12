// What the rest of the app needs from a tokenizer, whatever file it came from.

export interface TokenSpan {
  id: number;
  /** The token's text as shown to the user (decoded piece; may be a partial character). */
  text: string;
  /** UTF-16 offsets into the prompt; special tokens added by the template have start == end. */
  start: number;
  end: number;
}

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosIds: number[];
  /** Encode a prompt with the model's special tokens (BOS where the tokenizer adds one). */
  encode(text: string): TokenSpan[];
  /** Decode ids to text, skipping special tokens. */
  decode(ids: number[]): string;
  /** Display text of one token id (for vocabulary search and top-k lists). */
  tokenText(id: number): string;
  /** True for added/special tokens such as <s>, <|endoftext|>. */
  isSpecial(id: number): boolean;
}
