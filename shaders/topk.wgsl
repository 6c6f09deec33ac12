// Top-k of each row of a logits chunk: the k largest values of logits[t, 0..Vc) (ties to the lower
// id), written as global ids v0 + j and values to ids/vals[t * ldo + o0 + 0..k). Chunks of the
// vocabulary each fill their own slots; the host merges slots (a few per row) on read-back.
// Missing entries (Vc < k) are id 0xffffffff with the lowest f32 value.
//
// Bindings (group 0): 0 logits array<f32>, read        [T, Vc]
//                     1 ids    array<u32>, read_write  [T, ldo]
//                     2 vals   array<f32>, read_write  [T, ldo]
//                     3 params uniform Params
// Dispatch: (T); workgroup 64: strided scans keep per-invocation sorted lists; then k rounds in
// which the workgroup picks the best head of all lists (groupBest) and its owner moves past it.
// Prelude: reduce (groupBest), through workgroup memory or subgroups.
// Precision: exact (comparisons only).

struct Params {
  T: u32,
  Vc: u32,
  v0: u32,
  o0: u32,
  ldo: u32,
  k: u32, // <= 8
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> vals: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

const WG = 64u;
const MAXK = 8u;
const NONE = 0xffffffffu;
const LOWEST = bitcast<f32>(0xff7fffffu); // the lowest finite f32

var<private> lv: array<f32, MAXK>;
var<private> li: array<u32, MAXK>;

fn better(v: f32, id: u32, w: f32, wid: u32) -> bool {
  return v > w || (v == w && id < wid);
}

fn insert(v: f32, id: u32) {
  let k = params.k;
  if (!better(v, id, lv[k - 1u], li[k - 1u])) {
    return;
  }
  var p = k - 1u;
  while (p > 0u && better(v, id, lv[p - 1u], li[p - 1u])) {
    lv[p] = lv[p - 1u];
    li[p] = li[p - 1u];
    p--;
  }
  lv[p] = v;
  li[p] = id;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wg.x;
  let k = params.k;
  for (var q = 0u; q < MAXK; q++) {
    lv[q] = LOWEST;
    li[q] = NONE;
  }
  let base = t * params.Vc;
  for (var j = lid; j < params.Vc; j += WG) {
    let v = logits[base + j];
    if (v == v) { // skip NaN
      insert(v, params.v0 + j);
    }
  }
  // Merge: every round takes the best remaining head of the per-invocation lists.
  var head = 0u;
  let o = t * params.ldo + params.o0;
  for (var q = 0u; q < k; q++) {
    var v = LOWEST;
    var id = NONE;
    if (head < k) {
      v = lv[head];
      id = li[head];
    }
    let best = groupBest(lid, v, id);
    if (id != NONE && best.y == id) {
      head++;
    }
    if (lid == 0u) {
      ids[o + q] = best.y;
      vals[o + q] = bitcast<f32>(best.x);
    }
  }
}
