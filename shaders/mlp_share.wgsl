// The DePass MLP share for one tile of J neurons: the frozen activation a[t, j0 + j] is handed to
// the components that take part at position t, in proportion to
//   softmax_m(g[m, t, j] / tau)                   (default rule), or
//   g[m, t, j] / sum_m g[m, t, j]                 (PROPORTIONAL; even split when |sum| <= guard * sum |g|).
// Component m takes part at t when start[m] <= t and, with the BOS rule, not (m == 0 and t > 0);
// the pass plan guarantees that someone does. Shares sum to one, so completeness holds.
// Output c = share * a for every component (0 where it does not take part).
//
// Bindings (group 0): 0 g     array<f32>, read         [M, T, J] each component's gate (or fc) pre-activation
//                     1 a     array<f32>, read         frozen activations, a[t, j] at a0 + t * lda + j
//                     2 start array<u32>, read         [M]
//                     3 c     array<f32>, read_write   [M, T, J]
//                     4 params uniform Params
// Dispatch: (ceil(J / 64), T); workgroup 64, one (t, j) per invocation, looping over components.
// Precision: f32, max-subtracted exp.

const PROPORTIONAL = 1u;
const BOS = 2u;

struct Params {
  M: u32,
  T: u32,
  J: u32,
  a0: u32,
  lda: u32,
  tau: f32,
  guard: f32,
  flags: u32,
}

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> start: array<u32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn takesPart(m: u32, t: u32) -> bool {
  return start[m] <= t && !((params.flags & BOS) != 0u && m == 0u && t > 0u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let t = gid.y;
  let M = params.M;
  let T = params.T;
  let J = params.J;
  if (j >= J || t >= T) {
    return;
  }
  let act = a[params.a0 + t * params.lda + j];
  let proportional = (params.flags & PROPORTIONAL) != 0u;

  // Pass 1: the max (softmax) or the sums (proportional) over participants.
  var mx = bitcast<f32>(0xff7fffffu);
  var sum = 0.0;
  var absSum = 0.0;
  var n = 0.0;
  for (var m = 0u; m < M; m++) {
    if (!takesPart(m, t)) {
      continue;
    }
    let v = g[(m * T + t) * J + j];
    if (proportional) {
      sum += v;
      absSum += abs(v);
      n += 1.0;
    } else {
      mx = max(mx, v / params.tau);
    }
  }
  if (!proportional) {
    for (var m = 0u; m < M; m++) {
      if (takesPart(m, t)) {
        sum += exp(g[(m * T + t) * J + j] / params.tau - mx);
      }
    }
  }
  let even = abs(sum) <= params.guard * max(absSum, 1e-30);

  // Pass 2: the shares.
  for (var m = 0u; m < M; m++) {
    let e = (m * T + t) * J + j;
    var share = 0.0;
    if (takesPart(m, t)) {
      if (proportional) {
        share = select(g[e] / sum, 1.0 / n, even);
      } else {
        share = exp(g[e] / params.tau - mx) / sum;
      }
    }
    c[e] = share * act;
  }
}
