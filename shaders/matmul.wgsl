// Tiled matrix product, the engine's workhorse:
//   Y[b, r, n] = alpha * sum_k X[b, r, k] * W[b, n, k]  (* scale[r])  (+ bias[bias0 + n])  (+ Y[b, r, n])
// for virtual rows i < R (row r = rows[i] with ROW_MAP, else r = i), columns n < N, batch b.
// Element (b, r, k) of X is at x0 + b*xb + r*ldx + k; (b, n, k) of W at w0 + b*wb + n*ldw + k;
// (b, r, n) of Y at y0 + b*yb + r*ldy + n. Rows are components x positions: row r belongs to
// block r / T, and with biasBlock >= 0 the bias goes to that block's rows only (the rest component).
//
// Bindings (group 0): 0 X    array<vec4<f32>>, read      activations
//                     1 W    array<vec4<u32>>, read      weights in their file dtype: f32 one per u32,
//                                                        f16/bf16 two per u32 (element 2i in the low half)
//                     2 bias array<f32>, read
//                     3 scale array<f32>, read           per-row scale, indexed by row r
//                     4 rows array<u32>, read            row map (skips structurally zero rows)
//                     5 Y    array<f32>, read_write
//                     6 params uniform Params
// Dispatch: (ceil(N / 64), ceil(R / 64), batch); workgroup 16 x 16, each invocation a 4 x 4 block
// of a 64 x 64 output tile; K is walked in slices of 16 through workgroup memory.
// Precision: f32 products and sums; f16/bf16 weights are expanded to f32 exactly.
// Variants: overrides for what shapes the inner loop (weight dtype, vec4 loads); the epilogue
// options are bits of params.flags (uniform branches), which keeps the number of pipelines small.

override W_DTYPE: u32 = 0u; // 0 f32, 1 f16, 2 bf16
override VEC4: bool = false; // K, x0, ldx, xb, w0, ldw, wb all multiples of 4: load X and W as vec4

const HAS_BIAS = 1u;
const ROW_SCALE = 2u;
const ROW_MAP = 4u;
const ACCUMULATE = 8u;

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
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> rows: array<u32>;
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

const TM = 64u;
const TN = 64u;
const TK = 16u;

// Tiles stored k-major so the inner loop reads four rows (or four columns) as one vec4:
// xs[k * TM/4 + i/4][i % 4] = X[row i of the tile, k0 + k], ws likewise for W.
var<workgroup> xs: array<vec4<f32>, 256>; // TK * TM / 4
var<workgroup> ws: array<vec4<f32>, 256>; // TK * TN / 4

fn xAt(e: u32) -> f32 {
  return X[e >> 2u][e & 3u];
}

fn wAt(e: u32) -> f32 {
  if (W_DTYPE == 0u) {
    return bitcast<f32>(W[e >> 2u][e & 3u]);
  }
  let word = W[e >> 3u][(e >> 1u) & 3u];
  if (W_DTYPE == 1u) {
    return unpack2x16float(word)[e & 1u];
  }
  return bitcast<f32>(select(word << 16u, word & 0xffff0000u, (e & 1u) == 1u));
}

// Four consecutive weights from an element index that is a multiple of 4.
fn w4At(e: u32) -> vec4<f32> {
  if (W_DTYPE == 0u) {
    return bitcast<vec4<f32>>(W[e >> 2u]);
  }
  let q = W[e >> 3u];
  let pair = select(q.xy, q.zw, (e & 4u) != 0u);
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

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let b = wg.z;
  let n0 = wg.x * TN;
  let i0 = wg.y * TM;

  // Loading: invocation li brings row (li / 4) of each tile, k offsets 4 * (li % 4) .. +3.
  let lrow = li >> 2u;
  let lk = (li & 3u) * 4u;
  let xi = i0 + lrow;
  let xok = xi < params.R;
  var xbase = 0u;
  if (xok) {
    xbase = params.x0 + b * params.xb + rowOf(xi) * params.ldx;
  }
  let wn = n0 + lrow;
  let wok = wn < params.N;
  let wbase = params.w0 + b * params.wb + wn * params.ldw;
  let sIdx = lk * (TM / 4u) + (lrow >> 2u);
  let sLane = lrow & 3u;

  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < params.K; k0 += TK) {
    let k = k0 + lk;
    var xv = vec4<f32>(0.0);
    var wv = vec4<f32>(0.0);
    if (VEC4) {
      if (k < params.K) {
        if (xok) {
          xv = X[(xbase + k) >> 2u];
        }
        if (wok) {
          wv = w4At(wbase + k);
        }
      }
    } else {
      for (var c = 0u; c < 4u; c++) {
        if (k + c < params.K) {
          if (xok) {
            xv[c] = xAt(xbase + k + c);
          }
          if (wok) {
            wv[c] = wAt(wbase + k + c);
          }
        }
      }
    }
    for (var c = 0u; c < 4u; c++) {
      xs[sIdx + c * (TM / 4u)][sLane] = xv[c];
      ws[sIdx + c * (TN / 4u)][sLane] = wv[c];
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a = xs[kk * (TM / 4u) + lid.y];
      let w = ws[kk * (TN / 4u) + lid.x];
      acc[0] += a.x * w;
      acc[1] += a.y * w;
      acc[2] += a.z * w;
      acc[3] += a.w * w;
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let vi = i0 + lid.y * 4u + i;
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
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + lid.x * 4u + c;
      if (n >= params.N) {
        break;
      }
      var y = acc[i][c] * s;
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
