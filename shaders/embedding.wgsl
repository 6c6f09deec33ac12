// Embedding row gather: out[t, d] = table[(ids[t] - row0) * D + d] (+ out[t, d] with ACCUMULATE) for
// the positions whose id lies in this table chunk [row0, row0 + rows); other positions are left
// alone. Tables larger than one binding are split by rows and gathered chunk by chunk; learned
// position embeddings are the same gather with ids = 0..T-1 and ACCUMULATE.
//
// Bindings (group 0): 0 table array<vec4<u32>>, read   rows of D elements in the file dtype
//                                                      (f32 one per u32, f16/bf16 two per u32)
//                     1 ids   array<u32>, read         [T]
//                     2 out   array<f32>, read_write   [T, D]
//                     3 params uniform Params
// Dispatch: (ceil(D / 64), T); workgroup 64, one element per invocation.
// Precision: exact (f16/bf16 expand to f32 without rounding).

override W_DTYPE: u32 = 0u; // 0 f32, 1 f16, 2 bf16

const ACCUMULATE = 1u;

struct Params {
  T: u32,
  D: u32,
  row0: u32,
  rows: u32,
  flags: u32,
}

@group(0) @binding(0) var<storage, read> table: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

fn wAt(e: u32) -> f32 {
  if (W_DTYPE == 0u) {
    return bitcast<f32>(table[e >> 2u][e & 3u]);
  }
  let word = table[e >> 3u][(e >> 1u) & 3u];
  if (W_DTYPE == 1u) {
    return unpack2x16float(word)[e & 1u];
  }
  return bitcast<f32>(select(word << 16u, word & 0xffff0000u, (e & 1u) == 1u));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d = gid.x;
  let t = gid.y;
  if (d >= params.D || t >= params.T) {
    return;
  }
  let id = ids[t];
  if (id < params.row0 || id >= params.row0 + params.rows) {
    return;
  }
  var v = wAt((id - params.row0) * params.D + d);
  if ((params.flags & ACCUMULATE) != 0u) {
    v += out[t * params.D + d];
  }
  out[t * params.D + d] = v;
}
