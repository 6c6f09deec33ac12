// Searching the loaded vocabulary by text or id, locally (the table is fetched once per model),
// so picking a target never waits behind a run in the engine queue. Pure.

export interface VocabMatch {
  id: number;
  text: string;
}

/**
 * Matches for a query: "#12" or "12" finds id 12; otherwise exact text first, then prefix, then
 * substring, case-insensitive, ignoring leading/trailing whitespace in both.
 */
export function searchVocab(vocab: string[], query: string, limit = 12): VocabMatch[] {
  const raw = query.trim().toLowerCase();
  if (raw.length === 0) return [];
  const out: VocabMatch[] = [];
  const idm = /^#?(\d+)$/.exec(raw);
  if (idm) {
    const id = Number(idm[1]);
    if (id < vocab.length) out.push({ id, text: vocab[id] });
  }
  const exact: VocabMatch[] = [];
  const prefix: VocabMatch[] = [];
  const inner: VocabMatch[] = [];
  for (let id = 0; id < vocab.length && exact.length < limit; id++) {
    const t = vocab[id].trim().toLowerCase();
    if (t === raw) exact.push({ id, text: vocab[id] });
    else if (prefix.length < limit && t.startsWith(raw)) prefix.push({ id, text: vocab[id] });
    else if (inner.length < limit && t.includes(raw)) inner.push({ id, text: vocab[id] });
  }
  // Tokens with a leading space are the usual word continuations: list them first among equals.
  const spaced = (a: VocabMatch, b: VocabMatch) => Number(/^\s|^▁|^Ġ/.test(b.text)) - Number(/^\s|^▁|^Ġ/.test(a.text));
  const seen = new Set(out.map((m) => m.id));
  for (const m of [...exact.sort(spaced), ...prefix.sort(spaced), ...inner]) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    out.push(m);
  }
  return out.slice(0, limit);
}
