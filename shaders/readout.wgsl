// Per-component read-out of target directions through the frozen final norm:
//   out[o0 + i*ldo + m] = scale[p_i] * sum_d dir[i, d] * gamma[d] * (C[m, p_i, d] - c_m)  (+ dir[i] . beta for m == rest)
// with p_i = pos[i], c_m the component row's own mean with CENTER (LayerNorm), else 0. dir is
// W_U[id] (minus W_U[contrast]); summed over m this is the target logit (completeness).
//
// Bindings (group 0): 0 C     array<f32>, read         [M, T, D]
//                     1 dirs  array<f32>, read         [n, D]
//                     2 pos   array<u32>, read         [n]
//                     3 scale array<f32>, read         [T] frozen 1/rms or 1/std of the real state
//                     4 gamma array<f32>, read         [D]
//                     5 beta  array<f32>, read         [D] (HAS_BETA only)
//                     6 out   array<f32>, read_write
//                     7 params uniform Params
// Dispatch: (M, n); workgroup 64.
// Prelude: reduce (groupSum4), through workgroup memory or subgroups.
// Precision: f32 sums (four running sums per invocation, then across the workgroup).

const CENTER = 1u;
const HAS_BETA = 2u;

struct Params {
  M: u32,
  T: u32,
  D: u32,
  n: u32,
  rest: u32,
  o0: u32,
  ldo: u32,
  flags: u32,
}

@group(0) @binding(0) var<storage, read> C: array<f32>;
@group(0) @binding(1) var<storage, read> dirs: array<f32>;
@group(0) @binding(2) var<storage, read> pos: array<u32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> gamma: array<f32>;
@group(0) @binding(5) var<storage, read> beta: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

const WG = 64u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m = wg.x;
  let i = wg.y;
  let D = params.D;
  let p = pos[i];
  let base = (m * params.T + p) * D;
  let hasBeta = (params.flags & HAS_BETA) != 0u;
  // x: dir.gamma.C, y: sum C, z: dir.gamma, w: dir.beta
  var s = vec4<f32>(0.0);
  for (var d = lid; d < D; d += WG) {
    let dg = dirs[i * D + d] * gamma[d];
    let cv = C[base + d];
    s += vec4<f32>(dg * cv, cv, dg, 0.0);
    if (hasBeta) {
      s.w += dirs[i * D + d] * beta[d];
    }
  }
  let tot = groupSum4(lid, s);
  if (lid == 0u) {
    var centre = 0.0;
    if ((params.flags & CENTER) != 0u) {
      centre = tot.y / f32(D);
    }
    var score = scale[p] * (tot.x - centre * tot.z);
    if (hasBeta && m == params.rest) {
      score += tot.w;
    }
    out[params.o0 + i * params.ldo + m] = score;
  }
}
