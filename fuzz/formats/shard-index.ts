// Mutators for model.safetensors.index.json: its weight_map with tensors moved to other shards,
// lost, invented or pointed outside the folder. They only build inputs; the index suite runs the
// loader. Not the shards themselves (safetensors.ts).

import type { Mutated } from '../bytes';
import { cloneJson, define, hugeString, interestingValue, isObject, mutateJson, ODD_STRINGS, type Json } from '../json';
import type { Rng } from '../rng';

/** The index with its weight_map changed: tensors moved, lost, invented, or pointed outside. */
export function mutateIndex(rng: Rng, index: Json, shards: readonly string[]): Mutated<unknown> {
  let value: unknown = cloneJson(index);
  const ops: string[] = [];
  for (let k = rng.range(1, 3); k > 0; k--) {
    if (!isObject(value)) break;
    const map = value['weight_map'];
    if (!isObject(map) || Object.keys(map).length === 0 || rng.chance(0.15)) {
      const m = mutateJson(rng, value, { maxOps: 1 });
      value = m.value;
      ops.push(...m.ops);
      continue;
    }
    const names = Object.keys(map);
    const name = rng.pick(names);
    ops.push(
      rng.weighted<() => string>([
        [3, () => ((map[name] = rng.pick(shards)), `${name} -> another shard`)],
        [
          2,
          () => (
            (map[name] = rng.pick<unknown>([
              'missing.safetensors',
              '../model.safetensors',
              '/etc/passwd',
              '',
              'model.safetensors.index.json',
              'config.json',
              'sub/' + shards[0],
              3,
              null,
              [shards[0]],
              hugeString(rng),
            ])),
            `${name} -> odd target`
          ),
        ],
        [2, () => (delete map[name], `${name} dropped`)],
        [1, () => (define(map, name.replace(/\.(\d+)\./, '.99.'), rng.pick(shards)), 'tensor invented')],
        [1, () => (define(map, rng.pick(ODD_STRINGS), rng.pick(shards)), 'odd tensor name')],
        [
          1,
          () => {
            for (let i = 0; i < rng.pick([1000, 50_000]); i++) define(map, `ghost.${i}.weight`, rng.pick(shards));
            return 'many ghosts';
          },
        ],
        [1, () => (((value as Json)['metadata'] = interestingValue(rng)), 'metadata replaced')],
      ])(),
    );
  }
  return { value, ops };
}
