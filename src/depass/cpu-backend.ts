// The reference engine behind the AttributionBackend interface: plain TypeScript on the CPU. It is
// the test oracle for the GPU engine and the fallback when no WebGPU adapter exists. The pass
// plan (plan.ts) says what a granularity means; components.ts builds its initial components and
// decomposed.ts runs the one decomposed pass.

import { dims } from '../model/description';
import type { AttributeOptions, AttributionBackend, ForwardSummary, InitialComponents, ModeRequest, ModeScores, NeuronPromotes, TargetSpec } from './backend';
import { buildComponents, joinAt } from './components';
import { type CpuPass, decomposedLayer, readout } from './decomposed';
import { cappedLogit, type CpuForwardRecord, forward, lensLogits } from './forward';
import { gemm } from './gemm';
import { topK } from './ops';
import { activeRows, PlanError, planPass, targetDirections } from './plan';
import { type Ablation, normAfter, residualAfter } from './record';
import type { ReferenceModel } from './reference-model';
import type { TopEntry } from './result';

export class CpuBackend implements AttributionBackend {
  readonly kind = 'cpu' as const;
  private record: CpuForwardRecord | null = null;

  constructor(readonly model: ReferenceModel) {}

  async forward(ids: number[], opts: { lens?: boolean; ablation?: Ablation } = {}): Promise<ForwardSummary> {
    const { V, L } = dims(this.model.description);
    const rec = forward(this.model, ids, opts.ablation);
    this.record = rec;
    const T = ids.length;
    const cap = this.model.description.final_logit_softcapping;
    const top = Array.from({ length: T }, (_, t) => top5(rec.logits.subarray(t * V, (t + 1) * V), cap));
    let lens: TopEntry[][][] | undefined;
    if (opts.lens) {
      const perLayer = Array.from({ length: L }, (_, l) => lensLogits(this.model, residualAfter(rec, l), T));
      lens = Array.from({ length: T }, (_, t) => perLayer.map((lg) => top5(lg.subarray(t * V, (t + 1) * V), cap)));
    }
    return {
      T,
      top,
      lens,
      targetLogits: async (targets) =>
        targets.map((tg) => {
          const row = tg.position * V;
          return rec.logits[row + tg.id] - (tg.contrast_id === null ? 0 : rec.logits[row + tg.contrast_id]);
        }),
    };
  }

  /** The forward record of the last forward() call (for tests and evaluation). */
  get lastRecord(): CpuForwardRecord {
    if (!this.record) throw new Error('forward() must run before attribute()');
    return this.record;
  }

  async unembeddingRow(id: number): Promise<Float32Array> {
    return this.lmHeadRow(id);
  }

  private lmHeadRow(id: number): Float32Array {
    const { D, V } = dims(this.model.description);
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new RangeError(`token id ${id} is out of range`);
    return this.model.lm_head.slice(id * D, (id + 1) * D);
  }

  async attentionPattern(layer: number, head: number): Promise<Float32Array> {
    const rec = this.lastRecord;
    const TT = rec.T * rec.T;
    return rec.layers[layer].A.slice(head * TT, (head + 1) * TT);
  }

  maxComponents(T: number): number {
    // Keep the component buffer ([M, T, D] f32 plus a few work copies) near 256 MB.
    const D = this.model.description.hidden_size;
    return Math.max(2, Math.floor((64 * 1024 * 1024) / (T * D)));
  }

  async initialComponents(req: ModeRequest): Promise<InitialComponents> {
    const rec = this.lastRecord;
    const plan = planPass(this.model.description, rec.T, req, false);
    return { M: plan.M, rest: plan.rest, data: buildComponents(this.model, rec, req) };
  }

  async neuronPromotes(layer: number, neurons: number[], k: number): Promise<NeuronPromotes[]> {
    const { D, I, V, L } = dims(this.model.description);
    if (!(Number.isInteger(layer) && layer >= 0 && layer < L)) throw new PlanError(`layer ${layer} is out of range`);
    const Wd = this.model.layers[layer].down_proj.weight; // [D, I]
    return neurons.map((j) => {
      if (!(Number.isInteger(j) && j >= 0 && j < I)) throw new PlanError(`neuron ${j} is out of range`);
      const col = Float32Array.from({ length: D }, (_, d) => Wd[d * I + j]); // Wdown[:, j]
      const logits = new Float32Array(V); // W_U Wdown[:, j]
      gemm(col, this.model.lm_head, logits, { R: 1, N: V, K: D });
      return { neuron: j, top: topK(logits, k).map((id) => ({ id, logit: logits[id] })) };
    });
  }

  async attribute(req: ModeRequest, targets: TargetSpec[], opts: AttributeOptions): Promise<ModeScores> {
    const rec = this.lastRecord;
    const cfg = this.model.description;
    const { D, L } = dims(cfg);
    const plan = planPass(cfg, rec.T, req, opts.bosAtZero);
    for (const tg of targets)
      if (!(Number.isInteger(tg.position) && tg.position >= 0 && tg.position < rec.T)) throw new PlanError(`target position ${tg.position} is out of range`);
    const dirs = targetDirections((id) => this.lmHeadRow(id), D, targets);
    const positions = targets.map((tg) => tg.position);
    const pass: CpuPass = { plan, T: rec.T, D, data: buildComponents(this.model, rec, req), rows: activeRows(plan, rec.T) };
    const share = { rule: opts.rule, tau: opts.tau };

    const byLayer = req.kind === 'token' && req.byLayer ? new Float64Array(targets.length * L * plan.M) : undefined;
    for (let l = plan.from; l < L; l++) {
      // One layer at a time, yielding in between so a cancel message can arrive.
      await new Promise((r) => setTimeout(r, 0));
      if (opts.signal?.aborted) throw new DOMException('Run cancelled', 'AbortError');
      decomposedLayer(this.model, l, rec.layers[l], pass, share, () => joinAt(this.model, rec, plan, l, pass.data));
      opts.onLayer?.(l, L);
      if (!byLayer) continue;
      const s = readout(this.model, pass, normAfter(rec, l), dirs, positions);
      for (let i = 0; i < targets.length; i++) byLayer.set(s.subarray(i * plan.M, (i + 1) * plan.M), (i * L + l) * plan.M);
    }
    const scores = readout(this.model, pass, rec.final_norm, dirs, positions);
    return { M: plan.M, rest: plan.rest, scores, byLayer };
  }
}

/** The five highest logits, as the model reports them (soft-capped when it caps; the order is the same). */
function top5(logits: Float32Array, cap: number | null): TopEntry[] {
  return topK(logits, 5).map((id) => ({ id, logit: cappedLogit(logits[id], cap) }));
}
