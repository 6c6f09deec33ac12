// Causal attention probabilities, recorded for the decomposed pass:
//   A[h, i, j] = softmax_{j visible from i}(cap(q[i, h] . k[j, g(h)] * scale)),  0 elsewhere,
// where query head h reads key head g(h) = h / (H / Hkv) (grouped-query attention); cap(s) =
// softcap * tanh(s / softcap) when softcap > 0 (Gemma 2), else s; the visible keys are j <= i, and
// with a sliding window W > 0 only i - W < j <= i (W keys counting the query itself).
// One workgroup per (query position i, head h): raw scores are written to A, then the row's max
// and sum are reduced across the workgroup and the row is normalised in place.
//
// Bindings (group 0): 0 q array<f32>, read          [T, H, dh] (after q norm and RoPE)
//                     1 k array<f32>, read          [T, Hkv, dh]
//                     2 A array<f32>, read_write    [H, T, T]
//                     3 params uniform Params
// Dispatch: (T, H); workgroup 64.
// Prelude: reduce (groupMax, groupSum), through workgroup memory or subgroups.
// Precision: f32 dot products, max-subtracted exp, f32 sum.

struct Params {
  T: u32,
  H: u32,
  Hkv: u32,
  dh: u32,
  scale: f32, // 1 / sqrt(dh) usually; 1 / sqrt(query_pre_attn_scalar) (Gemma 2, 3); 1 (GPT-Neo)
  softcap: f32, // 0: none
  window: u32, // 0: none
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read_write> A: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const WG = 64u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wg.x;
  let h = wg.y;
  let T = params.T;
  let dh = params.dh;
  let g = h / (params.H / params.Hkv);
  let qo = (i * params.H + h) * dh;
  let row = (h * T + i) * T;
  var j0 = 0u;
  if (params.window > 0u && i + 1u > params.window) {
    j0 = i + 1u - params.window;
  }

  var m = bitcast<f32>(0xff7fffffu);
  for (var j = j0 + lid; j <= i; j += WG) {
    let ko = (j * params.Hkv + g) * dh;
    var dot = 0.0;
    for (var e = 0u; e < dh; e++) {
      dot += q[qo + e] * k[ko + e];
    }
    var s = dot * params.scale;
    if (params.softcap > 0.0) {
      s = params.softcap * tanh(s / params.softcap);
    }
    A[row + j] = s;
    m = max(m, s);
  }
  m = groupMax(lid, m);

  var sum = 0.0;
  for (var j = j0 + lid; j <= i; j += WG) {
    let p = exp(A[row + j] - m);
    A[row + j] = p;
    sum += p;
  }
  sum = groupSum(lid, sum);

  for (var j = lid; j < T; j += WG) {
    if (j >= j0 && j <= i) {
      A[row + j] = A[row + j] / sum;
    } else {
      A[row + j] = 0.0;
    }
  }
}
