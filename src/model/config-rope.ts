// The rotary embedding of a config.json, in either layout: the older one that published checkpoints
// use (rope_theta, rope_scaling, rotary_pct, partial_rotary_factor, rope_local_base_freq) and the
// newer `rope_parameters` object (flat, or per layer kind for Gemma 3). Scaling types other than
// default, linear, llama3 and longrope are refused with a one-line message.

import { type ConfigReader, positiveList, unsupported } from './config-reader';
import type { RopeScaling, RopeSpec } from './description';

export interface RopeDefaults {
  theta: number;
  /** Rotated fraction of head_dim when no key says otherwise. */
  partial: number;
  /** The key of the older layout's partial fraction (rotary_pct, partial_rotary_factor). */
  partialKey?: string;
  /** The key of the older layout's base when not rope_theta (GPT-NeoX: rotary_emb_base). */
  thetaKey?: string;
  /** Gemma 3: the sliding layers' base key and default. */
  local?: { key: string; theta: number };
  max_position_embeddings: number;
}

function scaling(r: ConfigReader, top: ConfigReader, dim: number, d: RopeDefaults): RopeScaling {
  const type = r.string('rope_type') ?? r.string('type') ?? 'default';
  switch (type) {
    case 'default':
      return { kind: 'none' };
    case 'linear':
      return { kind: 'linear', factor: r.positive('factor', 1) };
    case 'llama3':
      return {
        kind: 'llama3',
        factor: r.required('factor'),
        low_freq_factor: r.required('low_freq_factor'),
        high_freq_factor: r.required('high_freq_factor'),
        original_max_position_embeddings: r.dim('original_max_position_embeddings'),
      };
    case 'longrope':
    case 'su': {
      // Older Phi-3 configs keep the original context at the top level.
      const original = r.has('original_max_position_embeddings') ? r.dim('original_max_position_embeddings') : top.dim('original_max_position_embeddings');
      const short_factor = positiveList(r, 'short_factor');
      const long_factor = positiveList(r, 'long_factor');
      for (const [k, list] of [
        ['short_factor', short_factor],
        ['long_factor', long_factor],
      ] as const) {
        if (list.length !== dim / 2) r.fail(k, `has ${list.length} factors, not rotary dims / 2 = ${dim / 2}`);
      }
      // The magnitude both q and k carry: given, or from the context extension.
      const s = r.positive('factor', d.max_position_embeddings / original);
      const attention_factor = r.positive('attention_factor', s <= 1 ? 1 : Math.sqrt(1 + Math.log(s) / Math.log(original)));
      return { kind: 'longrope', short_factor, long_factor, original_max_position_embeddings: original, attention_factor };
    }
    default:
      return unsupported(r.file, `${r.prefix.slice(0, -1) || 'rope_scaling'} type '${type}' is not supported (default, linear, llama3 or longrope)`);
  }
}

/** The RoPE of a config whose heads have head_dim dims. */
export function readRope(r: ConfigReader, dh: number, d: RopeDefaults): RopeSpec {
  const params = r.nested('rope_parameters');
  // Gemma 3 in the newer layout keeps one parameter set per layer kind.
  const full = params?.nested('full_attention') ?? params;
  const local = params?.nested('sliding_attention');
  const older = r.nested('rope_scaling');

  const theta = full?.has('rope_theta') ? full.positive('rope_theta', d.theta) : r.positive(d.thetaKey ?? 'rope_theta', d.theta);
  const fraction = full?.has('partial_rotary_factor')
    ? full.fraction('partial_rotary_factor', d.partial)
    : d.partialKey
      ? r.fraction(d.partialKey, d.partial)
      : d.partial;
  // Whole pairs of rotated dims: int(dh * fraction), even.
  let dim = Math.floor(dh * fraction);
  dim -= dim % 2;
  if (dim < 2) unsupported(r.file, `rotary dims = ${dim} (head_dim ${dh} x ${fraction}) leaves nothing to rotate`);

  let local_theta: number | null = null;
  if (d.local) local_theta = local?.has('rope_theta') ? local.positive('rope_theta', d.local.theta) : r.positive(d.local.key, d.local.theta);

  // Scaling: in rope_parameters (newer) or rope_scaling (older); Gemma 3's applies to full layers.
  const source = full && (full.has('rope_type') || full.has('type')) ? full : older;
  return { theta, dim, local_theta, scaling: source ? scaling(source, r, dim, d) : { kind: 'none' } };
}
