// Rotary position embedding, rotate-half convention (Hugging Face), in place on q or k, over the
// first `rot` dims of each head (partial rotary; the rest pass through):
//   (x[t, h, i], x[t, h, i + rot/2]) <- (a cos - b sin, b cos + a sin),  a = x[t, h, i], b = x[t, h, i + rot/2]
// with cos/sin of position t's angle for frequency i read from a table the host computes in f64
// (GPU sin/cos are not accurate enough at large angles; scaled frequencies and magnitudes are the
// host's business too, see src/depass/rope.ts).
//
// Bindings (group 0): 0 table array<f32>, read          [2, T, rot/2]: cos block, then sin block
//                     1 x     array<f32>, read_write    [T, nh, dh]
//                     2 params uniform Params
// Dispatch: ceil(T * nh * rot/2 / 64) workgroups as an (x, y) grid; workgroup 64, one pair each.
// Precision: f32.

struct Params {
  T: u32,
  nh: u32,
  dh: u32,
  rot: u32,
}

@group(0) @binding(0) var<storage, read> table: array<f32>;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let half = params.rot / 2u;
  let n = (wg.x + wg.y * nwg.x) * 64u + lid;
  if (n >= params.T * params.nh * half) {
    return;
  }
  let i = n % half;
  let row = n / half; // t * nh + h
  let t = row / params.nh;
  let c = table[t * half + i];
  let s = table[(params.T + t) * half + i];
  let o = row * params.dh;
  let a = x[o + i];
  let b = x[o + i + half];
  x[o + i] = a * c - b * s;
  x[o + i + half] = b * c + a * s;
}
