// A GPT-2-style byte-level BPE tokenizer.json written by hand, for the tokenizer tests: GPT-2's
// byte table, <|endoftext|> at 256 and nine merges at 257..265. Not a real vocabulary and not the
// fuzz suites' seed tokenizer (fuzz/seeds.ts).

/** GPT-2's byte table, from its published rule: printable Latin-1 stays, the rest go to 256+. */
function gpt2ByteChars(): string[] {
  const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCharCode(keep(b) ? b : next++));
}

const MERGED = ['Ġc', 'af', 'Ġcaf', 'Ã©', 'æĹ', 'æĹ¥', 'ðŁ', 'ðŁĺ', 'Hi']; // ids 257..265
const MERGES = ['Ġ c', 'a f', 'Ġc af', 'Ã ©', 'æ Ĺ', 'æĹ ¥', 'ð Ł', 'ðŁ ĺ', 'H i'];

/** The tokenizer.json, with `normalizer` in its pipeline (none by default). */
export function byteLevelJson(normalizer: unknown = null): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  gpt2ByteChars().forEach((c, b) => (vocab[c] = b));
  vocab['<|endoftext|>'] = 256;
  MERGED.forEach((p, k) => (vocab[p] = 257 + k));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: MERGES,
    },
  };
}
