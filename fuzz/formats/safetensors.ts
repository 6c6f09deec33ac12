// Mutators for safetensors files: header entries (dtypes, shapes, offsets, names), the header's
// JSON text and the 8-byte length prefix, and the data region. They only build inputs; the suites
// (safetensors, index) run the parser. Not the sharded index (shard-index.ts).

import { rawSafetensors } from '../../src/model/testing/safetensors-writer';
import { BOUNDARY_INTS, mutateBytes, type IntField, type Mutated } from '../bytes';
import {
  cloneJson,
  deepNesting,
  define,
  hugeString,
  interestingValue,
  isObject,
  jsonText,
  mutateJson,
  nudge,
  ODD_STRINGS,
  RawJson,
  retype,
  serialiseJson,
  type Json,
} from '../json';
import type { Rng } from '../rng';

export interface SafetensorsParts {
  header: Json;
  /** The data region (everything after the header). */
  data: Uint8Array;
}

/** Splits a valid safetensors file into its header object and data region. */
export function splitSafetensors(bytes: Uint8Array): SafetensorsParts {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Json, data: bytes.subarray(8 + n) };
}

const ST_DTYPES: readonly unknown[] = [
  'F32',
  'F16',
  'BF16',
  'F64',
  'I64',
  'I32',
  'I16',
  'I8',
  'U8',
  'U16',
  'U32',
  'U64',
  'BOOL',
  'F8_E4M3',
  'F8_E5M2',
  'Q4_K',
  'f32',
  'F32 ',
  '',
  42,
  null,
  ['F32'],
];

function shapeOp(rng: Rng, shape: unknown): [unknown, string] {
  const s = Array.isArray(shape) ? (shape as unknown[]).slice() : [];
  const nums = s.filter((x): x is number => typeof x === 'number');
  return rng.weighted<() => [unknown, string]>([
    [2, () => [s.slice().reverse(), 'dims reversed']],
    [2, () => (s.length > 0 ? ((s[rng.int(s.length)] = nudge(rng, Number(s[0]) || 1)), [s, 'one dim nudged']) : [[1], 'scalar made [1]'])],
    [2, () => (s.length > 0 ? ((s[rng.int(s.length)] = rng.pick(BOUNDARY_INTS)), [s, 'one dim boundary']) : [[0], 'scalar made [0]'])],
    [1, () => [[...s, 1], 'trailing 1']],
    [1, () => [[1, ...s], 'leading 1']],
    [1, () => [[0, ...s], 'leading 0']],
    [1, () => [[nums.reduce((a, b) => a * b, 1)], 'flattened']],
    [1, () => [[], 'scalar']],
    [1, () => [[2 ** 40, 2 ** 40], 'huge']],
    [1, () => [[2 ** 53, 2 ** 53, 0], 'huge times zero']],
    [1, () => [s.map((x) => -Number(x)), 'negative']],
    [1, () => [s.map((x) => Number(x) + 0.5), 'fractional']],
    [1, () => [s.map(String), 'strings']],
    [1, () => [Array.from({ length: rng.pick([64, 10_000, 100_000]) }, () => 1), 'very many dims']],
    [1, () => [retype(rng, shape), 'retyped']],
  ])();
}

function offsetsOp(rng: Rng, offsets: unknown, others: unknown[], dataLength: number): [unknown, string] {
  const o = Array.isArray(offsets) ? (offsets as number[]).slice() : [0, 0];
  const [a, b] = [Number(o[0]) || 0, Number(o[1]) || 0];
  const k = rng.pick([1, 2, 4, 8, b - a, dataLength]);
  return rng.weighted<() => [unknown, string]>([
    [2, () => [[a + k, b + k], `shifted by ${k}`]],
    [1, () => [[a - k, b - k], `shifted by -${k}`]],
    [2, () => [[a, b + rng.pick([-4, -1, 1, 4])], 'end moved']],
    [1, () => [[b, a], 'reversed']],
    [2, () => [others.length > 0 ? cloneJson(rng.pick(others)) : [0, 0], 'copied from another tensor']],
    [1, () => [[rng.pick(BOUNDARY_INTS), rng.pick(BOUNDARY_INTS)], 'boundary']],
    [1, () => [[a, a], 'empty']],
    [1, () => [[a, b, 0], 'three offsets']],
    [1, () => [[a], 'one offset']],
    [1, () => [[String(a), String(b)], 'strings']],
    [1, () => [[a + 0.5, b + 0.5], 'fractional']],
    [1, () => [[new RawJson('NaN'), b], 'NaN']],
    [1, () => [[dataLength, dataLength + (b - a)], 'just past the end']],
  ])();
}

/** One edit of a safetensors header that keeps it a JSON object. */
function headerOp(rng: Rng, header: Json, dataLength: number): string {
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  if (names.length === 0) {
    define(header, 'x', { dtype: 'F32', shape: [1], data_offsets: [0, 4] });
    return 'entry added to an empty header';
  }
  const name = rng.pick(names);
  const entry = header[name];
  const e: Json = isObject(entry) ? entry : {};
  const others = names.filter((n) => n !== name).map((n) => (isObject(header[n]) ? (header[n] as Json)['data_offsets'] : undefined));
  return rng.weighted<() => string>([
    [3, () => ((e['dtype'] = rng.pick(ST_DTYPES)), `${name}: dtype ${String(e['dtype'])}`)],
    [
      4,
      () => {
        const [v, what] = shapeOp(rng, e['shape']);
        e['shape'] = v;
        return `${name}: shape ${what}`;
      },
    ],
    [
      4,
      () => {
        const [v, what] = offsetsOp(rng, e['data_offsets'], others, dataLength);
        e['data_offsets'] = v;
        return `${name}: offsets ${what}`;
      },
    ],
    [1, () => (delete e[rng.pick(['dtype', 'shape', 'data_offsets'])], `${name}: field deleted`)],
    [2, () => (delete header[name], `${name}: deleted`)],
    [
      2,
      () => {
        // Another layer, another prefix, or a name no reader expects.
        const to = rng.pick([
          name.replace(/\.(\d+)\./, (_m, d: string) => `.${Number(d) + rng.pick([1, 7, 1000])}.`),
          name.replace(/^model\./, ''),
          `model.${name}`,
          `transformer.${name}`,
          name.replace('weight', 'bias'),
          `${name}\u0000`,
          '',
          hugeString(rng).slice(0, rng.pick([300, 100_000])),
          rng.pick(ODD_STRINGS),
        ]);
        delete header[name];
        define(header, to, e);
        return `${name}: renamed`;
      },
    ],
    [1, () => (define(header, `${name}.copy`, cloneJson(e)), `${name}: duplicated`)],
    [
      1,
      () => {
        const other = rng.pick(names);
        const t = header[other];
        header[other] = header[name];
        header[name] = t;
        return `${name}: swapped with ${other}`;
      },
    ],
    [1, () => ((header[name] = interestingValue(rng, entry)), `${name}: entry replaced`)],
    [
      1,
      () => (
        (header['__metadata__'] = rng.pick<unknown>([null, [], 'pt', 1, { format: 'pt', x: hugeString(rng) }, { total: 2 ** 60 }, deepNesting(rng)])),
        '__metadata__ replaced'
      ),
    ],
  ])();
}

/** A broken (or, sometimes, harmlessly changed) variant of a valid safetensors file. */
export function mutateSafetensors(rng: Rng, seed: Uint8Array, other?: Uint8Array): Mutated<Uint8Array<ArrayBuffer>> {
  const parts = splitSafetensors(seed);
  const lengthField: IntField = { offset: 0, width: 8, name: 'header length' };
  const strategy = rng.weighted<string>([
    [5, 'header'],
    [2, 'json'],
    [1, 'prefix'],
    [3, 'bytes'],
    [1, 'data'],
  ]);
  if (strategy === 'bytes') return mutateBytes(rng, seed, { other, intFields: [lengthField], maxOps: 3 });

  let header = cloneJson(parts.header) as unknown;
  const ops: string[] = [];
  if (strategy === 'header') {
    for (let k = rng.range(1, 3); k > 0; k--) ops.push(headerOp(rng, header as Json, parts.data.byteLength));
  } else if (strategy === 'json') {
    const m = mutateJson(rng, header, { other: other ? splitSafetensors(other).header : undefined });
    header = m.value;
    ops.push(...m.ops);
  }
  let data: Uint8Array = parts.data;
  if (strategy === 'data') {
    const m = mutateBytes(rng, parts.data, { maxOps: 2 });
    data = m.value;
    ops.push(...m.ops.map((o) => `data: ${o}`));
  }
  const headerBytes = strategy === 'json' ? serialiseJson(rng, header, 0.3) : { value: new TextEncoder().encode(jsonText(header)), ops: [] };
  ops.push(...headerBytes.ops);
  let declared: bigint | undefined;
  if (strategy === 'prefix' || rng.chance(0.1)) {
    const n = headerBytes.value.byteLength;
    declared = BigInt.asUintN(
      64,
      BigInt(rng.pick([n - 1, n + 1, n - 8, n + 8, 0, 1, 2, n + data.byteLength, n + data.byteLength + 1, 2 ** 32, 2 ** 53, 100_000_001, -1])),
    );
    ops.push(`header length ${declared}`);
  }
  return { value: rawSafetensors(headerBytes.value, data, declared), ops };
}
