// The reference engine behind the AttributionBackend interface: plain TypeScript on the CPU.
// It is the test oracle for the GPU engine and the fallback when no WebGPU adapter exists.
// Each granularity builds its initial components here and then runs the same decomposed pass.

import type { AttributeOptions, AttributionBackend, ForwardSummary, InitialComponents, ModeRequest, ModeScores, TargetSpec } from './backend';
import { type Components, decomposedLayers, modelHasBiases, readout, type ReadoutTarget } from './decomposed';
import { type Ablation, applyNorm, type ForwardRecord, forward, lensLogits, normStats } from './forward';
import { attentionMix, matmul, topK } from './ops';
import type { ReferenceModel } from './reference-model';
import type { TopEntry } from './result';

export class CpuBackend implements AttributionBackend {
  readonly kind = 'cpu' as const;
  private record: ForwardRecord | null = null;

  constructor(readonly model: ReferenceModel) {}

  async forward(ids: number[], opts: { lens?: boolean; ablation?: Ablation } = {}): Promise<ForwardSummary> {
    const cfg = this.model.description;
    const rec = forward(this.model, ids, opts.ablation);
    this.record = rec;
    const V = cfg.vocab_size;
    const T = ids.length;
    const top = Array.from({ length: T }, (_, t) => top5(rec.logits.subarray(t * V, (t + 1) * V)));
    let lens: TopEntry[][][] | undefined;
    if (opts.lens) {
      const perLayer = rec.layers.map((_, l) =>
        lensLogits(this.model, l + 1 < rec.layers.length ? rec.layers[l + 1].h_in : rec.h_final, T),
      );
      lens = Array.from({ length: T }, (_, t) => perLayer.map((lg) => top5(lg.subarray(t * V, (t + 1) * V))));
    }
    return {
      T,
      top,
      lens,
      targetLogits: (targets) =>
        targets.map((tg) => {
          const row = tg.position * V;
          return rec.logits[row + tg.id] - (tg.contrast_id === null ? 0 : rec.logits[row + tg.contrast_id]);
        }),
    };
  }

  /** The forward record of the last forward() call (for tests and evaluation). */
  get lastRecord(): ForwardRecord {
    if (!this.record) throw new Error('forward() must run before attribute()');
    return this.record;
  }

  async unembeddingRow(id: number): Promise<Float32Array> {
    const D = this.model.description.hidden_size;
    return this.model.lm_head.slice(id * D, (id + 1) * D);
  }

  async attentionPattern(layer: number, head: number): Promise<Float32Array> {
    const rec = this.lastRecord;
    return rec.layers[layer].A.slice(head * rec.T * rec.T, (head + 1) * rec.T * rec.T);
  }

  maxComponents(T: number): number {
    // Keep the component buffer ([M, T, D] f32 plus a few work copies) near 256 MB.
    const D = this.model.description.hidden_size;
    return Math.max(2, Math.floor((64 * 1024 * 1024) / (T * D)));
  }

  async initialComponents(req: ModeRequest): Promise<InitialComponents> {
    const C = this.components(req);
    return { M: C.M, rest: C.rest, data: C.data.slice() };
  }

  private components(req: ModeRequest): Components {
    const rec = this.lastRecord;
    switch (req.kind) {
      case 'token':
        return tokenComponents(this.model, rec);
      case 'head':
        return headComponents(this.model, rec, req.layer);
      case 'neuron':
        return neuronComponents(this.model, rec, req.layer, req.from, req.to);
      case 'module':
        return moduleComponents(this.model, rec, req.layer);
      case 'subspace':
        return subspaceComponents(this.model, rec, req.layer, req.direction);
    }
  }

  async attribute(req: ModeRequest, targets: TargetSpec[], opts: AttributeOptions): Promise<ModeScores> {
    const rec = this.lastRecord;
    const cfg = this.model.description;
    const L = cfg.num_hidden_layers;
    const readTargets = targets.map((tg) => readoutTarget(this.model, tg));
    const decompose = { rule: opts.rule, tau: opts.tau, bosRule: false };
    const C = this.components(req);
    decompose.bosRule = req.kind === 'token' && opts.bosAtZero;
    // Head mode starts at the MLP of its layer; neuron and module modes after their layer.
    const from = req.kind === 'token' ? 0 : req.kind === 'neuron' || req.kind === 'module' ? req.layer + 1 : req.layer;
    const startAtMlp = req.kind === 'head';

    const byLayer = req.kind === 'token' && req.byLayer ? new Float64Array(targets.length * L * C.M) : undefined;
    for (let l = from; l < L; l++) {
      // One layer at a time, yielding in between so a cancel message can arrive.
      await new Promise((r) => setTimeout(r, 0));
      if (opts.signal?.aborted) throw new DOMException('Run cancelled', 'AbortError');
      decomposedLayers(this.model, rec, C, l, decompose, startAtMlp && l === from, undefined, l + 1);
      opts.onLayer?.(l, L);
      if (!byLayer) continue;
      const h = l + 1 < L ? rec.layers[l + 1].h_in : rec.h_final;
      const norm = normStats(h, rec.T, cfg.hidden_size, cfg.normKind, cfg.norm_eps);
      const s = readout(this.model, C, norm, readTargets);
      for (let i = 0; i < targets.length; i++) byLayer.set(s.subarray(i * C.M, (i + 1) * C.M), (i * L + l) * C.M);
    }
    const scores = readout(this.model, C, rec.final_norm, readTargets);
    return { M: C.M, rest: C.rest, scores, byLayer };
  }
}

function top5(logits: Float32Array): TopEntry[] {
  return topK(logits, 5).map((id) => ({ id, logit: logits[id] }));
}

export function readoutTarget(model: ReferenceModel, tg: TargetSpec): ReadoutTarget {
  const D = model.description.hidden_size;
  const direction = model.lm_head.slice(tg.id * D, (tg.id + 1) * D);
  if (tg.contrast_id !== null) {
    for (let d = 0; d < D; d++) direction[d] -= model.lm_head[tg.contrast_id * D + d];
  }
  return { position: tg.position, direction };
}

function emptyComponents(M: number, T: number, D: number, rest: number): Components {
  return { M, T, D, data: new Float32Array(M * T * D), start: new Int32Array(M), rest };
}

/** Token mode: component m holds token m's embedding (and learned position) at position m. */
export function tokenComponents(model: ReferenceModel, rec: ForwardRecord): Components {
  const T = rec.T;
  const D = model.description.hidden_size;
  const C = emptyComponents(T + 1, T, D, T);
  const h0 = rec.layers[0].h_in; // [T, D] the embeddings themselves
  for (let m = 0; m < T; m++) {
    C.data.set(h0.subarray(m * D, (m + 1) * D), (m * T + m) * D);
    C.start[m] = m;
  }
  // The rest starts empty; it only ever fills from biases and LayerNorm betas.
  C.start[T] = modelHasBiases(model) ? 0 : T;
  return C;
}

/**
 * Head mode at layer l: head h's component is Wo_h (A_h v^_h), where v^ is the value of the
 * normalised input without LayerNorm's beta and without b_v: what the head reads from the tokens.
 * beta, b_v and b_o are constants the heads add whatever the input (rows of A sum to one), so they
 * go to the rest: rest = h_l + Wo (Wv beta + b_v) + b_o, i.e. h_l + attn_out minus every head.
 */
export function headComponents(model: ReferenceModel, rec: ForwardRecord, l: number): Components {
  const cfg = model.description;
  const { T } = rec;
  const D = cfg.hidden_size;
  const H = cfg.num_attention_heads;
  const Hkv = cfg.num_key_value_heads;
  const dh = cfg.head_dim;
  const lr = rec.layers[l];
  const w = model.layers[l];
  const centred = applyNorm(lr.h_in, T, D, lr.attn_norm, { weight: w.input_layernorm.weight }); // [T, D] without beta
  const v = matmul(centred, w.v_proj.weight, T, D, Hkv * dh); // [T, Hkv*dh] without b_v
  const y = attentionMix(lr.A, v, 1, T, H, Hkv, dh, new Int32Array(1)); // [T, H, dh]
  const C = emptyComponents(H + 1, T, D, H);
  const yh = new Float32Array(T * H * dh);
  const restRow = C.data.subarray(H * T * D, (H + 1) * T * D);
  for (let t = 0; t < T * D; t++) restRow[t] = lr.h_in[t] + lr.attn_out[t];
  for (let h = 0; h < H; h++) {
    yh.fill(0);
    for (let t = 0; t < T; t++) yh.set(y.subarray((t * H + h) * dh, (t * H + h + 1) * dh), (t * H + h) * dh);
    const out = matmul(yh, w.o_proj.weight, T, H * dh, D); // [T, D] head h alone
    C.data.set(out, h * T * D);
    for (let i = 0; i < T * D; i++) restRow[i] -= out[i];
  }
  return C;
}

/** Neuron mode at layer l: neuron j's write a[t][j] * Wdown[:, j] for j in from..to-1. */
export function neuronComponents(model: ReferenceModel, rec: ForwardRecord, l: number, from: number, to: number): Components {
  const cfg = model.description;
  const { T } = rec;
  const D = cfg.hidden_size;
  const I = cfg.intermediate_size;
  const G = to - from;
  const lr = rec.layers[l];
  const Wd = model.layers[l].down_proj.weight; // [D, I]
  const C = emptyComponents(G + 1, T, D, G);
  const restRow = C.data.subarray(G * T * D);
  // The rest is the state after the MLP (not before it) minus the tracked writes.
  for (let i = 0; i < T * D; i++) restRow[i] = lr.h_in[i] + lr.attn_out[i] + lr.mlp_out[i];
  for (let g = 0; g < G; g++) {
    const j = from + g;
    for (let t = 0; t < T; t++) {
      const a = lr.act[t * I + j];
      const o = (g * T + t) * D;
      for (let d = 0; d < D; d++) {
        const val = a * Wd[d * I + j];
        C.data[o + d] = val;
        restRow[t * D + d] -= val;
      }
    }
  }
  return C;
}

/** Module mode at layer l: incoming residual (the rest), attention output, MLP output. */
export function moduleComponents(model: ReferenceModel, rec: ForwardRecord, l: number): Components {
  const D = model.description.hidden_size;
  const { T } = rec;
  const lr = rec.layers[l];
  const C = emptyComponents(3, T, D, 0);
  C.data.set(lr.h_in, 0);
  C.data.set(lr.attn_out, T * D);
  C.data.set(lr.mlp_out, 2 * T * D);
  return C;
}

/** Subspace mode at layer l: the residual entering l split into (h.u/|u|^2) u and h minus that. */
export function subspaceComponents(model: ReferenceModel, rec: ForwardRecord, l: number, u: Float32Array): Components {
  const D = model.description.hidden_size;
  const { T } = rec;
  const h = l < rec.layers.length ? rec.layers[l].h_in : rec.h_final;
  const C = emptyComponents(2, T, D, 1);
  let uu = 0;
  for (let d = 0; d < D; d++) uu += u[d] * u[d];
  for (let t = 0; t < T; t++) {
    let hu = 0;
    for (let d = 0; d < D; d++) hu += h[t * D + d] * u[d];
    const c = uu > 0 ? hu / uu : 0;
    for (let d = 0; d < D; d++) {
      const p = c * u[d];
      C.data[t * D + d] = p;
      C.data[(T + t) * D + d] = h[t * D + d] - p;
    }
  }
  return C;
}
