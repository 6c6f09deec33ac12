// Structure-aware mutations of JSON documents (any document: the format-specific mutators in
// formats/ build on these), and text-level corruption of the serialised result. Raw tokens
// (NaN, Infinity, 1e999, 100000-deep nesting) go into the text through RawJson, since a
// JavaScript value cannot hold them. No parser is called here.

import { mutateBytes, type Mutated } from './bytes';
import type { Rng } from './rng';

/** Text spliced verbatim into the serialised JSON where this value stands. */
export class RawJson {
  constructor(readonly text: string) {}
}

export type JsonPath = (string | number)[];

/** A JSON object as the mutators edit it. */
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RawJson);
/** Sets `k` as an own property, even '__proto__' (plain assignment would set the prototype). */
export const define = (o: Json, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });

/** A deep copy that keeps RawJson tokens (structuredClone would turn them into plain objects). */
export function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    // defineProperty, so a "__proto__" key stays a key and does not replace the prototype.
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: cloneJson(x), enumerable: true, writable: true, configurable: true });
    return out as T;
  }
  return v;
}

/** JSON text with RawJson tokens spliced in. */
export function jsonText(value: unknown, indent?: number): string {
  const raws: string[] = [];
  const nonce = Math.random().toString(36).slice(2);
  const text = JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (v instanceof RawJson) {
        raws.push(v.text);
        return `@@raw${nonce}:${raws.length - 1}@@`;
      }
      return v;
    },
    indent,
  );
  if (text === undefined) return 'null';
  if (raws.length === 0) return text;
  return text.replace(new RegExp(`"@@raw${nonce}:(\\d+)@@"`, 'g'), (_m, i: string) => raws[Number(i)]!);
}

/** Every path in the document (root excluded), containers before their children. */
export function allPaths(root: unknown, limit = 200_000): JsonPath[] {
  const out: JsonPath[] = [];
  const walk = (v: unknown, path: JsonPath) => {
    if (out.length >= limit) return;
    const children: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : isObject(v) ? Object.entries(v) : [];
    for (const [k, x] of children) {
      out.push([...path, k]);
      walk(x, [...path, k]);
    }
  };
  walk(root, []);
  return out;
}

export function getAt(root: unknown, path: JsonPath): unknown {
  let v = root;
  for (const k of path) {
    if (Array.isArray(v) && typeof k === 'number') v = v[k];
    else if (isObject(v) && typeof k === 'string') v = v[k];
    else return undefined;
  }
  return v;
}

function parentOf(root: unknown, path: JsonPath): unknown {
  return getAt(root, path.slice(0, -1));
}

/** Sets the value at `path` (the root itself cannot be replaced: use the return of mutateJson). */
export function setAt(root: unknown, path: JsonPath, value: unknown): void {
  const parent = parentOf(root, path);
  const key = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof key === 'number') parent[key] = value;
  else if (isObject(parent) && typeof key === 'string') Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
}

export function deleteAt(root: unknown, path: JsonPath): void {
  const parent = parentOf(root, path);
  const key = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
  else if (isObject(parent) && typeof key === 'string') delete parent[key];
}

/** Strings that stress decoders, regexes, displays and lookups. */
export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\udfff',
  '\u2028',
  '\u202e',
  '\ufeff',
  '\u2581',
  '\u0120',
  'e\u0301',
  '\ud83d\ude00',
  '<|endoftext|>',
  '<s>',
  '</s>',
  '<unk>',
  '<0xFF>',
  '<0x>',
  '..',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  '%s%n',
  '\\',
  '"',
  '\n',
  '\r\n',
];

/** A huge string: long enough to show quadratic work or a giant error message, short enough to stay fast. */
export function hugeString(rng: Rng): string {
  const unit = rng.pick(['x', 'ab ', '\u2581', '\u00e9', '\ud83d\ude00', '\\n', '0']);
  return unit.repeat(Math.ceil(rng.pick([1 << 12, 1 << 16, 1 << 20]) / unit.length));
}

/** Nesting deep enough to overflow any recursive walker (JSON.parse itself copes). */
export function deepNesting(rng: Rng): RawJson {
  const d = rng.pick([64, 1000, 10_000, 100_000]);
  return rng.chance(0.5) ? new RawJson('['.repeat(d) + ']'.repeat(d)) : new RawJson('{"a":'.repeat(d) + '1' + '}'.repeat(d));
}

/** Number tokens JSON cannot hold or that parse to surprising values. */
export const RAW_NUMBERS: readonly string[] = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '-1e999',
  '1e-999',
  '-0',
  '0.1e1',
  '1E2',
  '123456789012345678901234567890',
  '0x10',
  '.5',
  '+1',
  '01',
];

export function interestingNumber(rng: Rng): unknown {
  return rng.weighted<() => unknown>([
    [4, () => rng.pick([0, 1, -1, 2, 3, 255, 256, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), 2 ** 63])],
    [2, () => rng.pick([0.5, 1.5, -0.5, 1e-9, 1e308, -1e308, 5e-324, 1e21, 1e300, -0])],
    [1, () => new RawJson(rng.pick(RAW_NUMBERS))],
  ])();
}

/** Any value a hostile document might hold where `current` stands. */
export function interestingValue(rng: Rng, current?: unknown): unknown {
  return rng.weighted<() => unknown>([
    [4, () => interestingNumber(rng)],
    [typeof current === 'number' ? 4 : 0, () => nudge(rng, current as number)],
    [2, () => rng.pick(ODD_STRINGS)],
    [1, () => hugeString(rng)],
    [2, () => rng.pick([null, true, false, [], {}, [[]], [null], { '': null }])],
    [1, () => deepNesting(rng)],
    [2, () => retype(rng, current)],
    [1, () => [current]],
    [1, () => ({ content: current, id: current })],
  ])();
}

/** A number near `v`: off by one, doubled, halved, negated, fractional. */
export function nudge(rng: Rng, v: number): unknown {
  return rng.pick([v + 1, v - 1, v * 2, v / 2, -v, v + 0.5, v * 1000, Math.floor(v / 3), 0, new RawJson(rng.pick(RAW_NUMBERS))]);
}

/** The same content under another type: 16 -> "16", "a" -> ["a"], {a: 1} -> [1], [1] -> {"0": 1}. */
export function retype(rng: Rng, v: unknown): unknown {
  if (typeof v === 'number') return rng.pick([String(v), [v], v !== 0, { value: v }]);
  if (typeof v === 'string') return rng.pick([Number(v), [v], { content: v }, v.length, null]);
  if (typeof v === 'boolean') return rng.pick([Number(v), String(v), null]);
  if (Array.isArray(v)) return rng.pick([Object.fromEntries(v.map((x, i) => [String(i), x])), v.length, jsonText(v).slice(0, 1000)]);
  if (isObject(v)) return rng.pick([Object.values(v), Object.keys(v), Object.keys(v).length, 'object']);
  return rng.pick([0, '', [], {}]);
}

function renamedKey(rng: Rng, key: string): string {
  return rng.pick([
    '',
    `${key} `,
    ` ${key}`,
    key.toUpperCase(),
    `${key}\u0000`,
    key.slice(0, -1),
    `${key}_`,
    '__proto__',
    'constructor',
    'toString',
    `${key}\u200b`,
    hugeString(rng).slice(0, 100_000),
  ]);
}

export interface JsonMutationOptions {
  /** Another valid document of the same kind, to graft subtrees from. */
  other?: unknown;
  /** At most this many operations in a row; default 3. */
  maxOps?: number;
  /** Paths never touched (kept so the format's own mutators stay the ones editing them). */
  skip?: (path: JsonPath) => boolean;
}

/** One structural edit at a random place of `root` (mutated in place when possible). */
function mutateOnce(rng: Rng, root: unknown, opts: JsonMutationOptions): Mutated<unknown> {
  let paths = allPaths(root);
  if (opts.skip) paths = paths.filter((p) => !opts.skip!(p));
  if (paths.length === 0 || rng.chance(0.03)) {
    const v = interestingValue(rng, root);
    return { value: v, ops: ['root replaced'] };
  }
  const path = rng.pick(paths);
  const where = path.join('.').slice(0, 200);
  const current = getAt(root, path);
  const parent = parentOf(root, path);
  const key = path[path.length - 1]!;
  const op = rng.weighted<string>([
    [3, 'delete'],
    [6, 'replace'],
    [2, 'retype'],
    [2, 'rename'],
    [2, 'add'],
    [2, 'array'],
    [Number(opts.other !== undefined), 'graft'],
  ]);
  switch (op) {
    case 'delete':
      deleteAt(root, path);
      return { value: root, ops: [`delete ${where}`] };
    case 'replace': {
      const v = interestingValue(rng, current);
      setAt(root, path, v);
      return { value: root, ops: [`replace ${where}`] };
    }
    case 'retype':
      setAt(root, path, retype(rng, current));
      return { value: root, ops: [`retype ${where}`] };
    case 'rename':
      if (isObject(parent) && typeof key === 'string') {
        const to = renamedKey(rng, key);
        delete parent[key];
        Object.defineProperty(parent, to, { value: current, enumerable: true, writable: true, configurable: true });
        return { value: root, ops: [`rename ${where} to ${JSON.stringify(to.slice(0, 20))}`] };
      }
      setAt(root, path, current);
      return { value: root, ops: [`rename ${where} (not a key)`] };
    case 'add': {
      const container = Array.isArray(current) || isObject(current) ? current : parent;
      // A copy: the new value may wrap `current`, and must not end up inside itself.
      const v = interestingValue(rng, cloneJson(current));
      if (Array.isArray(container)) container.splice(rng.int(container.length + 1), 0, v);
      else if (isObject(container))
        Object.defineProperty(container, rng.pick(['x', '', 'type', 'id', 'content', '__proto__', 'vocab']), {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return { value: root, ops: [`add under ${where}`] };
    }
    case 'array': {
      const arr = Array.isArray(current) ? current : Array.isArray(parent) ? parent : null;
      if (!arr || arr.length === 0) return { value: root, ops: [`array op at ${where} (none)`] };
      const kind = rng.pick(['shuffle', 'reverse', 'truncate', 'duplicate', 'grow']);
      if (kind === 'shuffle')
        for (let i = arr.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [arr[i], arr[j]] = [arr[j], arr[i]];
        }
      else if (kind === 'reverse') arr.reverse();
      else if (kind === 'truncate') arr.length = rng.int(arr.length);
      else if (kind === 'duplicate') {
        const i = rng.int(arr.length);
        arr.splice(i, 0, cloneJson(arr[i]));
      } else {
        const copies = rng.pick([2, 10, 100]);
        const base = arr.slice(0, 64);
        for (let k = 0; k < copies; k++) arr.push(...cloneJson(base));
      }
      return { value: root, ops: [`${kind} array at ${where}`] };
    }
    default: {
      const otherPaths = allPaths(opts.other);
      if (otherPaths.length === 0) return { value: root, ops: ['graft (nothing to take)'] };
      const from = rng.pick(otherPaths);
      setAt(root, path, cloneJson(getAt(opts.other, from)));
      return { value: root, ops: [`graft other.${from.join('.').slice(0, 100)} at ${where}`] };
    }
  }
}

/** One to `maxOps` structural edits of a copy of `input`. */
export function mutateJson(rng: Rng, input: unknown, opts: JsonMutationOptions = {}): Mutated<unknown> {
  let value = cloneJson(input);
  const ops: string[] = [];
  const n = rng.range(1, opts.maxOps ?? 3);
  for (let k = 0; k < n; k++) {
    const step = mutateOnce(rng, value, opts);
    value = step.value;
    ops.push(...step.ops);
  }
  return { value, ops };
}

/**
 * Serialises a document and, sometimes, damages the text: truncation, stray or missing
 * punctuation, comments, trailing commas, a byte-order mark, or byte-level damage (invalid UTF-8).
 */
export function serialiseJson(rng: Rng, value: unknown, corruptChance = 0.3): Mutated<Uint8Array<ArrayBuffer>> {
  const text = jsonText(value, rng.chance(0.5) ? 2 : undefined);
  const utf8 = new TextEncoder().encode(text);
  if (!rng.chance(corruptChance)) return { value: utf8, ops: [] };
  return rng.weighted<() => Mutated<Uint8Array<ArrayBuffer>>>([
    [3, () => mutateBytes(rng, utf8, { maxOps: 2 })],
    [
      1,
      () => {
        const at = rng.position(text.length);
        return { value: new TextEncoder().encode(text.slice(0, at)), ops: [`text cut at ${at}`] };
      },
    ],
    [
      2,
      () => {
        const at = rng.position(text.length);
        const ins = rng.pick(['{', '}', '[', ']', ',', ':', '"', '\\', '//c\n', '/*', ',}', "'", 'NaN', '\u0000']);
        return { value: new TextEncoder().encode(text.slice(0, at) + ins + text.slice(at)), ops: [`text insert ${JSON.stringify(ins)} at ${at}`] };
      },
    ],
    [1, () => ({ value: new TextEncoder().encode('\ufeff' + text), ops: ['text BOM'] })],
    [1, () => ({ value: new TextEncoder().encode(text + rng.pick(['x', '\n{}', ' \u0000', '}', ','])), ops: ['text trailing garbage'] })],
    [1, () => ({ value: new TextEncoder().encode(text.replace(/,(\s*[}\]])/, ',,$1')), ops: ['text double comma'] })],
  ])();
}
