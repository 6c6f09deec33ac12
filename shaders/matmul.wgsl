// Tiled matrix product, the engine's workhorse:
//   Y[b, r, n] = alpha * sum_k X[b, r, k] * W[b, n, k]  (* scale[r])  (+ bias[bias0 + n])  (+ Y[b, r, n])
// for virtual rows i < R (row r = rows[i] with ROW_MAP, else r = i), columns n < N, batch b.
// Element (b, r, k) of X is at x0 + b*xb + r*ldx + k; (b, n, k) of W at w0 + b*wb + n*ldw + k;
// (b, r, n) of Y at y0 + b*yb + r*ldy + n. Rows are components x positions: row r belongs to
// block r / T, and with biasBlock >= 0 the bias goes to that block's rows only (the rest component).
//
// Bindings (group 0): 0 X    array<vec4<f32>>, read      activations
//                     1 W    array<vec2<u32>>, read      weights in their file dtype: f32 one per u32,
//                                                        f16/bf16 two per u32 (element 2i in the low half);
//                                                        vec2 so that four 16-bit weights are one 8-byte load
//                     2 bias array<f32>, read
//                     3 scale array<f32>, read           per-row scale, indexed by row r
//                     4 rows array<u32>, read            row map (skips structurally zero rows)
//                     5 Y    array<f32>, read_write
//                     6 params uniform Params
// Dispatch: (ceil(N / TN), ceil(R / TM), batch); 256 invocations, WX along columns by WY along
// rows. Three tile shapes:
//   default  TM = TN = 64,  TK = 16, 16 x 16 invocations, each a 4 x 4 block of outputs;
//   LARGE    TM = TN = 128, TK = 8,  16 x 16 invocations, each an 8 x 8 block (more reuse per
//            load, for large products; fewer workgroups, so not for small ones);
//   THIN     TM = 16, TN = 256, TK = 8, 64 x 4 invocations, each a 4 x 4 block;
//   THIN32   TM = 32, TN = 256, TK = 8, 64 x 4 invocations, each an 8 x 4 block (8 rows);
//            the thin tiles are for few rows (a short prompt's forward pass), where 64-row tiles
//            would mostly multiply padding; 2048 elements of W per K slice (two loads per
//            invocation) for as much work per barrier as workgroup memory allows.
// Precision: f32 products and sums; f16/bf16 weights are expanded to f32 exactly.
// Variants: overrides for the tile shape (it shapes the inner loop and the registers) and the
// weight dtype (one per model, and the loader's hottest branch). The rest are uniform branches
// outside the inner loop: vec4 loads in the tile loader (once per K slice), the epilogue options
// once per output. Few pipelines keep compilation cheap where it is slow (software adapters
// compile for seconds).

override W_DTYPE: u32 = 0u; // 0 f32, 1 f16, 2 bf16
override SHAPE: u32 = 0u; // tile shape: 0 default, 1 LARGE, 2 THIN, 3 THIN32

const HAS_BIAS = 1u;
const ROW_SCALE = 2u;
const ROW_MAP = 4u;
const ACCUMULATE = 8u;
const VEC4 = 16u; // K, x0, ldx, xb, w0, ldw, wb all multiples of 4: load X and W as vec4

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
@group(0) @binding(1) var<storage, read> W: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> rows: array<u32>;
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

override RR: u32 = select(4u, 8u, SHAPE == 1u || SHAPE == 3u); // rows of the block of one invocation
override RC: u32 = select(4u, 8u, SHAPE == 1u); // columns of the block of one invocation
override WX: u32 = select(16u, 64u, SHAPE >= 2u); // invocations along columns
override WY: u32 = 256u / WX; // invocations along rows
override TM: u32 = WY * RR; // tile rows
override TN: u32 = WX * RC; // tile columns
override TK: u32 = select(1024u / TN, 8u, SHAPE >= 2u); // K slice
override WP: u32 = TK * TN / 1024u; // vec4 loads of W per invocation and K slice (1 or 2)

// Tiles stored k-major so the inner loop reads four rows (or four columns) as one vec4:
// xs[k * TM/4 + i/4][i % 4] = X[row i of the tile, k0 + k], ws[k * TN/4 + n/4][n % 4] likewise for W.
var<workgroup> xs: array<vec4<f32>, 256>; // TK * TM / 4 (32 with THIN, 64 with THIN32)
var<workgroup> ws: array<vec4<f32>, 512>; // TK * TN / 4 (256 but with the thin tiles)

fn xAt(e: u32) -> f32 {
  return X[e >> 2u][e & 3u];
}

fn wAt(e: u32) -> f32 {
  if (W_DTYPE == 0u) {
    return bitcast<f32>(W[e >> 1u][e & 1u]);
  }
  let word = W[e >> 2u][(e >> 1u) & 1u];
  if (W_DTYPE == 1u) {
    return unpack2x16float(word)[e & 1u];
  }
  return bitcast<f32>(select(word << 16u, word & 0xffff0000u, (e & 1u) == 1u));
}

// Four consecutive weights from an element index that is a multiple of 4.
fn w4At(e: u32) -> vec4<f32> {
  if (W_DTYPE == 0u) {
    return bitcast<vec4<f32>>(vec4<u32>(W[e >> 1u], W[(e >> 1u) + 1u]));
  }
  let pair = W[e >> 2u];
  if (W_DTYPE == 1u) {
    return vec4<f32>(unpack2x16float(pair.x), unpack2x16float(pair.y));
  }
  return bitcast<vec4<f32>>(vec4<u32>(pair.x << 16u, pair.x & 0xffff0000u, pair.y << 16u, pair.y & 0xffff0000u));
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

  // Loading: vec4s along k. Invocation li brings vec4 li of the X tile (while there is one: all
  // 256 but with the thin tiles) and vec4s li, li + 256.. (WP of them) of the W tile; vec4 e of a tile is
  // row e / (TK/4), k offset 4 (e % (TK/4)).
  let xrow = li / (TK / 4u);
  let xk = (li % (TK / 4u)) * 4u;
  let xload = xrow < TM;
  let xi = i0 + xrow;
  let xok = xload && xi < params.R;
  var xbase = 0u;
  if (xok) {
    xbase = params.x0 + b * params.xb + rowOf(xi) * params.ldx;
  }
  let xIdx = xk * (TM / 4u) + (xrow >> 2u);
  var wrow: array<u32, 2>;
  var wk: array<u32, 2>;
  var wok: array<bool, 2>;
  var wbase: array<u32, 2>;
  for (var p = 0u; p < WP; p++) {
    let e = li + 256u * p;
    wrow[p] = e / (TK / 4u);
    wk[p] = (e % (TK / 4u)) * 4u;
    wok[p] = n0 + wrow[p] < params.N;
    wbase[p] = params.w0 + b * params.wb + (n0 + wrow[p]) * params.ldw;
  }

  // acc[8 * cb + r]: row r of the block, columns 4 cb .. 4 cb + 3 (r >= 4 with RR = 8, cb = 1 with RC = 8).
  var acc: array<vec4<f32>, 16>;
  let ax = lid.y * (RR / 4u);
  let wx = lid.x * (RC / 4u);
  for (var k0 = 0u; k0 < params.K; k0 += TK) {
    if (xload) {
      let k = k0 + xk;
      var xv = vec4<f32>(0.0);
      if (has(VEC4)) {
        if (k < params.K && xok) {
          xv = X[(xbase + k) >> 2u];
        }
      } else {
        for (var c = 0u; c < 4u; c++) {
          if (k + c < params.K && xok) {
            xv[c] = xAt(xbase + k + c);
          }
        }
      }
      for (var c = 0u; c < 4u; c++) {
        xs[xIdx + c * (TM / 4u)][xrow & 3u] = xv[c];
      }
    }
    for (var p = 0u; p < WP; p++) {
      let k = k0 + wk[p];
      var wv = vec4<f32>(0.0);
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
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a0 = xs[kk * (TM / 4u) + ax];
      let w0 = ws[kk * (TN / 4u) + wx];
      acc[0] += a0.x * w0;
      acc[1] += a0.y * w0;
      acc[2] += a0.z * w0;
      acc[3] += a0.w * w0;
      if (RR == 8u) {
        let a1 = xs[kk * (TM / 4u) + ax + 1u];
        acc[4] += a1.x * w0;
        acc[5] += a1.y * w0;
        acc[6] += a1.z * w0;
        acc[7] += a1.w * w0;
        if (RC == 8u) {
          let w1 = ws[kk * (TN / 4u) + wx + 1u];
          acc[8] += a0.x * w1;
          acc[9] += a0.y * w1;
          acc[10] += a0.z * w1;
          acc[11] += a0.w * w1;
          acc[12] += a1.x * w1;
          acc[13] += a1.y * w1;
          acc[14] += a1.z * w1;
          acc[15] += a1.w * w1;
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
