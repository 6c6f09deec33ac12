// Mutators for llama2.c checkpoint .bin files: byte edits aimed at the seven header fields, fields
// swapped together, a versioned-export magic prepended, inverted data bytes. They only build
// inputs; the llama2.c suite runs the reader. Not tokenizer.bin (tokenizer-bin.ts).

import { mutateBytes, type IntField, type Mutated } from '../bytes';
import type { Rng } from '../rng';

export const LLAMA2C_FIELDS: readonly IntField[] = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'].map((name, i) => ({
  offset: 4 * i,
  width: 4 as const,
  name,
}));

/** A llama2.c checkpoint with header fields, size or magic changed, or data bytes flipped. */
export function mutateLlama2cBin(rng: Rng, seed: Uint8Array, other?: Uint8Array): Mutated<Uint8Array<ArrayBuffer>> {
  return rng.weighted<() => Mutated<Uint8Array<ArrayBuffer>>>([
    [5, () => mutateBytes(rng, seed, { other, intFields: LLAMA2C_FIELDS, maxOps: 2 })],
    [
      2,
      () => {
        // Header fields changed together so the implied size may still match.
        const out = seed.slice();
        const view = new DataView(out.buffer);
        const f = LLAMA2C_FIELDS.map((x) => view.getInt32(x.offset, true));
        const [a, b] = [rng.int(7), rng.int(7)];
        const t = f[a]!;
        f[a] = f[b]!;
        f[b] = t;
        if (rng.chance(0.5)) f[5] = -f[5]!;
        f.forEach((v, i) => view.setInt32(4 * i, v, true));
        return { value: out, ops: [`header fields ${a} and ${b} swapped`] };
      },
    ],
    [
      1,
      () => {
        const magic = new Uint8Array(8);
        new DataView(magic.buffer).setUint32(0, 0x616b3432, true);
        new DataView(magic.buffer).setInt32(4, rng.pick([0, 1, 2, 3, -1]), true);
        const out = new Uint8Array(8 + seed.length);
        out.set(magic);
        out.set(seed, 8);
        return { value: out, ops: ['versioned-export magic prepended'] };
      },
    ],
    [
      2,
      () => {
        const out = seed.slice();
        const n = rng.range(1, 16);
        for (let k = 0; k < n; k++) out[28 + rng.int(Math.max(1, out.length - 28))] ^= 0xff;
        return { value: out, ops: [`${n} data bytes inverted`] };
      },
    ],
  ])();
}
