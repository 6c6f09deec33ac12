// The caps decoding holds a hostile link to: every size and value is checked against these before
// work is done. Not the checks themselves (validate.ts, read-*.ts) and not the quantisation steps
// (quantise.ts).

/** Fragments longer than this are refused before decoding (a pasted link, not a file). */
export const MAX_LINK_CHARS = 1_000_000;
/** Decompressed bytes allowed; a decompression bomb stops here. */
export const MAX_INFLATED_BYTES = 4 * 1024 * 1024;
export const MAX_TOKENS = 8192;
export const MAX_LAYERS = 512;
export const MAX_HEADS = 1024;
export const MAX_NEURONS = 1 << 17;
export const MAX_TEXT = 100_000;
export const MAX_VOCAB_ID = 1 << 24;
/** Token texts carried for the ids a run names (predictions, targets, logit lens). */
export const MAX_VOCAB_ENTRIES = 1 << 16;
export const MAX_TOKEN_TEXT = 1000;
/** Largest magnitude of a varint field: fixed-point logits, rests, ids and positions. */
export const MAX_FIXED = 2 ** 31;
/** No score is larger than this (in logits); a row scale implying more is damage. */
export const MAX_SCORE = 1e6;
