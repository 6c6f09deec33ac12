// The run with every target the user chose folded in: the main result's targets (one per
// position, the model's own predictions) followed by each chosen target's re-run, with every
// mode's scores concatenated in the same order. One depass-result/1 file, as the CLI writes for
// several --positions/--target/--contrast choices. Pure.

import type { DepassResult } from '../depass/result';
import type { Override } from './types';

/** The same sections, of the same layers, so that rows can be stacked. */
function sameShape(a: DepassResult, b: DepassResult): boolean {
  return (
    !!a.token === !!b.token &&
    !!a.token?.by_layer === !!b.token?.by_layer &&
    (a.head?.layers.join() ?? null) === (b.head?.layers.join() ?? null) &&
    (a.neuron?.layer ?? null) === (b.neuron?.layer ?? null) &&
    (a.module?.layer ?? null) === (b.module?.layer ?? null) &&
    (a.subspace?.layer ?? null) === (b.subspace?.layer ?? null)
  );
}

export function withChosenTargets(r: DepassResult, overrides: Override[]): DepassResult {
  const extra = overrides.map((o) => o.result).filter((x) => x.prompt === r.prompt && sameShape(r, x));
  if (extra.length === 0) return r;
  const all = [r, ...extra];
  const out: DepassResult = {
    ...r,
    targets: all.flatMap((x) => x.targets),
    completeness: { max_abs_error: Math.max(...all.map((x) => x.completeness.max_abs_error)) },
  };
  if (r.token) {
    out.token = { scores: all.flatMap((x) => x.token!.scores), rest: all.flatMap((x) => x.token!.rest) };
    if (r.token.by_layer && r.token.rest_by_layer) {
      out.token.by_layer = all.flatMap((x) => x.token!.by_layer!);
      out.token.rest_by_layer = all.flatMap((x) => x.token!.rest_by_layer!);
    }
  }
  if (r.head) out.head = { ...r.head, scores: all.flatMap((x) => x.head!.scores), rest: all.flatMap((x) => x.head!.rest) };
  if (r.neuron) out.neuron = { ...r.neuron, scores: all.flatMap((x) => x.neuron!.scores), rest: all.flatMap((x) => x.neuron!.rest) };
  if (r.module) out.module = { ...r.module, scores: all.flatMap((x) => x.module!.scores) };
  if (r.subspace) out.subspace = { ...r.subspace, scores: all.flatMap((x) => x.subspace!.scores) };
  return out;
}
