// Mutators for llama2.c tokenizer.bin files: the field layout (max_token_length, then a score,
// a length and the piece bytes per token), pieces and the token list. They only build inputs; the
// tokenizer.bin suite runs the reader. Not the checkpoint .bin (llama2c-bin.ts).

import { INVALID_UTF8, mutateBytes, type IntField, type Mutated } from '../bytes';
import type { Rng } from '../rng';

/** Offsets of every field of a valid tokenizer.bin: max_token_length, then per token score and length. */
export function tokenizerBinFields(bytes: Uint8Array): { fields: IntField[]; pieces: { offset: number; length: number }[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: IntField[] = [{ offset: 0, width: 4, name: 'max_token_length' }];
  const pieces: { offset: number; length: number }[] = [];
  let off = 4;
  while (off + 8 <= bytes.length) {
    const len = view.getInt32(off + 4, true);
    fields.push({ offset: off, width: 4, name: `score ${pieces.length}`, kind: 'f32' }, { offset: off + 4, width: 4, name: `length ${pieces.length}` });
    pieces.push({ offset: off + 8, length: len });
    off += 8 + len;
  }
  return { fields, pieces };
}

function tokenizerBinRecord(score: number, piece: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + piece.length);
  const view = new DataView(out.buffer);
  view.setFloat32(0, score, true);
  view.setInt32(4, piece.length, true);
  out.set(piece, 8);
  return out;
}

/** tokenizer.bin with fields, pieces or the token list changed. */
export function mutateTokenizerBin(rng: Rng, seed: Uint8Array, other?: Uint8Array): Mutated<Uint8Array<ArrayBuffer>> {
  const { fields, pieces } = tokenizerBinFields(seed);
  const lengthFields = fields.filter((f) => f.name === 'max_token_length' || f.name.startsWith('length'));
  return rng.weighted<() => Mutated<Uint8Array<ArrayBuffer>>>([
    [3, () => mutateBytes(rng, seed, { other, maxOps: 2 })],
    [
      4,
      () => {
        // Mostly lengths: they decide every later offset.
        const pick = rng.chance(0.7) ? lengthFields : fields;
        const chosen = Array.from({ length: rng.range(1, 2) }, () => rng.pick(pick));
        return mutateBytes(rng, seed, { intFields: chosen, maxOps: 1 });
      },
    ],
    [
      2,
      () => {
        // A piece's bytes replaced in place (same length): invalid UTF-8 or a copy of another piece.
        const out = seed.slice();
        const p = rng.pick(pieces.filter((x) => x.length > 0));
        if (rng.chance(0.5)) {
          const bad = rng.pick(INVALID_UTF8);
          for (let i = 0; i < Math.min(bad.length, p.length); i++) out[p.offset + i] = bad[i]!;
          return { value: out, ops: [`piece at ${p.offset} made invalid UTF-8`] };
        }
        const same = pieces.filter((x) => x.length === p.length && x.offset !== p.offset);
        if (same.length === 0) return { value: out, ops: ['piece copy (no same-length piece)'] };
        const q = rng.pick(same);
        out.copyWithin(p.offset, q.offset, q.offset + q.length);
        return { value: out, ops: [`piece at ${p.offset} copied from ${q.offset}`] };
      },
    ],
    [
      1,
      () => {
        // Many long pieces (max_token_length raised): the conversion to merges must stay fast.
        const count = rng.pick([50, 500, 2000]);
        const len = rng.pick([64, 256, 1024]);
        const alphabet = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', '\u2581'];
        const records: Uint8Array[] = [seed];
        for (let k = 0; k < count; k++) {
          const chars: string[] = [];
          for (let bytes = 0; bytes < len - 3;) {
            const c = rng.pick(alphabet);
            chars.push(c);
            bytes += c === '\u2581' ? 3 : 1;
          }
          records.push(tokenizerBinRecord(-1000 - k, new TextEncoder().encode(chars.join(''))));
        }
        const total = records.reduce((a, r) => a + r.length, 0);
        const out = new Uint8Array(total);
        let o = 0;
        for (const r of records) {
          out.set(r, o);
          o += r.length;
        }
        new DataView(out.buffer).setUint32(0, 1024, true);
        return { value: out, ops: [`${count} pieces of ~${len} bytes appended`] };
      },
    ],
    [
      1,
      () => {
        // Only the first k tokens kept (fewer than the three specials, sometimes).
        const k = rng.pick([0, 1, 2, 3, rng.int(pieces.length)]);
        const end = k < pieces.length ? pieces[k]!.offset - 8 : seed.length;
        return { value: seed.slice(0, end), ops: [`first ${k} tokens kept`] };
      },
    ],
  ])();
}
