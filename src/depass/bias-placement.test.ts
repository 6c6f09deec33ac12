// Where every bias and LayerNorm beta goes, checked against formulas built here directly from the
// weights in float64, independently of the component builders: head mode's rest is
// h_l + Wo (Wv beta + b_v) + b_o and each head reads only the centred, scaled input; neuron mode's
// rest holds b_down and the untracked neurons; module mode's parts are the modules' whole outputs;
// token mode's rest starts empty and takes beta, b_v, b_o, b_fc and b_down as the layers add them.
// The same formulas check the reference engine and the WebGPU engine's initial components.

import { describe, expect, it } from 'vitest';
import { randomModel, type RandomModelOptions } from '../model/testing/random-model';
import { GpuBackend } from '../gpu/engine';
import { nodeShaderLoader } from '../gpu/node';
import { skipWithoutGpu, testGpu } from '../gpu/testing/gpu-env';
import type { AttributionBackend, InitialComponents, ModeRequest } from './backend';
import { tokenComponents } from './components';
import { CpuBackend } from './cpu-backend';
import { type CpuPass, decomposedAttention, decomposedMlp } from './decomposed';
import { activeRows, planPass } from './plan';
import type { ForwardRecord as GenericRecord } from './record';
import { toReferenceModel, type LinearF32, type ReferenceModel } from './reference-model';

const MODELS: RandomModelOptions[] = [
  { family: 'gpt2', seed: 11 },
  { family: 'gpt2', seed: 12, tie_word_embeddings: false, hidden_size: 24, num_attention_heads: 3 },
  { family: 'qwen2', seed: 13 }, // b_q, b_k, b_v only
  { family: 'llama', seed: 14, attention_bias: true, mlp_bias: true },
  { family: 'gpt_neox', seed: 15 }, // parallel residual: the head pass starts after the layer
  { family: 'gpt_neo', seed: 16 }, // a bias on the output projection only
  { family: 'gemma2', seed: 17 }, // output norms on every head and neuron
  { family: 'olmo2', seed: 18, attention_bias: true }, // no pre-norms
];
const IDS = [3, 17, 5, 40, 9, 22, 31];

type F64 = Float64Array;
type ForwardRecord = GenericRecord<Float32Array>;

/** y [R, N] = x [R, K] W^T (+ b), W [N, K], in float64. */
function lin(x: ArrayLike<number>, R: number, K: number, w: LinearF32, withBias = true): F64 {
  const N = w.weight.length / K;
  const y = new Float64Array(R * N);
  for (let r = 0; r < R; r++) {
    for (let n = 0; n < N; n++) {
      let acc = withBias && w.bias ? w.bias[n] : 0;
      for (let k = 0; k < K; k++) acc += x[r * K + k] * w.weight[n * K + k];
      y[r * N + n] = acc;
    }
  }
  return y;
}

/** The frozen norm of the real state without beta: gamma * (h - mean) * scale, [T, D]. */
function centredScaled(h: ArrayLike<number>, T: number, D: number, gamma: Float32Array, scale: Float32Array, mean?: Float32Array): F64 {
  const x = new Float64Array(T * D);
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) x[t * D + d] = gamma[d] * (h[t * D + d] - (mean ? mean[t] : 0)) * scale[t];
  return x;
}

/** Attention's write from values v [T, Hkv*dh]: Wo (A v) (+ b_o), [T, D]; `head` keeps one head. */
function attend(model: ReferenceModel, rec: ForwardRecord, l: number, v: F64, head: number | null, withBias: boolean): F64 {
  const { num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh } = model.description;
  const T = rec.T;
  const A = rec.layers[l].A;
  const y = new Float64Array(T * H * dh);
  for (let h = 0; h < H; h++) {
    if (head !== null && h !== head) continue;
    const g = Math.floor(h / (H / Hkv));
    for (let q = 0; q < T; q++) {
      for (let k = 0; k <= q; k++) {
        const p = A[(h * T + q) * T + k];
        for (let e = 0; e < dh; e++) y[(q * H + h) * dh + e] += p * v[k * Hkv * dh + g * dh + e];
      }
    }
  }
  return lin(y, T, H * dh, model.layers[l].o_proj, withBias);
}

/** The constant the attention adds whatever its input: Wo (Wv beta + b_v) + b_o, [D]. */
function attentionConstant(model: ReferenceModel, l: number): F64 {
  const D = model.description.hidden_size;
  const w = model.layers[l];
  const beta = w.input_layernorm?.bias ?? new Float32Array(D);
  const { num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh } = model.description;
  const vc = lin(beta, 1, D, w.v_proj); // Wv beta + b_v, [Hkv*dh]
  const perHead = Float64Array.from({ length: H * dh }, (_, i) => vc[Math.floor(Math.floor(i / dh) / (H / Hkv)) * dh + (i % dh)]);
  return lin(perHead, 1, H * dh, w.o_proj); // Wo (...) + b_o
}

/**
 * A branch output [T, D] (or one [D] row broadcast over T) through the branch's output norm at the
 * real output's frozen scale: gamma * x * s[t] (Gemma 2/3, OLMo-2); unchanged without one.
 */
function outputNorm(x: F64, T: number, D: number, norm: { weight: Float32Array } | undefined, scale: Float32Array | undefined): F64 {
  const out = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    for (let d = 0; d < D; d++) {
      const v = x.length === D ? x[d] : x[t * D + d];
      out[t * D + d] = norm ? norm.weight[d] * v * scale![t] : v;
    }
  }
  return out;
}

/** The normalised input of the attention without beta (the input itself without a pre-norm). */
function attentionInput(model: ReferenceModel, rec: ForwardRecord, l: number): F64 {
  const D = model.description.hidden_size;
  const lr = rec.layers[l];
  const norm = model.layers[l].input_layernorm;
  return norm ? centredScaled(lr.h_in, rec.T, D, norm.weight, lr.attn_norm.scale, lr.attn_norm.mean) : Float64Array.from(lr.h_in);
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  let scale = 1e-6;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst / scale, `${what}: max |got - want| / max |want|`).toBeLessThan(tol);
}

function component(c: InitialComponents, m: number, T: number, D: number): Float32Array {
  return c.data.subarray(m * T * D, (m + 1) * T * D);
}

/** Expected initial components of each mode, from the weights and the real forward record. */
function expectedHead(model: ReferenceModel, rec: ForwardRecord, l: number): F64[] {
  const cfg = model.description;
  const { hidden_size: D, num_attention_heads: H } = cfg;
  const T = rec.T;
  const lr = rec.layers[l];
  const w = model.layers[l];
  const v = lin(attentionInput(model, rec, l), T, D, w.v_proj, false); // the value of what the head reads: no beta, no b_v
  const post = (x: F64) => outputNorm(x, T, D, w.attn_output_norm, lr.attn_out_norm?.scale);
  const heads = Array.from({ length: H }, (_, h) => post(attend(model, rec, l, v, h, false)));
  const c = post(attentionConstant(model, l));
  // With a parallel residual the pass starts after the layer: its MLP output is in the rest too.
  const mlp = cfg.parallelResidual ? mlpOutput(model, rec, l, new Set()) : new Float64Array(T * D);
  const rest = Float64Array.from({ length: T * D }, (_, i) => lr.h_in[i] + c[i] + mlp[i]);
  return [...heads, rest];
}

/** The attention's whole write, biases and beta included, recomputed from h_in. */
function attentionOutput(model: ReferenceModel, rec: ForwardRecord, l: number): F64 {
  const D = model.description.hidden_size;
  const lr = rec.layers[l];
  const w = model.layers[l];
  const x = attentionInput(model, rec, l);
  if (w.input_layernorm?.bias) for (let i = 0; i < x.length; i++) x[i] += w.input_layernorm.bias[i % D];
  return outputNorm(attend(model, rec, l, lin(x, rec.T, D, w.v_proj), null, true), rec.T, D, w.attn_output_norm, lr.attn_out_norm?.scale);
}

/** The MLP's write b_down + sum of a_j Wd[:, j] over the neurons not in `without`, through its output norm. */
function mlpOutput(model: ReferenceModel, rec: ForwardRecord, l: number, without: Set<number>): F64 {
  const { hidden_size: D, intermediate_size: I } = model.description;
  const T = rec.T;
  const lr = rec.layers[l];
  const Wd = model.layers[l].down_proj;
  const out = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    for (let d = 0; d < D; d++) {
      let acc = Wd.bias ? Wd.bias[d] : 0;
      for (let j = 0; j < I; j++) if (!without.has(j)) acc += lr.act[t * I + j] * Wd.weight[d * I + j];
      out[t * D + d] = acc;
    }
  }
  return outputNorm(out, T, D, model.layers[l].mlp_output_norm, lr.mlp_out_norm?.scale);
}

function expectedNeuron(model: ReferenceModel, rec: ForwardRecord, l: number, from: number, to: number): F64[] {
  const { hidden_size: D, intermediate_size: I } = model.description;
  const T = rec.T;
  const lr = rec.layers[l];
  const Wd = model.layers[l].down_proj;
  const attn = attentionOutput(model, rec, l);
  const tracked = new Set(Array.from({ length: to - from }, (_, g) => from + g));
  const comps: F64[] = [...tracked].map((j) => {
    const write = new Float64Array(T * D);
    for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) write[t * D + d] = lr.act[t * I + j] * Wd.weight[d * I + j];
    return outputNorm(write, T, D, model.layers[l].mlp_output_norm, lr.mlp_out_norm?.scale);
  });
  // The rest: the layer's input, the attention, b_down and every untracked neuron.
  const others = mlpOutput(model, rec, l, tracked);
  const rest = Float64Array.from({ length: T * D }, (_, i) => lr.h_in[i] + attn[i] + others[i]);
  return [...comps, rest];
}

function expectedModule(model: ReferenceModel, rec: ForwardRecord, l: number): F64[] {
  return [Float64Array.from(rec.layers[l].h_in), attentionOutput(model, rec, l), mlpOutput(model, rec, l, new Set())];
}

function expectedOf(model: ReferenceModel, rec: ForwardRecord, req: ModeRequest): F64[] {
  switch (req.kind) {
    case 'head':
      return expectedHead(model, rec, req.layer);
    case 'neuron':
      return expectedNeuron(model, rec, req.layer, req.from, req.to);
    case 'module':
      return expectedModule(model, rec, req.layer);
    default:
      throw new Error(`no formula for ${req.kind}`);
  }
}

function requests(model: ReferenceModel): ModeRequest[] {
  const { num_hidden_layers: L, intermediate_size: I } = model.description;
  const out: ModeRequest[] = [];
  for (let l = 0; l < L; l++) {
    out.push({ kind: 'head', layer: l }, { kind: 'module', layer: l }, { kind: 'neuron', layer: l, from: 3, to: Math.min(I, 3 + Math.floor(I / 3)) });
  }
  return out;
}

async function checkBackend(backend: AttributionBackend, model: ReferenceModel, rec: ForwardRecord, tol: number): Promise<void> {
  const D = model.description.hidden_size;
  const T = rec.T;
  for (const req of requests(model)) {
    const got = await backend.initialComponents(req);
    const want = expectedOf(model, rec, req);
    // The rest is the last component except in module mode (the incoming residual, first).
    const order = req.kind === 'module' ? [0, 1, 2] : want.map((_, i) => i);
    expect(got.M, `${req.kind} M`).toBe(want.length);
    expect(got.rest, `${req.kind} rest index`).toBe(req.kind === 'module' ? 0 : want.length - 1);
    for (const m of order) expectClose(component(got, m, T, D), want[m], tol, `${req.kind} layer ${'layer' in req ? req.layer : ''} component ${m}`);
  }
}

describe('biases and betas go where the method puts them (reference engine)', () => {
  for (const opts of MODELS) {
    it(`${opts.family} (seed ${opts.seed}): head, neuron and module components`, async () => {
      const m = randomModel(opts);
      const model = toReferenceModel(m.description, m.weights);
      const cpu = new CpuBackend(model);
      await cpu.forward(IDS);
      await checkBackend(cpu, model, cpu.lastRecord, 1e-5);
    });

    it(`${opts.family} (seed ${opts.seed}): token mode's rest takes beta, b_v, b_o, b_fc and b_down`, async () => {
      const m = randomModel(opts);
      const model = toReferenceModel(m.description, m.weights);
      const cpu = new CpuBackend(model);
      await cpu.forward(IDS);
      const rec = cpu.lastRecord;
      const { hidden_size: D, intermediate_size: I } = model.description;
      const T = rec.T;
      const plan = planPass(model.description, T, { kind: 'token' }, false);
      const C: CpuPass = { plan, T, D, data: tokenComponents(model, rec), rows: activeRows(plan, T) };
      const M = plan.M;
      const rest = () => C.data.subarray(plan.rest * T * D, (plan.rest + 1) * T * D);
      expect(Array.from(rest()).every((x) => x === 0)).toBe(true);

      // Layer 0's attention: the empty rest normalises to beta (or stays zero without a pre-norm),
      // so it gains exactly the constant, through the output norm when there is one. With a
      // parallel residual the attention's writes wait until the MLP has read the layer input.
      const w = model.layers[0];
      const lr = rec.layers[0];
      const parallel = model.description.parallelResidual;
      const held = new Float32Array(C.data.length);
      decomposedAttention(model, 0, lr, C, parallel ? held : C.data);
      const afterAttention = outputNorm(attentionConstant(model, 0), T, D, w.attn_output_norm, lr.attn_out_norm?.scale);
      expectClose(parallel ? held.subarray(plan.rest * T * D, (plan.rest + 1) * T * D) : rest(), afterAttention, 1e-5, 'rest after layer 0 attention');

      // Layer 0's MLP under the proportional rule: the rest's gate pre-activation carries beta and
      // b_fc (b_gate), its share of each neuron follows, and b_down is added to it whole (then the
      // output norm, when there is one).
      const pre = w.gate_proj ?? w.up_proj;
      const shares = new Float64Array(T * I); // sum over components of g, and the rest's g
      const restG = new Float64Array(T * I);
      const norm = w.post_attention_layernorm;
      const beta = norm?.bias;
      for (let m = 0; m < M; m++) {
        const row = C.data.subarray(m * T * D, (m + 1) * T * D);
        const x = new Float64Array(T * D);
        for (let t = 0; t < T; t++) {
          let mu = 0;
          if (beta) {
            for (let d = 0; d < D; d++) mu += row[t * D + d];
            mu /= D;
          }
          for (let d = 0; d < D; d++) {
            x[t * D + d] = norm ? norm.weight[d] * (row[t * D + d] - mu) * lr.mlp_norm.scale[t] + (m === plan.rest && beta ? beta[d] : 0) : row[t * D + d];
          }
        }
        const g = lin(x, T, D, pre, m === plan.rest);
        for (let t = 0; t < T; t++) {
          if (t < plan.start[m]) continue; // structurally zero: takes no part
          for (let j = 0; j < I; j++) shares[t * I + j] += g[t * I + j];
        }
        if (m === plan.rest) restG.set(g);
      }
      const write = new Float64Array(T * D);
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < I; j++) {
          const alpha = restG[t * I + j] / shares[t * I + j];
          for (let d = 0; d < D; d++) write[t * D + d] += alpha * lr.act[t * I + j] * w.down_proj.weight[d * I + j];
        }
        if (w.down_proj.bias) for (let d = 0; d < D; d++) write[t * D + d] += w.down_proj.bias[d];
      }
      const normed = outputNorm(write, T, D, w.mlp_output_norm, lr.mlp_out_norm?.scale);
      const expected = Float64Array.from(rest(), (v, i) => v + normed[i]);
      decomposedMlp(model, 0, rec.layers[0], C, { rule: 'proportional', tau: 0.1 });
      expectClose(rest(), expected, 1e-4, 'rest after layer 0 MLP (proportional rule)');
    });
  }
});

const gpu = await testGpu();

describe.skipIf(skipWithoutGpu(gpu))('biases and betas go where the method puts them (WebGPU engine)', () => {
  for (const opts of MODELS) {
    it(`${opts.family} (seed ${opts.seed}): head, neuron and module components`, async () => {
      const m = randomModel(opts);
      const model = toReferenceModel(m.description, m.weights);
      const cpu = new CpuBackend(model);
      await cpu.forward(IDS);
      const engine = await GpuBackend.create(gpu!.ctx, m.description, m.weights, nodeShaderLoader());
      try {
        await engine.forward(IDS);
        await checkBackend(engine, model, cpu.lastRecord, 1e-5);
        const tokens = await engine.initialComponents({ kind: 'token' });
        const D = m.description.hidden_size;
        const T = IDS.length;
        expect(
          Array.from(component(tokens, tokens.rest, T, D)).every((x) => x === 0),
          'token mode rest starts empty',
        ).toBe(true);
      } finally {
        engine.destroy();
      }
    });
  }
});
