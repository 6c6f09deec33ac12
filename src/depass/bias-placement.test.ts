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
  const beta = w.input_layernorm!.bias ?? new Float32Array(D);
  const { num_attention_heads: H, num_key_value_heads: Hkv, head_dim: dh } = model.description;
  const vc = lin(beta, 1, D, w.v_proj); // Wv beta + b_v, [Hkv*dh]
  const perHead = Float64Array.from({ length: H * dh }, (_, i) => vc[Math.floor(Math.floor(i / dh) / (H / Hkv)) * dh + (i % dh)]);
  return lin(perHead, 1, H * dh, w.o_proj); // Wo (...) + b_o
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
  const { hidden_size: D, num_attention_heads: H } = model.description;
  const T = rec.T;
  const lr = rec.layers[l];
  const w = model.layers[l];
  const x = centredScaled(lr.h_in, T, D, w.input_layernorm!.weight, lr.attn_norm.scale, lr.attn_norm.mean);
  const v = lin(x, T, D, w.v_proj, false); // the value of what the head reads: no beta, no b_v
  const heads = Array.from({ length: H }, (_, h) => attend(model, rec, l, v, h, false));
  const c = attentionConstant(model, l);
  const rest = new Float64Array(T * D);
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) rest[t * D + d] = lr.h_in[t * D + d] + c[d];
  return [...heads, rest];
}

/** The attention's whole write, biases and beta included, recomputed from h_in. */
function attentionOutput(model: ReferenceModel, rec: ForwardRecord, l: number): F64 {
  const D = model.description.hidden_size;
  const lr = rec.layers[l];
  const w = model.layers[l];
  const x = centredScaled(lr.h_in, rec.T, D, w.input_layernorm!.weight, lr.attn_norm.scale, lr.attn_norm.mean);
  if (w.input_layernorm!.bias) for (let i = 0; i < x.length; i++) x[i] += w.input_layernorm!.bias[i % D];
  return attend(model, rec, l, lin(x, rec.T, D, w.v_proj), null, true);
}

function expectedNeuron(model: ReferenceModel, rec: ForwardRecord, l: number, from: number, to: number): F64[] {
  const { hidden_size: D, intermediate_size: I } = model.description;
  const T = rec.T;
  const lr = rec.layers[l];
  const Wd = model.layers[l].down_proj;
  const attn = attentionOutput(model, rec, l);
  const comps: F64[] = [];
  const rest = new Float64Array(T * D);
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) rest[t * D + d] = lr.h_in[t * D + d] + attn[t * D + d] + (Wd.bias ? Wd.bias[d] : 0);
  for (let j = 0; j < I; j++) {
    const write = new Float64Array(T * D);
    for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) write[t * D + d] = lr.act[t * I + j] * Wd.weight[d * I + j];
    if (j >= from && j < to) comps.push(write);
    else for (let i = 0; i < T * D; i++) rest[i] += write[i];
  }
  return [...comps, rest];
}

function expectedModule(model: ReferenceModel, rec: ForwardRecord, l: number): F64[] {
  const I = model.description.intermediate_size;
  const lr = rec.layers[l];
  const mlp = lin(lr.act, rec.T, I, model.layers[l].down_proj); // W_down a + b_down
  return [Float64Array.from(lr.h_in), attentionOutput(model, rec, l), mlp];
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

      // Layer 0's attention: the empty rest normalises to beta, so it gains exactly the constant.
      decomposedAttention(model, 0, rec.layers[0], C);
      const c = attentionConstant(model, 0);
      const afterAttention = Float64Array.from({ length: T * D }, (_, i) => c[i % D]);
      expectClose(rest(), afterAttention, 1e-5, 'rest after layer 0 attention');

      // Layer 0's MLP under the proportional rule: the rest's gate pre-activation carries beta and
      // b_fc (b_gate), its share of each neuron follows, and b_down is added to it whole.
      const w = model.layers[0];
      const pre = w.gate_proj ?? w.up_proj;
      const lr = rec.layers[0];
      const shares = new Float64Array(T * I); // sum over components of g, and the rest's g
      const restG = new Float64Array(T * I);
      const gamma = w.post_attention_layernorm!.weight;
      const beta = w.post_attention_layernorm!.bias;
      for (let m = 0; m < M; m++) {
        const row = C.data.subarray(m * T * D, (m + 1) * T * D);
        const x = new Float64Array(T * D);
        for (let t = 0; t < T; t++) {
          let mu = 0;
          if (beta) {
            for (let d = 0; d < D; d++) mu += row[t * D + d];
            mu /= D;
          }
          for (let d = 0; d < D; d++) x[t * D + d] = gamma[d] * (row[t * D + d] - mu) * lr.mlp_norm.scale[t] + (m === plan.rest && beta ? beta[d] : 0);
        }
        const g = lin(x, T, D, pre, m === plan.rest);
        for (let t = 0; t < T; t++) {
          if (t < plan.start[m]) continue; // structurally zero: takes no part
          for (let j = 0; j < I; j++) shares[t * I + j] += g[t * I + j];
        }
        if (m === plan.rest) restG.set(g);
      }
      const expected = Float64Array.from(rest());
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < I; j++) {
          const alpha = restG[t * I + j] / shares[t * I + j];
          for (let d = 0; d < D; d++) expected[t * D + d] += alpha * lr.act[t * I + j] * w.down_proj.weight[d * I + j];
        }
        if (w.down_proj.bias) for (let d = 0; d < D; d++) expected[t * D + d] += w.down_proj.bias[d];
      }
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
