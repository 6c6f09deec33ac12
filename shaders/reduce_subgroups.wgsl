enable subgroups;

// Workgroup-wide reductions through subgroup operations (device feature `subgroups`): each
// subgroup reduces its own values in registers, its lowest invocation leaves the result in a slot
// of workgroup memory, and every subgroup then reduces the slots; two barriers instead of one per
// tree level. The same functions as reduce_workgroup.wgsl (see there for the contract): groupSum,
// groupSum4, groupMax, groupBest.
//
// Needs from the kernel: `const WG: u32` (a power of two, at most 1024). Nothing depends on the
// subgroup size (4 to 128 invocations) or on how invocations are grouped into subgroups: the
// size and an invocation's place in its subgroup are counted, and a subgroup's slot is the lowest
// local_invocation_index among its invocations.
// Precision: f32 sums in an order the device chooses within a subgroup; max and best are exact.

var<workgroup> red4: array<vec4<f32>, WG>;
var<workgroup> redId: array<u32, WG>;

const MIN_SUBGROUP = 4u; // the smallest subgroup size WebGPU allows
const LOWEST_F32 = bitcast<f32>(0xff7fffffu); // the lowest finite f32
const NO_ID = 0xffffffffu;

// Slots i = lane, lane + size, ... of the WG slots this invocation reads in the second round.
fn slotOf(lane: u32, size: u32, j: u32) -> u32 {
  return lane + j * size;
}

fn groupSum4(lid: u32, v: vec4<f32>) -> vec4<f32> {
  let s = subgroupAdd(v);
  let lane = subgroupExclusiveAdd(1u);
  let size = subgroupAdd(1u);
  let first = subgroupMin(lid);
  red4[lid] = select(vec4<f32>(0.0), s, lid == first);
  workgroupBarrier();
  var acc = vec4<f32>(0.0);
  for (var j = 0u; j < WG / MIN_SUBGROUP; j++) {
    let i = slotOf(lane, size, j);
    if (i < WG) {
      acc += red4[i];
    }
  }
  let total = subgroupAdd(acc);
  workgroupBarrier();
  return total;
}

fn groupSum(lid: u32, v: f32) -> f32 {
  return groupSum4(lid, vec4<f32>(v, 0.0, 0.0, 0.0)).x;
}

fn groupMax(lid: u32, v: f32) -> f32 {
  let s = subgroupMax(v);
  let lane = subgroupExclusiveAdd(1u);
  let size = subgroupAdd(1u);
  let first = subgroupMin(lid);
  red4[lid].x = select(LOWEST_F32, s, lid == first);
  workgroupBarrier();
  var acc = LOWEST_F32;
  for (var j = 0u; j < WG / MIN_SUBGROUP; j++) {
    let i = slotOf(lane, size, j);
    if (i < WG) {
      acc = max(acc, red4[i].x);
    }
  }
  let m = subgroupMax(acc);
  workgroupBarrier();
  return m;
}

// The best (v, id) of a subgroup: the largest v, then the lowest id among those holding it.
fn subgroupBest(v: f32, id: u32) -> vec2<u32> {
  let m = subgroupMax(v);
  return vec2<u32>(bitcast<u32>(m), subgroupMin(select(NO_ID, id, v == m)));
}

fn groupBest(lid: u32, v: f32, id: u32) -> vec2<u32> {
  let s = subgroupBest(v, id);
  let lane = subgroupExclusiveAdd(1u);
  let size = subgroupAdd(1u);
  let first = subgroupMin(lid);
  red4[lid].x = select(LOWEST_F32, bitcast<f32>(s.x), lid == first);
  redId[lid] = select(NO_ID, s.y, lid == first);
  workgroupBarrier();
  var bv = LOWEST_F32;
  var bid = NO_ID;
  for (var j = 0u; j < WG / MIN_SUBGROUP; j++) {
    let i = slotOf(lane, size, j);
    if (i < WG) {
      let w = red4[i].x;
      let wid = redId[i];
      if (w > bv || (w == bv && wid < bid)) {
        bv = w;
        bid = wid;
      }
    }
  }
  let best = subgroupBest(bv, bid);
  workgroupBarrier();
  return best;
}
