// Frozen attention mixing for M components at once (the decomposed attention):
//   y[m, q, h, :] = sum_{k = start[m]}^{q} A[h, q, k] * v[m, k, g(h), :],   g(h) = h / (H / Hkv)
// for q >= start[m]; rows q < start[m] are structurally zero and neither computed nor written,
// and keys below start[m] are never read (token mode's triangle). With M = 1 and start 0 this is
// the normal forward pass's A x V.
// Work split: the dh columns form cg = ceil(dh / 4) groups of four; invocation i of the 64 owns
// column group i % cg and query rows slot, slot + S, slot + 2S, slot + 3S of the workgroup's tile,
// slot = i / cg, S = min(32, floor(64 / cg)); a workgroup covers BQ = 4 S queries of one (component, head),
// so the work per invocation is a 4 x 4 block whatever dh is. Keys are walked in slices of 8
// through workgroup memory (12 KiB), only up to the tile's last query.
//
// Bindings (group 0): 0 A     array<f32>, read         [H, T, T]
//                     1 v     array<f32>, read         [M, T, Hkv, dh]
//                     2 start array<u32>, read         [M]
//                     3 y     array<f32>, read_write   [M, T, H, dh]
//                     4 params uniform Params          (cg and S as above; dh <= 256)
// Dispatch: (ceil(T / (4 S)), H, M); workgroup 64.
// Precision: f32 products and sums.

struct Params {
  M: u32,
  T: u32,
  H: u32,
  Hkv: u32,
  dh: u32,
  cg: u32,
  S: u32,
}

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read> start: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const WG = 64u;
const BK = 8u;

var<workgroup> aTile: array<f32, 1024>; // [BQ, BK], BQ = 4 S <= 128
var<workgroup> vTile: array<vec4<f32>, 512>; // [BK, cg], cg <= 64

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wg.y;
  let m = wg.z;
  let T = params.T;
  let dh = params.dh;
  let cg = params.cg;
  let S = params.S;
  let BQ = 4u * S;
  let q0 = wg.x * BQ;
  let st = start[m];
  if (q0 + BQ <= st || q0 >= T) {
    return; // the whole tile is structurally zero (uniform across the workgroup)
  }
  let g = h / (params.H / params.Hkv);
  let qEnd = min(T, q0 + BQ);
  let col = lid % cg; // columns 4 col .. 4 col + 3
  let slot = lid / cg; // rows slot + S i of the tile; idle when slot >= S
  let vBase = g * dh;
  let vStride = params.Hkv * dh;

  var acc: array<vec4<f32>, 4>;
  for (var k0 = st; k0 < qEnd; k0 += BK) {
    for (var idx = lid; idx < BQ * BK; idx += WG) {
      let q = q0 + idx / BK;
      let k = k0 + idx % BK;
      var a = 0.0;
      if (q < T && k <= q) {
        a = A[(h * T + q) * T + k];
      }
      aTile[idx] = a;
    }
    for (var idx = lid; idx < BK * cg; idx += WG) {
      let k = k0 + idx / cg;
      let e = (idx % cg) * 4u;
      var val = vec4<f32>(0.0);
      if (k < qEnd) {
        let o = (m * T + k) * vStride + vBase + e;
        for (var c = 0u; c < 4u; c++) {
          if (e + c < dh) {
            val[c] = v[o + c];
          }
        }
      }
      vTile[idx] = val;
    }
    workgroupBarrier();
    if (slot < S) {
      for (var kk = 0u; kk < BK; kk++) {
        let vv = vTile[kk * cg + col];
        acc[0] += aTile[slot * BK + kk] * vv;
        acc[1] += aTile[(slot + S) * BK + kk] * vv;
        acc[2] += aTile[(slot + 2u * S) * BK + kk] * vv;
        acc[3] += aTile[(slot + 3u * S) * BK + kk] * vv;
      }
    }
    workgroupBarrier();
  }

  if (slot >= S) {
    return;
  }
  for (var i = 0u; i < 4u; i++) {
    let q = q0 + slot + i * S;
    if (q < st || q >= T) {
      continue;
    }
    let o = ((m * T + q) * params.H + h) * dh + col * 4u;
    for (var c = 0u; c < 4u; c++) {
      if (col * 4u + c < dh) {
        y[o + c] = acc[i][c];
      }
    }
  }
}
