// Per-head RMSNorm of query or key rows (Qwen3 q_norm / k_norm), in place:
//   x[r, i] = gamma[i] * x[r, i] / sqrt(mean_i(x[r, i]^2) + eps)   for rows r = (t, head), i < dh.
//
// Bindings (group 0): 0 gamma array<f32>, read          [dh]
//                     1 x     array<f32>, read_write    [T * nh, dh]
//                     2 params uniform Params
// Dispatch: rows workgroups as an (x, y) grid, flattened as x + y * num_workgroups.x; workgroup 64.
// Prelude: reduce (groupSum), through workgroup memory or subgroups.
// Precision: f32.

struct Params {
  rows: u32,
  dh: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> gamma: array<f32>;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

const WG = 64u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wg.x + wg.y * nwg.x;
  if (r >= params.rows) {
    return; // uniform across the workgroup
  }
  let base = r * params.dh;
  var ss = 0.0;
  for (var i = lid; i < params.dh; i += WG) {
    ss += x[base + i] * x[base + i];
  }
  let s = 1.0 / sqrt(groupSum(lid, ss) / f32(params.dh) + params.eps);
  for (var i = lid; i < params.dh; i += WG) {
    x[base + i] = gamma[i] * x[base + i] * s;
  }
}
