// Frozen attention mixing for M components at once (the decomposed attention):
//   y[m, q, h, :] = sum_{k = start[m]}^{q} A[h, q, k] * v[m, k, g(h), :],   g(h) = h / (H / Hkv)
// for q >= start[m]; rows q < start[m] are structurally zero and neither computed nor written,
// and keys below start[m] are never read (token mode's triangle). With M = 1 and start 0 this is
// the normal forward pass's A x V.
// A workgroup owns 8 queries of one (component, head) and all dh columns (4 per invocation, so
// dh <= 256); keys are walked in tiles of 16 through workgroup memory, only up to the last query.
//
// Bindings (group 0): 0 A     array<f32>, read         [H, T, T]
//                     1 v     array<f32>, read         [M, T, Hkv, dh]
//                     2 start array<u32>, read         [M]
//                     3 y     array<f32>, read_write   [M, T, H, dh]
//                     4 params uniform Params
// Dispatch: (ceil(T / 8), H, M); workgroup 64.
// Precision: f32 products and sums.

struct Params {
  M: u32,
  T: u32,
  H: u32,
  Hkv: u32,
  dh: u32,
}

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read> start: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const WG = 64u;
const BQ = 8u;
const BK = 16u;
const MAX_DH = 256u;

var<workgroup> aTile: array<f32, 128>; // [BQ, BK]
var<workgroup> vTile: array<f32, 4096>; // [BK, dh], dh <= MAX_DH

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let q0 = wg.x * BQ;
  let h = wg.y;
  let m = wg.z;
  let T = params.T;
  let dh = params.dh;
  let st = start[m];
  if (q0 + BQ <= st || q0 >= T) {
    return; // the whole tile is structurally zero (uniform across the workgroup)
  }
  let g = h / (params.H / params.Hkv);
  let qEnd = min(T, q0 + BQ);

  var acc: array<vec4<f32>, 8>; // [BQ] x 4 columns: lid, lid + 64, lid + 128, lid + 192
  for (var k0 = max(st, 0u); k0 < qEnd; k0 += BK) {
    for (var idx = lid; idx < BQ * BK; idx += WG) {
      let q = q0 + idx / BK;
      let k = k0 + idx % BK;
      var a = 0.0;
      if (q < T && k <= q) {
        a = A[(h * T + q) * T + k];
      }
      aTile[idx] = a;
    }
    for (var idx = lid; idx < BK * dh; idx += WG) {
      let k = k0 + idx / dh;
      var val = 0.0;
      if (k < qEnd) {
        val = v[((m * T + k) * params.Hkv + g) * dh + idx % dh];
      }
      vTile[idx] = val;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var vv = vec4<f32>(0.0);
      for (var c = 0u; c < 4u; c++) {
        let e = lid + c * WG;
        if (e < dh) {
          vv[c] = vTile[kk * dh + e];
        }
      }
      for (var qq = 0u; qq < BQ; qq++) {
        acc[qq] += aTile[qq * BK + kk] * vv;
      }
    }
    workgroupBarrier();
  }

  for (var qq = 0u; qq < BQ; qq++) {
    let q = q0 + qq;
    if (q < st || q >= T) {
      continue;
    }
    let o = ((m * T + q) * params.H + h) * dh;
    for (var c = 0u; c < 4u; c++) {
      let e = lid + c * WG;
      if (e < dh) {
        y[o + e] = acc[qq][c];
      }
    }
  }
}
