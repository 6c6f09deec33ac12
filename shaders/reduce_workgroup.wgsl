// Workgroup-wide reductions through workgroup memory (a tree with a barrier per level): a prelude,
// joined before the kernels that reduce one row per workgroup (norm statistics, per-head norms,
// the attention softmax, the read-out, top-k). reduce_subgroups.wgsl offers the same functions
// through subgroup operations; the kernel cache picks one per device (KernelVariants.subgroups).
//
// Needs from the kernel: `const WG: u32`, its workgroup size (a power of two, at most 1024).
// Every function must be called by every invocation of the workgroup (uniform control flow), with
// lid = local_invocation_index, and returns the workgroup's result to every invocation:
//   groupSum(lid, v: f32) -> f32
//   groupSum4(lid, v: vec4<f32>) -> vec4<f32>
//   groupMax(lid, v: f32) -> f32
//   groupBest(lid, v: f32, id: u32) -> vec2<u32>  the largest v, ties to the lowest id: (bits of v, id)
// Precision: f32 sums in a fixed tree order; max and best are exact.

var<workgroup> red4: array<vec4<f32>, WG>;
var<workgroup> redId: array<u32, WG>;

fn groupSum4(lid: u32, v: vec4<f32>) -> vec4<f32> {
  red4[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red4[lid] += red4[lid + s];
    }
    workgroupBarrier();
  }
  let total = red4[0];
  workgroupBarrier();
  return total;
}

fn groupSum(lid: u32, v: f32) -> f32 {
  return groupSum4(lid, vec4<f32>(v, 0.0, 0.0, 0.0)).x;
}

fn groupMax(lid: u32, v: f32) -> f32 {
  red4[lid].x = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red4[lid].x = max(red4[lid].x, red4[lid + s].x);
    }
    workgroupBarrier();
  }
  let m = red4[0].x;
  workgroupBarrier();
  return m;
}

fn groupBest(lid: u32, v: f32, id: u32) -> vec2<u32> {
  red4[lid].x = v;
  redId[lid] = id;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let w = red4[lid + s].x;
      let wid = redId[lid + s];
      if (w > red4[lid].x || (w == red4[lid].x && wid < redId[lid])) {
        red4[lid].x = w;
        redId[lid] = wid;
      }
    }
    workgroupBarrier();
  }
  let best = vec2<u32>(bitcast<u32>(red4[0].x), redId[0]);
  workgroupBarrier();
  return best;
}
