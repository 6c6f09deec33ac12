// Strided scaled add over a [R, C] block: y[y0 + r*ldy + c] = alpha * x[x0 + r*ldx + c] + beta * y[...]
// (y is not read when beta == 0, x not when alpha == 0). ldx = 0 broadcasts one row of x (a bias)
// to every row. Used to remove a bias from recorded values, to zero ablated heads and neurons
// (alpha = beta = 0) and for the component builders' remainders.
//
// Bindings (group 0): 0 x array<f32>, read         1 y array<f32>, read_write       2 params uniform Params
// Dispatch: ceil(R * C / 64) workgroups as an (x, y) grid; workgroup 64.
// Precision: f32.

struct Params {
  R: u32,
  C: u32,
  x0: u32,
  ldx: u32,
  y0: u32,
  ldy: u32,
  alpha: f32,
  beta: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.x + wg.y * nwg.x) * 64u + lid;
  if (i >= params.R * params.C) {
    return;
  }
  let r = i / params.C;
  let c = i % params.C;
  let e = params.y0 + r * params.ldy + c;
  var val = 0.0;
  if (params.alpha != 0.0) {
    val = params.alpha * x[params.x0 + r * params.ldx + c];
  }
  if (params.beta != 0.0) {
    val += params.beta * y[e];
  }
  y[e] = val;
}
