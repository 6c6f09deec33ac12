// The weights of matmul.wgsl in their file dtype, expanded to f32 in registers; products in f32.
// A prelude: joined before matmul.wgsl for the `matmul` kernel (every device, every dtype).
// weights_f16.wgsl is the native 16-bit variant.
//
// Binding 1: W array<vec2<u32>>, read   f32 one per u32; f16/bf16 two per u32 (element 2i in the low
//                                       half); vec2 so that four 16-bit weights are one 8-byte load
// Offers matmul.wgsl: tile_t (the element type of the workgroup tiles), wAt(e) and w4At(e) (weight
// element e, and elements e..e+3 for e a multiple of 4), tileOf(x) (activations into tile_t),
// madd(acc, a, w) = acc + a * w with the product in tile_t and the sum in f32.
// Precision: exact expansion (every f16 and bf16 is an f32); f32 products and sums.

override W_DTYPE: u32 = 0u; // 0 f32, 1 f16, 2 bf16

alias tile_t = f32;

@group(0) @binding(1) var<storage, read> W: array<vec2<u32>>;

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

fn tileOf(x: vec4<f32>) -> vec4<f32> {
  return x;
}

fn madd(acc: vec4<f32>, a: f32, w: vec4<f32>) -> vec4<f32> {
  return acc + a * w;
}
