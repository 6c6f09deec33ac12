// The decomposed pass on the GPU: the plan's components pushed through the frozen layers (the
// twin of src/depass/decomposed.ts, on the same active-row layout) and read out per target. One
// command encoder per layer, one layer queued behind the one the GPU runs.

import type { AttributeOptions, InitialComponents, ModeRequest, ModeScores, TargetSpec } from '../depass/backend';
import { PROPORTIONAL_GUARD } from '../depass/ops';
import { activeRows, type Branch, type PassPlan, PlanError, present, rowsOf, targetDirections } from '../depass/plan';
import { normAfter } from '../depass/record';
import { dims } from '../model/description';
import { readF32, uploadStorage, writeStorage } from './buffers';
import { buildComponents, joinAt } from './components';
import type { EngineParts, GpuForwardRecord, GpuLayerRecord } from './forward';
import type { GpuNorm } from './weights';
import { allocate, decomposedLayout } from './memory';
import * as ops from './ops';
import { recordStep, type Step } from './step';

type PassBuffers = Record<keyof ReturnType<typeof decomposedLayout>, GPUBuffer>;

interface PassState {
  plan: PassPlan;
  T: number;
  /** Neurons per MLP tile. */
  J: number;
  b: PassBuffers;
  start: GPUBuffer; // [M] u32
}

function abortError(): DOMException {
  return new DOMException('Run cancelled', 'AbortError');
}

/** The initial components of a plan, read back (for checks; a run never needs them). */
export async function readInitialComponents(parts: EngineParts, rec: GpuForwardRecord, plan: PassPlan, req: ModeRequest): Promise<InitialComponents> {
  const list: GPUBuffer[] = [];
  try {
    const b = await allocate(parts.device, decomposedLayout(parts.cfg, rec.T, plan.M, 1), list, `${req.kind} components `);
    await recordStep(parts.pool, `${req.kind} components`, (step) => buildComponents(step, parts, rec, req, b.C, { bufA: b.bufA, bufB: b.bufB, O: b.O, list }));
    const data = await readF32(parts.device, b.C, 0, plan.M * rec.T * parts.cfg.hidden_size);
    return { M: plan.M, rest: plan.rest, data };
  } finally {
    for (const buf of list) buf.destroy();
  }
}

/**
 * Runs the decomposed pass of `plan` and returns each component's score per target (and per layer
 * for token mode with byLayer). J is the neuron tile the memory check chose; dirs come from the
 * unembedding rows on the CPU (`lmHeadRow`).
 */
export async function runDecomposed(
  parts: EngineParts,
  rec: GpuForwardRecord,
  req: ModeRequest,
  plan: PassPlan,
  J: number,
  targets: TargetSpec[],
  lmHeadRow: (id: number) => Float32Array,
  opts: AttributeOptions,
): Promise<ModeScores> {
  const { device, cfg, pool } = parts;
  const { D, L } = dims(cfg);
  const { T } = rec;
  const n = targets.length;
  for (const tg of targets)
    if (!(Number.isInteger(tg.position) && tg.position >= 0 && tg.position < T)) throw new PlanError(`target position ${tg.position} is out of range`);
  const byLayer = req.kind === 'token' && !!req.byLayer;
  const rows = activeRows(plan, T);
  const list: GPUBuffer[] = [];
  try {
    const b = await allocate(device, decomposedLayout(cfg, T, plan.M, J, n, byLayer), list, `${req.kind} mode `);
    writeStorage(device, b.rows, 0, rows);
    const start = uploadStorage(device, 'component starts', Uint32Array.from(plan.start));
    const dirs = uploadStorage(device, 'target directions', targetDirections(lmHeadRow, D, targets));
    const pos = uploadStorage(
      device,
      'target positions',
      Uint32Array.from(targets, (tg) => tg.position),
    );
    list.push(start, dirs, pos);
    const state: PassState = { plan, T, J, b, start };

    await recordStep(pool, `${req.kind} components`, (step) => buildComponents(step, parts, rec, req, b.C, { bufA: b.bufA, bufB: b.bufB, O: b.O, list }));

    // One layer stays queued behind the one the GPU runs, so it never waits for the CPU; progress
    // is reported (and cancellation checked) as each layer finishes.
    let running: { layer: number; done: Promise<void> } | null = null;
    const finished = async () => {
      if (!running) return;
      await running.done;
      if (opts.signal?.aborted) throw abortError();
      opts.onLayer?.(running.layer, L);
      running = null;
    };
    for (let l = plan.from; l < L; l++) {
      if (opts.signal?.aborted) throw abortError();
      await recordStep(pool, `decomposed layer ${l}`, async (step) => {
        const scratch = { bufA: b.bufA, bufB: b.bufB, O: b.O, list };
        await decomposedLayer(step, parts, l, rec.layers[l]!, state, opts, () => joinAt(step, parts, rec, plan, l, b.C, scratch));
        if (byLayer) await readout(step, parts, state, normAfter(rec, l).scale, dirs, pos, n, b.by_layer, l * plan.M, L * plan.M);
      });
      const done = device.queue.onSubmittedWorkDone();
      await finished();
      running = { layer: l, done };
    }
    await finished();

    await recordStep(pool, 'read-out', (step) => readout(step, parts, state, rec.final_norm.scale, dirs, pos, n, b.out, 0, plan.M));
    const result: ModeScores = { M: plan.M, rest: plan.rest, scores: Float64Array.from(await readF32(device, b.out, 0, n * plan.M)) };
    if (byLayer) result.byLayer = Float64Array.from(await readF32(device, b.by_layer, 0, n * L * plan.M));
    return result;
  } finally {
    for (const buf of list) buf.destroy();
  }
}

/**
 * Layer l of the pass on the components in b.C (from its MLP when the plan starts there), each
 * branch on the components present there (a prefix: plan.ts present()). A branch with an output
 * norm writes into b.O first and joins C through the norm at its frozen scale; with a parallel
 * residual the attention's writes wait in b.O until the MLP has read the layer's input. `join`
 * adds the components joining at layer l: after the attention, or after the layer with a parallel
 * residual.
 */
async function decomposedLayer(
  step: Step,
  parts: EngineParts,
  l: number,
  lr: GpuLayerRecord,
  s: PassState,
  opts: AttributeOptions,
  join: () => Promise<void>,
): Promise<void> {
  const { cfg, weights } = parts;
  const { D, H, Hkv, dh, I } = dims(cfg);
  const { plan, T, J, b } = s;
  const { rest } = plan;
  const w = weights.layers[l]!;
  const center = cfg.normKind === 'layer';
  const rows = b.rows;
  const parallel = cfg.parallelResidual;
  /** Components present in a branch, and their active rows (a prefix of the row map). */
  const branch = (which: Branch) => {
    const M = present(plan, l, which, parallel);
    return { M, R: rowsOf(plan, T, M) };
  };
  /** The frozen-scale norm of R rows of the components into b.X (or C itself without a norm). */
  const normalised = async (norm: GpuNorm | undefined, scale: GPUBuffer, R: number) => {
    if (!norm) return b.C;
    await ops.normApply(step, { x: b.C, scale, gamma: norm.weight, beta: norm.bias, rows, y: b.X, R, D, T, center, betaBlock: rest });
    return b.X;
  };
  /** Writes of R rows gathered in O join C through an output norm. */
  const joinNorm = (norm: GpuNorm, scale: GPUBuffer, R: number) =>
    ops.normApply(step, { x: b.O, scale, gamma: norm.weight, rows, y: b.C, R, D, T, center, accumulate: true });

  const attention = !(plan.startAtMlp && l === plan.from);
  const held = attention && parallel;
  const a = branch('attention');
  if (attention && a.M > 0) {
    const { M, R } = a;
    const x = await normalised(w.input_layernorm, lr.attn_norm.scale, R);
    // The value bias goes to the rest: rows of A sum to one, so it reaches every position whole.
    await ops.linear(step, { X: x, W: w.v_proj.weight, bias: w.v_proj.bias, biasBlock: rest, T, rows, Y: b.bufA, R, K: D });
    await ops.attentionMix(step, { A: lr.A, v: b.bufA, start: s.start, y: b.bufB, M, T, H, Hkv, dh });
    const toO = held || w.attn_output_norm !== undefined;
    if (toO) step.clear(b.O);
    await ops.linear(step, {
      X: b.bufB,
      W: w.o_proj.weight,
      bias: w.o_proj.bias,
      biasBlock: rest,
      T,
      rows,
      Y: toO ? b.O : b.C,
      R,
      K: H * dh,
      accumulate: !toO,
    });
    if (w.attn_output_norm) await joinNorm(w.attn_output_norm, lr.attn_out_norm!.scale, R);
  }
  if (!parallel) await join();
  const { M, R } = branch('mlp');
  const x = await normalised(w.post_attention_layernorm, lr.mlp_norm.scale, R);
  const mlpOut = w.mlp_output_norm ? b.O : b.C;
  if (w.mlp_output_norm) step.clear(b.O);
  const pre = cfg.mlpKind === 'gated' ? w.gate_proj! : w.up_proj;
  for (let j0 = 0; j0 < I; j0 += J) {
    const Jt = Math.min(J, I - j0);
    await ops.linear(step, { X: x, W: pre.weight, n0: j0, N: Jt, bias: pre.bias, biasBlock: rest, T, rows, Y: b.bufA, R, K: D });
    await ops.mlpShare(step, {
      g: b.bufA,
      a: lr.act,
      start: s.start,
      c: b.bufB,
      M,
      T,
      J: Jt,
      a0: j0,
      lda: I,
      rule: opts.rule,
      tau: opts.tau,
      guard: PROPORTIONAL_GUARD,
      bos: plan.bosRule,
    });
    const bias = j0 === 0 ? w.down_proj.bias : undefined; // once, to the rest
    await ops.linear(step, { X: b.bufB, W: w.down_proj.weight, k0: j0, K: Jt, bias, biasBlock: rest, T, rows, Y: mlpOut, R, accumulate: true });
  }
  if (w.mlp_output_norm) await joinNorm(w.mlp_output_norm, lr.mlp_out_norm!.scale, R);
  if (held) await ops.scaleAdd(step, { x: b.O, y: b.C, R: a.M * T, C: D, alpha: 1, beta: 1 });
  if (parallel) await join();
}

/** Scores of every component for n targets through the frozen final norm at `scale`, into out[o0 + i * ldo + m]. */
function readout(
  step: Step,
  parts: EngineParts,
  s: PassState,
  scale: GPUBuffer,
  dirs: GPUBuffer,
  pos: GPUBuffer,
  n: number,
  out: GPUBuffer,
  o0: number,
  ldo: number,
): Promise<void> {
  const fnorm = parts.weights.norm;
  const { M, rest } = s.plan;
  return ops.readout(step, {
    C: s.b.C,
    dirs,
    pos,
    scale,
    gamma: fnorm.weight,
    beta: fnorm.bias,
    out,
    M,
    T: s.T,
    D: parts.cfg.hidden_size,
    n,
    rest,
    center: parts.cfg.normKind === 'layer',
    o0,
    ldo,
  });
}
