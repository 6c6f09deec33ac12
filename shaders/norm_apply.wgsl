// Frozen-scale normalisation of rows (components x positions):
//   y[r, d] = gamma[d] * (x[r, d] - c_r) * scale[r % T]  (+ beta[d] on the rows of block betaBlock)
// c_r is the row's own mean with CENTER (LayerNorm on a component: each component is centred by
// itself, the real state's std is frozen), else 0. betaBlock < 0 puts beta on every row. With
// ROW_MAP only rows listed in `rows` are read and written (structurally zero rows are skipped).
// With ACCUMULATE the result is added to y (a post-norm's output joining the residual).
//
// Bindings (group 0): 0 x      array<f32>, read         [rows, D]
//                     1 scale  array<f32>, read         [T]
//                     2 gamma  array<f32>, read         [D]
//                     3 beta   array<f32>, read         [D] (HAS_BETA only)
//                     4 rows   array<u32>, read         [R] row map (ROW_MAP only)
//                     5 y      array<f32>, read_write   [rows, D]
//                     6 params uniform Params
// Dispatch: R workgroups as an (x, y) grid, flattened as x + y * num_workgroups.x; workgroup 64.
// Prelude: reduce (groupSum, for CENTER), through workgroup memory or subgroups.
// Precision: f32.

const CENTER = 1u;
const HAS_BETA = 2u;
const ROW_MAP = 4u;
const ACCUMULATE = 8u;

struct Params {
  R: u32,
  D: u32,
  T: u32,
  betaBlock: i32,
  flags: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> rows: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

const WG = 64u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wg.x + wg.y * nwg.x;
  if (i >= params.R) {
    return; // uniform across the workgroup
  }
  var r = i;
  if ((params.flags & ROW_MAP) != 0u) {
    r = rows[i];
  }
  let D = params.D;
  let base = r * D;
  var c = 0.0;
  if ((params.flags & CENTER) != 0u) {
    var s = 0.0;
    for (var d = lid; d < D; d += WG) {
      s += x[base + d];
    }
    c = groupSum(lid, s) / f32(D);
  }
  let s = scale[r % params.T];
  let addBeta = (params.flags & HAS_BETA) != 0u && (params.betaBlock < 0 || i32(r / params.T) == params.betaBlock);
  for (var d = lid; d < D; d += WG) {
    var v = gamma[d] * (x[base + d] - c) * s;
    if (addBeta) {
      v += beta[d];
    }
    if ((params.flags & ACCUMULATE) != 0u) {
      v += y[base + d];
    }
    y[base + d] = v;
  }
}
