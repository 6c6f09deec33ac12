// Tiled matrix product, the engine's workhorse:
//   Y[b, r, n] = alpha * sum_k X[b, r, k] * W[b, n, k]  (* scale[r])  (+ bias[bias0 + n])  (+ Y[b, r, n])
// for virtual rows i < R (row r = rows[i] with ROW_MAP, else r = i), columns n < N, batch b.
// Element (b, r, k) of X is at x0 + b*xb + r*ldx + k; (b, n, k) of W at w0 + b*wb + n*ldw + k;
// (b, r, n) of Y at y0 + b*yb + r*ldy + n. Rows are components x positions: row r belongs to
// block r / T, and with biasBlock >= 0 the bias goes to that block's rows only (the rest component).
//
// Prelude: the weights (binding 1 and how they are read and multiplied): weights_expanded.wgsl
// (any file dtype, f32 products; kernel `matmul`) or weights_f16.wgsl (f16 products; `matmul_f16`).
// Bindings (group 0): 0 X    array<vec4<f32>>, read      activations
//                     1 W    (the prelude's)             weights
//                     2 bias array<f32>, read
//                     3 scale array<f32>, read           per-row scale, indexed by row r
//                     4 rows array<u32>, read            row map (skips structurally zero rows)
//                     5 Y    array<f32>, read_write
//                     6 params uniform Params
// Dispatch: (ceil(N / TN), ceil(R / TM), batch); WX x WY invocations, WX along columns, each
// computing an RR x RC block of outputs; the workgroup's tile is TM = WY RR rows by TN = WX RC
// columns, and it walks K in slices of TK, both operands staged in workgroup memory (tile_t).
// The tile shape is all overrides (src/gpu/tiles.ts lists the shapes and picks one per product and
// device: 64 x 64 tiles, 128 x 128, 128 x 256 or 256 x 256 where the device allows 512 or 1024
// invocations, 16 or 32 x 256 for few rows). (RR, RC) is (4, 4), (8, 4) or (8, 8).
// Precision: sums in f32; products as the prelude says.
// Variants: the tile overrides shape the inner loop and the registers, and W_DTYPE (expanded path)
// is one per model. The rest are uniform branches outside the inner loop: vec4 loads in the tile
// loader (once per K slice), the epilogue options once per output.

override WX: u32 = 16u; // invocations along columns
override WY: u32 = 16u; // invocations along rows
override RR: u32 = 4u; // rows of one invocation's block
override RC: u32 = 4u; // columns of one invocation's block
override TK: u32 = 16u; // K slice (a multiple of 4)
override TM: u32 = WY * RR; // tile rows
override TN: u32 = WX * RC; // tile columns
override NI: u32 = WX * WY; // invocations
override XV: u32 = TK * TM / 4u; // vec4s of the X tile
override WV: u32 = TK * TN / 4u; // vec4s of the W tile
override XP: u32 = (XV + NI - 1u) / NI; // X vec4s each invocation loads per K slice (at most MAXP)
override WP: u32 = (WV + NI - 1u) / NI; // W vec4s likewise

const HAS_BIAS = 1u;
const ROW_SCALE = 2u;
const ROW_MAP = 4u;
const ACCUMULATE = 8u;
const VEC4 = 16u; // K, x0, ldx, xb, w0, ldw, wb all multiples of 4: load X and W as vec4
const MAXP = 4u; // vec4 loads per invocation, operand and K slice (tiles.ts keeps within it)

struct Params {
  R: u32,
  N: u32,
  K: u32,
  T: u32,
  x0: u32,
  ldx: u32,
  xb: u32,
  w0: u32,
  ldw: u32,
  wb: u32,
  y0: u32,
  ldy: u32,
  yb: u32,
  bias0: u32,
  biasBlock: i32,
  alpha: f32,
  flags: u32,
}

@group(0) @binding(0) var<storage, read> X: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> rows: array<u32>;
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

// Tiles stored k-major so the inner loop reads four rows (or four columns) as one vec4:
// xs[k * TM/4 + i/4][i % 4] = X[row i of the tile, k0 + k], ws[k * TN/4 + n/4][n % 4] likewise for W.
var<workgroup> xs: array<vec4<tile_t>, XV>;
var<workgroup> ws: array<vec4<tile_t>, WV>;

fn xAt(e: u32) -> f32 {
  return X[e >> 2u][e & 3u];
}

fn has(flag: u32) -> bool {
  return (params.flags & flag) != 0u;
}

fn rowOf(i: u32) -> u32 {
  if (has(ROW_MAP)) {
    return rows[i];
  }
  return i;
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let b = wg.z;
  let n0 = wg.x * TN;
  let i0 = wg.y * TM;

  // Loading: vec4s along k. Invocation li brings vec4s li, li + NI, ... of each tile (while there
  // are any); vec4 e of a tile is tile row (or column) e / (TK/4), k offset 4 (e % (TK/4)).
  var xrow: array<u32, MAXP>;
  var xk: array<u32, MAXP>;
  var xok: array<bool, MAXP>;
  var xbase: array<u32, MAXP>;
  var wrow: array<u32, MAXP>;
  var wk: array<u32, MAXP>;
  var wok: array<bool, MAXP>;
  var wbase: array<u32, MAXP>;
  for (var p = 0u; p < MAXP; p++) {
    let e = li + NI * p;
    xrow[p] = e / (TK / 4u);
    xk[p] = (e % (TK / 4u)) * 4u;
    let xi = i0 + xrow[p];
    xok[p] = e < XV && xi < params.R;
    if (xok[p]) {
      xbase[p] = params.x0 + b * params.xb + rowOf(xi) * params.ldx;
    }
    wrow[p] = e / (TK / 4u);
    wk[p] = (e % (TK / 4u)) * 4u;
    wok[p] = e < WV && n0 + wrow[p] < params.N;
    wbase[p] = params.w0 + b * params.wb + (n0 + wrow[p]) * params.ldw;
  }

  // acc[8 * cb + r]: row r of the block, columns 4 cb .. 4 cb + 3 (r >= 4 with RR = 8, cb = 1 with RC = 8).
  var acc: array<vec4<f32>, 16>;
  let ax = lid.y * (RR / 4u);
  let wx = lid.x * (RC / 4u);
  for (var k0 = 0u; k0 < params.K; k0 += TK) {
    for (var p = 0u; p < XP; p++) {
      if (li + NI * p < XV) {
        let k = k0 + xk[p];
        var xv = vec4<f32>(0.0);
        if (has(VEC4)) {
          if (k < params.K && xok[p]) {
            xv = X[(xbase[p] + k) >> 2u];
          }
        } else {
          for (var c = 0u; c < 4u; c++) {
            if (k + c < params.K && xok[p]) {
              xv[c] = xAt(xbase[p] + k + c);
            }
          }
        }
        let xt = tileOf(xv);
        let idx = xk[p] * (TM / 4u) + (xrow[p] >> 2u);
        for (var c = 0u; c < 4u; c++) {
          xs[idx + c * (TM / 4u)][xrow[p] & 3u] = xt[c];
        }
      }
    }
    for (var p = 0u; p < WP; p++) {
      if (li + NI * p < WV) {
        let k = k0 + wk[p];
        var wv = vec4<tile_t>(0.0);
        if (has(VEC4)) {
          if (k < params.K && wok[p]) {
            wv = w4At(wbase[p] + k);
          }
        } else {
          for (var c = 0u; c < 4u; c++) {
            if (k + c < params.K && wok[p]) {
              wv[c] = wAt(wbase[p] + k + c);
            }
          }
        }
        let idx = wk[p] * (TN / 4u) + (wrow[p] >> 2u);
        for (var c = 0u; c < 4u; c++) {
          ws[idx + c * (TN / 4u)][wrow[p] & 3u] = wv[c];
        }
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a0 = xs[kk * (TM / 4u) + ax];
      let w0 = ws[kk * (TN / 4u) + wx];
      acc[0] = madd(acc[0], a0.x, w0);
      acc[1] = madd(acc[1], a0.y, w0);
      acc[2] = madd(acc[2], a0.z, w0);
      acc[3] = madd(acc[3], a0.w, w0);
      if (RR == 8u) {
        let a1 = xs[kk * (TM / 4u) + ax + 1u];
        acc[4] = madd(acc[4], a1.x, w0);
        acc[5] = madd(acc[5], a1.y, w0);
        acc[6] = madd(acc[6], a1.z, w0);
        acc[7] = madd(acc[7], a1.w, w0);
        if (RC == 8u) {
          let w1 = ws[kk * (TN / 4u) + wx + 1u];
          acc[8] = madd(acc[8], a0.x, w1);
          acc[9] = madd(acc[9], a0.y, w1);
          acc[10] = madd(acc[10], a0.z, w1);
          acc[11] = madd(acc[11], a0.w, w1);
          acc[12] = madd(acc[12], a1.x, w1);
          acc[13] = madd(acc[13], a1.y, w1);
          acc[14] = madd(acc[14], a1.z, w1);
          acc[15] = madd(acc[15], a1.w, w1);
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < RR; i++) {
    let vi = i0 + lid.y * RR + i;
    if (vi >= params.R) {
      break;
    }
    let r = rowOf(vi);
    var s = params.alpha;
    if (has(ROW_SCALE)) {
      s *= scale[r];
    }
    let biasHere = has(HAS_BIAS) && (params.biasBlock < 0 || i32(r / params.T) == params.biasBlock);
    let ybase = params.y0 + b * params.yb + r * params.ldy;
    for (var c = 0u; c < RC; c++) {
      let n = n0 + lid.x * RC + c;
      if (n >= params.N) {
        break;
      }
      var y = acc[8u * (c / 4u) + i][c % 4u] * s;
      if (biasHere) {
        y += bias[params.bias0 + n];
      }
      if (has(ACCUMULATE)) {
        y += Y[ybase + n];
      }
      Y[ybase + n] = y;
    }
  }
}
