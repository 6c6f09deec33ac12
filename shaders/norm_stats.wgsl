// Normalisation statistics of the real hidden state, one row (position) per workgroup:
//   RMSNorm:   scale[t] = 1 / sqrt(mean_d(h[t, d]^2) + eps)
//   LayerNorm: mean[t] = mean_d(h[t, d]), scale[t] = 1 / sqrt(mean_d((h[t, d] - mean[t])^2) + eps)
// With HAS_DELTA the row is first the residual sum h + delta, which is also written to hOut
// (the residual add after attention or the MLP, fused with the statistics of its result).
//
// Bindings (group 0): 0 h      array<f32>, read         [T, D]
//                     1 delta  array<f32>, read         [T, D] (HAS_DELTA only)
//                     2 hOut   array<f32>, read_write   [T, D] (HAS_DELTA only)
//                     3 scale  array<f32>, read_write   [T]
//                     4 mean   array<f32>, read_write   [T] (LayerNorm only)
//                     5 params uniform Params
// Dispatch: (T); workgroup 64.
// Prelude: reduce (groupSum), through workgroup memory or subgroups.
// Precision: f32 throughout; LayerNorm variance by two passes over the row (no cancellation).

const LAYER = 1u;
const HAS_DELTA = 2u;

struct Params {
  T: u32,
  D: u32,
  eps: f32,
  flags: u32,
}

@group(0) @binding(0) var<storage, read> h: array<f32>;
@group(0) @binding(1) var<storage, read> delta: array<f32>;
@group(0) @binding(2) var<storage, read_write> hOut: array<f32>;
@group(0) @binding(3) var<storage, read_write> scale: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

const WG = 64u;

fn value(e: u32) -> f32 {
  if ((params.flags & HAS_DELTA) != 0u) {
    return h[e] + delta[e];
  }
  return h[e];
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x;
  let D = params.D;
  let base = t * D;
  let layer = (params.flags & LAYER) != 0u;
  var mu = 0.0;
  if (layer) {
    var s = 0.0;
    for (var d = lid; d < D; d += WG) {
      s += value(base + d);
    }
    mu = groupSum(lid, s) / f32(D);
  }
  var ss = 0.0;
  for (var d = lid; d < D; d += WG) {
    let v = value(base + d);
    if ((params.flags & HAS_DELTA) != 0u) {
      hOut[base + d] = v;
    }
    ss += (v - mu) * (v - mu);
  }
  let total = groupSum(lid, ss);
  if (lid == 0u) {
    scale[t] = 1.0 / sqrt(total / f32(D) + params.eps);
    if (layer) {
      mean[t] = mu;
    }
  }
}
