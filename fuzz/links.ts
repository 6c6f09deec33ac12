// Mutations of permalinks at every layer a link has: the fragment text (stray, non-ASCII and
// missing characters), the deflated bytes, the container (JSON length prefix, JSON head, binary
// tail) and the head's fields (counts and shapes that the tail must then live up to).

import { deflateSync, inflateSync } from 'fflate';
import { fromBase64Url, toBase64Url } from '../src/share/permalink/base64url';
import { LINK_PREFIX } from '../src/share/permalink/format';
import { mutateBytes, nearbyInts, type Mutated } from './bytes';
import { interestingValue, jsonText, mutateJson, RawJson } from './json';
import type { Rng } from './rng';

/** '#run=<version>.' of a valid link. */
const prefixOf = (link: string) => link.slice(0, link.indexOf('.', LINK_PREFIX.length) + 1);

/** The container of a valid link: u32 JSON length, JSON head, binary tail. */
export function linkContainer(link: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(inflateSync(fromBase64Url(link.slice(prefixOf(link).length))));
}

function linkOf(prefix: string, container: Uint8Array): string {
  return `${prefix}${toBase64Url(deflateSync(container))}`;
}

function containerOf(head: Uint8Array, tail: Uint8Array, declared = head.length): Uint8Array<ArrayBuffer> {
  const c = new Uint8Array(4 + head.length + tail.length);
  new DataView(c.buffer).setUint32(0, declared >>> 0, true);
  c.set(head, 4);
  c.set(tail, 4 + head.length);
  return c;
}

/** Head fields that size the binary part: nudging them makes the head and tail disagree. */
const SIZE_FIELDS: readonly (readonly string[])[] = [
  ['top'],
  ['targets'],
  ['token', 'layers'],
  ['token', 'final'],
  ['head', 'H'],
  ['neuron', 'I'],
  ['neuron', 'group'],
  ['neuron', 'layer'],
  ['lens', 'L'],
  ['lens', 'k'],
  ['lens', 'final'],
  ['shape', 'layers'],
  ['shape', 'vocab_size'],
  ['override', 'position'],
  ['override', 'target'],
  ['override', 'contrast'],
  ['override', 'targets'],
  ['override', 'completeness'],
  ['override', 'token', 'layers'],
  ['override', 'head', 'H'],
  ['view', 'selected'],
  ['view', 'threshold'],
  ['view', 'layer'],
  ['view', 'neuron'],
  ['settings', 'layer'],
  ['settings', 'target'],
  ['settings', 'layerDetail'],
  ['completeness'],
  ['v'],
];

function headOp(rng: Rng, head: Record<string, unknown>): string {
  return rng.weighted<() => string>([
    [
      2,
      () => {
        // Edits a valid link may carry: the decoded run must then still be whole.
        const view = head['view'] as Record<string, unknown>;
        const T = Array.isArray(head['tokens']) ? head['tokens'].length : 1;
        const edit = rng.pick(['threshold', 'selected', 'name', 'completeness', 'views']);
        if (edit === 'threshold') view['threshold'] = rng.pick([0, 1, 0.5, 1e-9]);
        else if (edit === 'selected') view['selected'] = rng.pick([null, 0, T - 1]);
        else if (edit === 'name') (head['model'] as Record<string, unknown>)['name'] = rng.pick(['', '<script>x</script>', '\u202e\u0000', 'm'.repeat(500)]);
        else if (edit === 'completeness') head['completeness'] = rng.pick([0, 1e300, -1e-300]);
        else view['views'] = rng.pick([[], ['lens'], ['tokens', 'tokens']]);
        return `benign ${edit} edit`;
      },
    ],
    [
      4,
      () => {
        const path = rng.pick(SIZE_FIELDS);
        let o: Record<string, unknown> = head;
        for (const k of path.slice(0, -1)) {
          const next = o[k];
          if (typeof next !== 'object' || next === null) return `${path.join('.')} (absent)`;
          o = next as Record<string, unknown>;
        }
        const key = path[path.length - 1]!;
        const cur = o[key];
        o[key] = typeof cur === 'number' && rng.chance(0.7) ? nearbyInts(rng, cur) : interestingValue(rng, cur);
        return `${path.join('.')} changed`;
      },
    ],
    [
      2,
      () => {
        // One token entry: id, start, end, text.
        const tokens = head['tokens'];
        if (!Array.isArray(tokens) || tokens.length === 0) return 'tokens (absent)';
        const i = rng.int(tokens.length);
        const t = tokens[i];
        if (Array.isArray(t) && rng.chance(0.8)) t[rng.int(4)] = interestingValue(rng, t[0]);
        else tokens[i] = interestingValue(rng, t);
        return `token ${i} changed`;
      },
    ],
    [
      1,
      () => {
        const tokens = head['tokens'];
        if (!Array.isArray(tokens)) return 'tokens (absent)';
        tokens.splice(rng.int(tokens.length + 1), rng.int(3), ...(rng.chance(0.5) ? [tokens[0]] : []));
        return 'tokens added or removed';
      },
    ],
    [
      1,
      () => {
        const hd = head['head'] as { layers?: unknown } | undefined;
        if (!hd || typeof hd !== 'object') return 'head (absent)';
        hd.layers = rng.pick<unknown>([[], [0], [0, 0], [511], [512], [-1], [1.5], 'x', Array.from({ length: 600 }, (_, i) => i)]);
        return 'head.layers changed';
      },
    ],
    [
      1,
      () => {
        const names = rng.pick(['module', 'subspace']);
        head[names] = rng.pick<unknown>([
          { layer: 0, names: [] },
          { layer: 0, names: ['attn', 'mlp'] },
          { layer: 600, names: ['a'] },
          { layer: 0, names: Array(17).fill('x') },
          null,
          'x',
        ]);
        return `${names} section changed`;
      },
    ],
    [
      1,
      () => {
        head['settings'] = rng.pick<unknown>([
          { modes: ['token'], rule: 'softmax', positions: [0, 99] },
          { modes: ['bogus'], rule: 'softmax' },
          { modes: [], rule: 'x' },
          { modes: ['token'], rule: 'proportional', positions: 'some' },
          null,
        ]);
        return 'settings replaced';
      },
    ],
    [
      1,
      () => {
        head['view'] = rng.pick<unknown>([
          { selected: null, views: [], threshold: 0, head: null, layer: null },
          { selected: 0, views: ['bogus'], threshold: 0.5, head: null, layer: null },
          { selected: 0, views: [], threshold: new RawJson('NaN'), head: { layer: 0, head: 2000 }, layer: 0 },
          [],
        ]);
        return 'view replaced';
      },
    ],
    [
      1,
      () => {
        head['prompt'] = rng.pick<unknown>(['', 'x', 'x'.repeat(100_001), '\ud800', 3, null]);
        return 'prompt replaced';
      },
    ],
    [
      1,
      () => {
        // The texts of the ids the run names: [id, text] sorted by id.
        const vocab = head['vocab'];
        if (!Array.isArray(vocab) || vocab.length === 0) return 'vocab (absent)';
        const i = rng.int(vocab.length);
        const entry = vocab[i];
        if (Array.isArray(entry) && rng.chance(0.7)) entry[rng.int(2)] = interestingValue(rng, entry[0]);
        else if (rng.chance(0.5)) vocab.reverse();
        else vocab.push(...vocab.slice(0, 8));
        return `vocab entry ${i} changed`;
      },
    ],
  ])();
}

/** A damaged or altered variant of a valid link. */
export function mutateLink(rng: Rng, link: string, other: string): Mutated<string> {
  const layer = rng.weighted<string>([
    [2, 'text'],
    [1, 'deflate'],
    [2, 'container'],
    [4, 'head'],
    [1, 'splice'],
  ]);
  if (layer === 'text') {
    const m = mutateBytes(rng, new TextEncoder().encode(link), { maxOps: 2, maxBytes: link.length * 2 + 1024 });
    const text = new TextDecoder().decode(m.value);
    if (rng.chance(0.3)) {
      const at = rng.position(text.length);
      const ins = rng.pick(['\u00e9', '\ud83d\ude00', '\u0000', '%20', '=', '.', '#', ' ', '\ud800', 'A'.repeat(1000)]);
      return { value: text.slice(0, at) + ins + text.slice(at), ops: [...m.ops, `text insert at ${at}`] };
    }
    return { value: text, ops: m.ops.map((o) => `text: ${o}`) };
  }
  if (layer === 'deflate') {
    const m = mutateBytes(rng, fromBase64Url(link.slice(prefixOf(link).length)), { maxOps: 2 });
    return { value: `${prefixOf(link)}${toBase64Url(m.value)}`, ops: m.ops.map((o) => `deflated: ${o}`) };
  }
  const container = linkContainer(link);
  if (layer === 'container') {
    const m = mutateBytes(rng, container, { maxOps: 2, intFields: [{ offset: 0, width: 4, name: 'head length' }] });
    return { value: linkOf(prefixOf(link), m.value), ops: m.ops.map((o) => `container: ${o}`) };
  }
  const jsonLength = new DataView(container.buffer).getUint32(0, true);
  const head = JSON.parse(new TextDecoder().decode(container.subarray(4, 4 + jsonLength))) as Record<string, unknown>;
  const tail = container.subarray(4 + jsonLength);
  if (layer === 'splice') {
    const o = linkContainer(other);
    const oLen = new DataView(o.buffer).getUint32(0, true);
    // This link's head with the other's tail, or the other way round.
    const swapped = rng.chance(0.5) ? containerOf(container.subarray(4, 4 + jsonLength), o.subarray(4 + oLen)) : containerOf(o.subarray(4, 4 + oLen), tail);
    return { value: linkOf(prefixOf(link), swapped), ops: ['head and tail from two links'] };
  }
  const ops: string[] = [];
  let value: unknown = head;
  for (let k = rng.range(1, 2); k > 0; k--) {
    if (rng.chance(0.7) && typeof value === 'object' && value !== null && !Array.isArray(value)) ops.push(headOp(rng, value as Record<string, unknown>));
    else {
      const m = mutateJson(rng, value, { maxOps: 1 });
      value = m.value;
      ops.push(...m.ops);
    }
  }
  let newTail: Uint8Array = tail;
  if (rng.chance(0.2)) {
    const m = mutateBytes(rng, tail, { maxOps: 1 });
    newTail = m.value;
    ops.push(...m.ops.map((o) => `tail: ${o}`));
  }
  const json = new TextEncoder().encode(jsonText(value));
  const declared = rng.chance(0.1) ? json.length + rng.pick([-1, 1, 4, -4, 2 ** 31]) : json.length;
  return { value: linkOf(prefixOf(link), containerOf(json, newTail, declared)), ops };
}
