// Differentiable float64 ops for the gradient baselines: each computes its output in float64 from
// float64 activations and float32 weights, and records its backward step on the tape. Layouts are
// row-major and stated on every op; they match src/depass/ops.ts, whose forward these mirror.

import { type Activation, activation } from '../../src/depass/ops';
import { type Tape, Var } from './tape';

/** y[r, n] = sum_k x[r, k] W[n, k] (+ bias[n]). x [R, K], W [N, K], y [R, N]. */
export function linear(tape: Tape, x: Var, W: Float32Array, R: number, K: number, N: number, bias?: Float32Array): Var {
  const X = x.value;
  const Y = new Float64Array(R * N);
  for (let r = 0; r < R; r++) {
    const xo = r * K;
    for (let n = 0; n < N; n++) {
      const wo = n * K;
      let acc = bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) acc += X[xo + k] * W[wo + k];
      Y[r * N + n] = acc;
    }
  }
  const out = new Var(Y);
  tape.record(() => {
    const gy = out.grad;
    if (!gy) return;
    const gx = x.gradBuffer();
    for (let r = 0; r < R; r++) {
      const xo = r * K;
      for (let n = 0; n < N; n++) {
        const g = gy[r * N + n];
        if (g === 0) continue;
        const wo = n * K;
        for (let k = 0; k < K; k++) gx[xo + k] += g * W[wo + k];
      }
    }
  });
  return out;
}

/** a + b, elementwise. */
export function add(tape: Tape, a: Var, b: Var): Var {
  const y = new Float64Array(a.value.length);
  for (let i = 0; i < y.length; i++) y[i] = a.value[i] + b.value[i];
  const out = new Var(y);
  tape.record(() => {
    const g = out.grad;
    if (!g) return;
    const ga = a.gradBuffer();
    const gb = b.gradBuffer();
    for (let i = 0; i < g.length; i++) {
      ga[i] += g[i];
      gb[i] += g[i];
    }
  });
  return out;
}

/** a + c for a constant c of the same length (learned positions, a perturbation). */
export function addConstant(tape: Tape, a: Var, c: ArrayLike<number>): Var {
  const y = new Float64Array(a.value.length);
  for (let i = 0; i < y.length; i++) y[i] = a.value[i] + c[i];
  const out = new Var(y);
  tape.record(() => {
    const g = out.grad;
    if (!g) return;
    const ga = a.gradBuffer();
    for (let i = 0; i < g.length; i++) ga[i] += g[i];
  });
  return out;
}

/** RMSNorm of each row: y = gamma * x / sqrt(mean(x^2) + eps). x, y [R, D], gamma [D].
 *  Also the per-head q/k norm (rows of dh). */
export function rmsNorm(tape: Tape, x: Var, gamma: Float32Array, R: number, D: number, eps: number): Var {
  const X = x.value;
  const Y = new Float64Array(R * D);
  const s = new Float64Array(R); // [R] 1/rms
  for (let r = 0; r < R; r++) {
    let ss = 0;
    for (let d = 0; d < D; d++) ss += X[r * D + d] ** 2;
    s[r] = 1 / Math.sqrt(ss / D + eps);
    for (let d = 0; d < D; d++) Y[r * D + d] = gamma[d] * X[r * D + d] * s[r];
  }
  const out = new Var(Y);
  tape.record(() => {
    const gy = out.grad;
    if (!gy) return;
    const gx = x.gradBuffer();
    // d y_d / d x_j = gamma_d (delta_dj s - x_d x_j s^3 / D)
    for (let r = 0; r < R; r++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += gamma[d] * gy[r * D + d] * X[r * D + d];
      const c = (dot * s[r] ** 3) / D;
      for (let d = 0; d < D; d++) gx[r * D + d] += gamma[d] * gy[r * D + d] * s[r] - X[r * D + d] * c;
    }
  });
  return out;
}

/** LayerNorm of each row: y = gamma * (x - mean) / sqrt(var + eps) + beta. x, y [R, D]. */
export function layerNorm(tape: Tape, x: Var, gamma: Float32Array, beta: Float32Array | undefined, R: number, D: number, eps: number): Var {
  const X = x.value;
  const Y = new Float64Array(R * D);
  const xhat = new Float64Array(R * D); // [R, D]
  const s = new Float64Array(R); // [R] 1/std
  for (let r = 0; r < R; r++) {
    let sum = 0;
    for (let d = 0; d < D; d++) sum += X[r * D + d];
    const mu = sum / D;
    let v = 0;
    for (let d = 0; d < D; d++) v += (X[r * D + d] - mu) ** 2;
    s[r] = 1 / Math.sqrt(v / D + eps);
    for (let d = 0; d < D; d++) {
      xhat[r * D + d] = (X[r * D + d] - mu) * s[r];
      Y[r * D + d] = gamma[d] * xhat[r * D + d] + (beta ? beta[d] : 0);
    }
  }
  const out = new Var(Y);
  tape.record(() => {
    const gy = out.grad;
    if (!gy) return;
    const gx = x.gradBuffer();
    // dx = s (g - mean(g) - xhat mean(g xhat)), g = gamma * gy
    for (let r = 0; r < R; r++) {
      let mg = 0;
      let mgx = 0;
      for (let d = 0; d < D; d++) {
        const g = gamma[d] * gy[r * D + d];
        mg += g;
        mgx += g * xhat[r * D + d];
      }
      mg /= D;
      mgx /= D;
      for (let d = 0; d < D; d++) gx[r * D + d] += s[r] * (gamma[d] * gy[r * D + d] - mg - xhat[r * D + d] * mgx);
    }
  });
  return out;
}

/**
 * Rotate-half RoPE on the first `rot` dims of each head of x [T, nh, dh], positions 0..T-1, from
 * the engines' own cos/sin table [2, T, rot/2] (src/depass/rope.ts: scaling and magnitude folded in).
 */
export function rope(tape: Tape, x: Var, T: number, nh: number, dh: number, table: Float32Array, rot = dh): Var {
  const half = rot / 2;
  const X = x.value;
  const Y = Float64Array.from(X);
  for (let t = 0; t < T; t++)
    for (let h = 0; h < nh; h++) {
      const o = (t * nh + h) * dh;
      for (let i = 0; i < half; i++) {
        const c = table[t * half + i];
        const s = table[(T + t) * half + i];
        Y[o + i] = X[o + i] * c - X[o + i + half] * s;
        Y[o + i + half] = X[o + i + half] * c + X[o + i] * s;
      }
    }
  const out = new Var(Y);
  tape.record(() => {
    const gy = out.grad;
    if (!gy) return;
    const gx = x.gradBuffer();
    // The transpose of each 2x2 rotation; dims past `rot` pass through.
    for (let t = 0; t < T; t++)
      for (let h = 0; h < nh; h++) {
        const o = (t * nh + h) * dh;
        for (let i = 0; i < half; i++) {
          const c = table[t * half + i];
          const s = table[(T + t) * half + i];
          gx[o + i] += gy[o + i] * c + gy[o + i + half] * s;
          gx[o + i + half] += gy[o + i + half] * c - gy[o + i] * s;
        }
        for (let e = rot; e < dh; e++) gx[o + e] += gy[o + e];
      }
  });
  return out;
}

/** x times a constant c, elementwise (Gemma's embedding scale). */
export function scale(tape: Tape, x: Var, c: number): Var {
  const y = new Float64Array(x.value.length);
  for (let i = 0; i < y.length; i++) y[i] = x.value[i] * c;
  const out = new Var(y);
  tape.record(() => {
    const g = out.grad;
    if (!g) return;
    const gx = x.gradBuffer();
    for (let i = 0; i < g.length; i++) gx[i] += g[i] * c;
  });
  return out;
}

export interface AttentionOptions {
  /** Multiplier of q . k (default 1/sqrt(dh)). */
  scale?: number;
  /** Scores capped as c tanh(s / c) when > 0 (Gemma 2). */
  softcap?: number;
  /** Sliding window in keys counting the query; 0: plain causal. */
  window?: number;
}

/**
 * Causal softmax attention: y[q, h, :] = sum_{k<=q} softmax_k(cap(q.k * scale)) v[k, g(h), :], query
 * head h reading KV head g(h) = floor(h / (H / Hkv)), keys limited to the window when there is
 * one. q [T, H, dh], k and v [T, Hkv, dh]; y [T, H, dh], the heads' outputs before o_proj.
 */
export function causalAttention(tape: Tape, q: Var, k: Var, v: Var, T: number, H: number, Hkv: number, dh: number, opts: AttentionOptions = {}): Var {
  const Q = q.value;
  const K = k.value;
  const Vv = v.value;
  const group = H / Hkv;
  const scale = opts.scale ?? 1 / Math.sqrt(dh);
  const cap = opts.softcap ?? 0;
  const W = opts.window ?? 0;
  const first = (i: number) => (W > 0 ? Math.max(0, i + 1 - W) : 0);
  const A = new Float64Array(H * T * T); // [H, T, T]
  const capSlope = new Float64Array(cap > 0 ? H * T * T : 0); // d cap(s) / d s, [H, T, T]
  const Y = new Float64Array(T * H * dh);
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / group);
    for (let i = 0; i < T; i++) {
      const row = (h * T + i) * T;
      const qo = (i * H + h) * dh;
      const j0 = first(i);
      let max = -Infinity;
      for (let j = j0; j <= i; j++) {
        const ko = (j * Hkv + g) * dh;
        let dot = 0;
        for (let e = 0; e < dh; e++) dot += Q[qo + e] * K[ko + e];
        let s = dot * scale;
        if (cap > 0) {
          const th = Math.tanh(s / cap);
          capSlope[row + j] = 1 - th * th;
          s = cap * th;
        }
        A[row + j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = j0; j <= i; j++) {
        A[row + j] = Math.exp(A[row + j] - max);
        sum += A[row + j];
      }
      for (let j = j0; j <= i; j++) {
        A[row + j] /= sum;
        const vo = (j * Hkv + g) * dh;
        for (let e = 0; e < dh; e++) Y[qo + e] += A[row + j] * Vv[vo + e];
      }
    }
  }
  const out = new Var(Y);
  tape.record(() => {
    const gy = out.grad;
    if (!gy) return;
    const gq = q.gradBuffer();
    const gk = k.gradBuffer();
    const gv = v.gradBuffer();
    const dA = new Float64Array(T); // [T] one row
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / group);
      for (let i = 0; i < T; i++) {
        const row = (h * T + i) * T;
        const qo = (i * H + h) * dh;
        const j0 = first(i);
        let mean = 0;
        for (let j = j0; j <= i; j++) {
          const vo = (j * Hkv + g) * dh;
          let d = 0;
          for (let e = 0; e < dh; e++) {
            d += gy[qo + e] * Vv[vo + e];
            gv[vo + e] += A[row + j] * gy[qo + e];
          }
          dA[j] = d;
          mean += A[row + j] * d;
        }
        // Softmax backward: dS_j = A_j (dA_j - sum_j' A_j' dA_j'), then through the cap and q.k * scale.
        for (let j = j0; j <= i; j++) {
          const dS = A[row + j] * (dA[j] - mean) * scale * (cap > 0 ? capSlope[row + j] : 1);
          if (dS === 0) continue;
          const ko = (j * Hkv + g) * dh;
          for (let e = 0; e < dh; e++) {
            gq[qo + e] += dS * K[ko + e];
            gk[ko + e] += dS * Q[qo + e];
          }
        }
      }
    }
  });
  return out;
}

/** The derivative of each activation the reference engine supports. */
export function activationDerivative(kind: Activation): (x: number) => number {
  if (kind === 'silu')
    return (x) => {
      const sig = 1 / (1 + Math.exp(-x));
      return sig * (1 + x * (1 - sig));
    };
  if (kind === 'gelu_tanh')
    return (x) => {
      const c = Math.sqrt(2 / Math.PI);
      const th = Math.tanh(c * (x + 0.044715 * x * x * x));
      return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * c * (1 + 3 * 0.044715 * x * x);
    };
  // Exact GELU x Phi(x): derivative Phi(x) + x phi(x). Phi comes from the engine's own GELU
  // (gelu(x) / x) so that both use one erf; at x = 0 it is 1/2.
  const gelu = activation('gelu');
  return (x) => {
    const Phi = Math.abs(x) < 1e-12 ? 0.5 : gelu(x) / x;
    return Phi + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
  };
}

/** Gated MLP activation: a = act(gate) * up, elementwise over [T, I]. */
export function gatedActivation(tape: Tape, gate: Var, up: Var, kind: Activation): Var {
  const f = activation(kind);
  const df = activationDerivative(kind);
  const G = gate.value;
  const U = up.value;
  const Y = new Float64Array(G.length);
  for (let i = 0; i < Y.length; i++) Y[i] = f(G[i]) * U[i];
  const out = new Var(Y);
  tape.record(() => {
    const gy = out.grad;
    if (!gy) return;
    const gg = gate.gradBuffer();
    const gu = up.gradBuffer();
    for (let i = 0; i < gy.length; i++) {
      if (gy[i] === 0) continue;
      gg[i] += gy[i] * U[i] * df(G[i]);
      gu[i] += gy[i] * f(G[i]);
    }
  });
  return out;
}

/** Plain MLP activation: a = act(x), elementwise. */
export function plainActivation(tape: Tape, x: Var, kind: Activation): Var {
  const f = activation(kind);
  const df = activationDerivative(kind);
  const X = x.value;
  const Y = new Float64Array(X.length);
  for (let i = 0; i < Y.length; i++) Y[i] = f(X[i]);
  const out = new Var(Y);
  tape.record(() => {
    const gy = out.grad;
    if (!gy) return;
    const gx = x.gradBuffer();
    for (let i = 0; i < gy.length; i++) gx[i] += gy[i] * df(X[i]);
  });
  return out;
}

/** The scalar dir . x[position, :]: a logit (dir = W_U[y]) or logit difference read from the
 *  final normalised state x [T, D]. Returns a one-element Var. */
export function readout(tape: Tape, x: Var, D: number, position: number, dir: Float64Array): Var {
  let acc = 0;
  for (let d = 0; d < D; d++) acc += x.value[position * D + d] * dir[d];
  const out = new Var(Float64Array.of(acc));
  tape.record(() => {
    const g = out.grad;
    if (!g) return;
    const gx = x.gradBuffer();
    for (let d = 0; d < D; d++) gx[position * D + d] += g[0] * dir[d];
  });
  return out;
}
