// MLP activation, elementwise over [T, I]:
//   gated (Llama family): a = act(gate) * up        plain (GPT-2): a = act(gate)   (gate holds fc)
// act: 0 silu x / (1 + e^-x); 1 GELU tanh approximation; 2 exact GELU x * Phi(x).
//
// Bindings (group 0): 0 gate array<f32>, read          [n]
//                     1 up   array<f32>, read          [n] (gated only)
//                     2 a    array<f32>, read_write    [n]
//                     3 params uniform Params
// Dispatch: ceil(n / 64) workgroups as an (x, y) grid; workgroup 64.
// Precision: f32; tanh from exp of a non-positive argument (no overflow); erf from
// Abramowitz-Stegun 7.1.26 (absolute error below 1.5e-7), the same formula as its twin erf() in
// src/depass/ops.ts.

struct Params {
  n: u32,
  act: u32,
  gated: u32,
}

@group(0) @binding(0) var<storage, read> gate: array<f32>;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<storage, read_write> a: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

fn stableTanh(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

fn erf(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-ax * ax));
}

fn act(x: f32) -> f32 {
  switch (params.act) {
    case 0u: {
      return x / (1.0 + exp(-x));
    }
    case 1u: {
      return 0.5 * x * (1.0 + stableTanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    }
    default: {
      return 0.5 * x * (1.0 + erf(x * 0.7071067811865476));
    }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.x + wg.y * nwg.x) * 64u + lid;
  if (i >= params.n) {
    return;
  }
  var r = act(gate[i]);
  if (params.gated != 0u) {
    r *= up[i];
  }
  a[i] = r;
}
