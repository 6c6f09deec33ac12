// RoPE tables: the cos and sin of every (position, frequency) of a prompt, computed once on the
// host in f64 and read by both engines (the GPU's own sin/cos are not accurate at large angles).
// Scaled frequencies (linear, Llama 3's, Phi-3's longrope) and longrope's magnitude are folded in
// here, so the rotation itself is the same everywhere.

import type { ModelDescription, RopeSpec } from '../model/description';

/** Inverse frequencies of the rotated dims for a prompt of T tokens, [dim/2]. */
export function inverseFrequencies(spec: RopeSpec, theta: number, T: number): Float64Array {
  const half = spec.dim / 2;
  const inv = Float64Array.from({ length: half }, (_, i) => Math.fround(1 / Math.pow(theta, (2 * i) / spec.dim)));
  const s = spec.scaling;
  switch (s.kind) {
    case 'none':
      break;
    case 'linear':
      for (let i = 0; i < half; i++) inv[i]! /= s.factor;
      break;
    case 'llama3': {
      // Long wavelengths are interpolated by `factor`, short ones kept, the band between blended.
      const lo = s.original_max_position_embeddings / s.low_freq_factor;
      const hi = s.original_max_position_embeddings / s.high_freq_factor;
      for (let i = 0; i < half; i++) {
        const wavelength = (2 * Math.PI) / inv[i]!;
        if (wavelength < hi) continue;
        if (wavelength > lo) inv[i]! /= s.factor;
        else {
          const t = (s.original_max_position_embeddings / wavelength - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
          inv[i] = ((1 - t) * inv[i]!) / s.factor + t * inv[i]!;
        }
      }
      break;
    }
    case 'longrope': {
      // Every position of a prompt longer than the original context uses the long factors.
      const f = T > s.original_max_position_embeddings ? s.long_factor : s.short_factor;
      for (let i = 0; i < half; i++) inv[i]! /= f[i]!;
      break;
    }
  }
  return inv;
}

/**
 * cos/sin table [2, T, dim/2] for positions 0..T-1 (cos block, then sin block), each times the
 * longrope magnitude when there is one. `theta` is the base of the layer (Gemma 3's local layers
 * differ from its global ones).
 */
export function ropeTable(T: number, spec: RopeSpec, theta = spec.theta): Float32Array {
  const half = spec.dim / 2;
  const inv = inverseFrequencies(spec, theta, T);
  const magnitude = spec.scaling.kind === 'longrope' ? spec.scaling.attention_factor : 1;
  const table = new Float32Array(2 * T * half);
  for (let i = 0; i < half; i++) {
    for (let t = 0; t < T; t++) {
      const angle = Math.fround(t * Math.fround(inv[i]!));
      table[t * half + i] = magnitude * Math.cos(angle);
      table[(T + t) * half + i] = magnitude * Math.sin(angle);
    }
  }
  return table;
}

/** The RoPE base of layer l: the local one on sliding layers when the model has one. */
export function layerTheta(cfg: ModelDescription, l: number): number {
  const rope = cfg.rope!;
  return cfg.layer_types[l] === 'sliding' && rope.local_theta !== null ? rope.local_theta : rope.theta;
}

/** Sliding window of layer l in keys counting the query, or 0 for plain causal attention. */
export function layerWindow(cfg: ModelDescription, l: number): number {
  return cfg.layer_types[l] === 'sliding' ? (cfg.sliding_window ?? 0) : 0;
}

/** The cos/sin table of every layer for T positions (null without RoPE); layers sharing a base share a table. */
export function layerRopeTables(cfg: ModelDescription, T: number): (Float32Array | null)[] {
  if (!cfg.rope) return cfg.layer_types.map(() => null);
  const byTheta = new Map<number, Float32Array>();
  return cfg.layer_types.map((_, l) => {
    const theta = layerTheta(cfg, l);
    let table = byTheta.get(theta);
    if (!table) byTheta.set(theta, (table = ropeTable(T, cfg.rope!, theta)));
    return table;
  });
}
