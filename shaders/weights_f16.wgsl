enable f16;

// The weights of matmul.wgsl read as f16 and multiplied as f16, with the sums in f32: the native
// 16-bit path for F16 checkpoints on devices with `shader-f16`. A prelude: joined before
// matmul.wgsl for the `matmul_f16` kernel. The workgroup tiles hold f16 (half the bytes of the
// expanded path), and each product of an activation and a weight is one f16 multiplication.
//
// Binding 1: W array<vec4<f16>>, read   the checkpoint's f16 elements as they are in the file
// Offers matmul.wgsl the same names as weights_expanded.wgsl: tile_t, wAt, w4At, tileOf, madd.
// Precision: activations rounded to f16 (clamped to its largest finite value, 65504), each product
// rounded to f16 (relative error up to 2^-11 each, so about 1e-3 on a product of two roundings;
// values below 6.1e-5 lose bits as f16 subnormals), sums in f32. src/depass/gemm.ts's f16 option
// rounds the same way; the engine's tolerances for this path are in docs/method.md.

alias tile_t = f16;

@group(0) @binding(1) var<storage, read> W: array<vec4<f16>>;

fn wAt(e: u32) -> f16 {
  return W[e >> 2u][e & 3u];
}

fn w4At(e: u32) -> vec4<f16> {
  return W[e >> 2u];
}

const F16_MAX = 65504.0;

fn tileOf(x: vec4<f32>) -> vec4<f16> {
  return vec4<f16>(clamp(x, vec4<f32>(-F16_MAX), vec4<f32>(F16_MAX)));
}

fn madd(acc: vec4<f32>, a: f16, w: vec4<f16>) -> vec4<f32> {
  return acc + vec4<f32>(a * w);
}
