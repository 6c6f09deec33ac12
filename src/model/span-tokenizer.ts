// The app's Tokenizer over a loaded @huggingface/tokenizers instance: the config's BOS/EOS rules
// over the template, each token's character span (token-spans.ts), display text, library failures
// as ModelFormatError. Not reading or checking the files (tokenizer.ts, tokenizer-json.ts).

import type { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { errorText, ModelFormatError } from './errors';
import { displayBytes, spansForTokens, utf8 } from './token-spans';
import { tokenContent, TOKEN_FIELDS, type AddedTokenJson, type Json } from './tokenizer-json';
import type { TokenSpan, Tokenizer } from './tokenizer-types';

/** Used only when no config names an EOS token (e.g. GPT-2 folders whose config is nearly empty). */
const CONVENTIONAL_EOS = ['<|endoftext|>', '</s>', '<|end_of_text|>', '<eos>'];

export interface TokenizerOptions {
  /** Extra stop tokens beyond the config's EOS (llama2.c models also stop at BOS). */
  extraEosIds?: number[];
}

export class SpanTokenizer implements Tokenizer {
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
