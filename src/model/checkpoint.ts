// Loading a checkpoint from the files a user hands over: detect the format, describe the model,
// check every tensor's presence, dtype and shape against the description before reading any
// weight, then read the weights in their file dtype into Hugging Face Llama layout (GPT-2's
// Conv1D matrices transposed and c_attn split). No GPU and no DOM here.

import { findCheckpointFiles } from './checkpoint-files';
import { describeModel } from './config';
import { bytesPerElement, type DType, type LayerWeights, type Linear, type ModelDescription, type ModelWeights, type Norm, type Tensor } from './description';
import { ModelFormatError } from './errors';
import type { ModelFile } from './files';
import { fingerprint } from './fingerprint';
import { readLlama2c } from './llama2c';
import {
  isWeightDType,
  openSafetensorsFile,
  openSafetensorsIndex,
  readJsonFile,
  readSafetensorsTensor,
  type SafetensorsCheckpoint,
  type SafetensorsEntry,
} from './safetensors';

export interface Checkpoint {
  description: ModelDescription;
  weights: ModelWeights;
  fingerprint: string;
  format: 'safetensors' | 'llama2c';
}

/**
 * Loads the checkpoint among `files` (a Hugging Face folder, possibly under a leading folder
 * name, or a llama2.c .bin). Every failure is a ModelFormatError naming the file (and tensor).
 * Tied models get `lm_head === embed_tokens`; `description.dtype` is the weights' dominant dtype.
 */
export async function loadCheckpoint(files: readonly ModelFile[]): Promise<Checkpoint> {
  const found = findCheckpointFiles(files);
  if (found.format === 'llama2c') {
    const { description, weights } = await readLlama2c(found.bin);
    return { description, weights, fingerprint: await fingerprint(files), format: 'llama2c' };
  }
  const config = await readJsonFile(found.config);
  const folderName = found.folder ? found.folder.slice(found.folder.lastIndexOf('/') + 1) : undefined;
  const description = describeModel(config, found.config.path, folderName);
  const checkpoint = found.index ? await openSafetensorsIndex(found.index, files) : await openSafetensorsFile(found.weights!);
  const weightsPath = (found.index ?? found.weights!).path;
  const weights = await loadSafetensorsWeights(description, checkpoint, found.config.path, weightsPath);
  description.dtype = dominantDType(weights);
  return { description, weights, fingerprint: await fingerprint(files), format: 'safetensors' };
}

/** A tensor the description calls for: where it is and the shape it must have. */
interface Wanted {
  entry: SafetensorsEntry;
  shape: number[];
}

/**
 * Finds tensors by their name without the checkpoint's optional prefix ("model." for the Llama
 * families, "transformer." for GPT-2), checks them, and remembers what to read.
 */
class TensorPlan {
  readonly wanted: Wanted[] = [];
  /** The prefix this checkpoint uses, for naming a missing tensor as the file would. */
  private readonly shownPrefix: string;

  constructor(
    readonly d: ModelDescription,
    readonly ckpt: SafetensorsCheckpoint,
    readonly configPath: string,
    readonly weightsPath: string,
    readonly prefixes: string[],
  ) {
    const names = [...ckpt.entries.keys()];
    // The prefix in use; none when the file has tensors but none prefixed; the usual one for an empty file.
    this.shownPrefix = prefixes.find((p) => p !== '' && names.some((n) => n.startsWith(p))) ?? (names.length > 0 ? '' : prefixes[0]!);
  }

  /** `top`: a name outside the prefixed body (lm_head), looked up exactly. */
  find(name: string, top = false): SafetensorsEntry | undefined {
    if (top) return this.ckpt.entries.get(name);
    for (const p of this.prefixes) {
      const e = this.ckpt.entries.get(p + name);
      if (e) return e;
    }
    return undefined;
  }

  /** Requires `name` with `shape` (labels name the dimensions in messages). */
  need(name: string, shape: number[], labels: string, top = false): Wanted {
    const entry = this.find(name, top);
    if (!entry) {
      const shown = top ? name : this.shownPrefix + name;
      throw new ModelFormatError('missing', this.weightsPath, `tensor is missing (${this.configPath} calls for ${labels} = [${shape.join(', ')}])`, shown);
    }
    if (!isWeightDType(entry.dtype)) {
      throw new ModelFormatError('unsupported', entry.file.path, `dtype ${entry.dtype} is not supported for weights (F32, F16 or BF16 only)`, entry.name);
    }
    if (entry.shape.length !== shape.length || entry.shape.some((v, i) => v !== shape[i])) {
      throw new ModelFormatError(
        'mismatch',
        entry.file.path,
        `shape [${entry.shape.join(', ')}] does not match ${this.configPath}, which implies ${labels} = [${shape.join(', ')}]`,
        entry.name,
      );
    }
    const w = { entry, shape };
    this.wanted.push(w);
    return w;
  }

  /** A tensor the description says must not exist. */
  forbid(name: string, reason: string): void {
    const entry = this.find(name);
    if (entry) throw new ModelFormatError('mismatch', entry.file.path, `tensor is present but ${this.configPath} says ${reason}`, entry.name);
  }

  /** No tensor may belong to a layer beyond the configured count. */
  checkLayerCount(pattern: RegExp): void {
    for (const name of this.ckpt.entries.keys()) {
      const m = pattern.exec(name);
      if (m && Number(m[1]) >= this.d.num_hidden_layers) {
        const entry = this.ckpt.entries.get(name)!;
        throw new ModelFormatError('mismatch', entry.file.path, `tensor of layer ${m[1]} but ${this.configPath} has ${this.d.num_hidden_layers} layers`, name);
      }
    }
  }
}

async function loadSafetensorsWeights(d: ModelDescription, ckpt: SafetensorsCheckpoint, configPath: string, weightsPath: string): Promise<ModelWeights> {
  return d.family === 'gpt2' ? loadGpt2(d, ckpt, configPath, weightsPath) : loadLlamaLike(d, ckpt, configPath, weightsPath);
}

/** Reads every planned tensor (after all checks passed); keyed by the plan entries. */
async function readAll(plan: TensorPlan): Promise<Map<Wanted, Tensor>> {
  const out = new Map<Wanted, Tensor>();
  for (const w of plan.wanted) out.set(w, await readSafetensorsTensor(w.entry));
  return out;
}

async function loadLlamaLike(d: ModelDescription, ckpt: SafetensorsCheckpoint, configPath: string, weightsPath: string): Promise<ModelWeights> {
  const plan = new TensorPlan(d, ckpt, configPath, weightsPath, ['model.', '']);
  const { vocab_size: V, hidden_size: D, intermediate_size: I, head_dim: dh } = d;
  const qDim = d.num_attention_heads * dh; // H*dh
  const kvDim = d.num_key_value_heads * dh; // Hkv*dh
  plan.checkLayerCount(/^(?:model\.)?layers\.(\d+)\./);

  const embed = plan.need('embed_tokens.weight', [V, D], '[V, D]');
  const layerPlans = [];
  for (let l = 0; l < d.num_hidden_layers; l++) {
    const p = `layers.${l}`;
    const linear = (name: string, out: number, inp: number, labels: string, withBias: boolean, biasReason: string) => {
      const weight = plan.need(`${name}.weight`, [out, inp], labels);
      const outLabel = labels.slice(1, labels.indexOf(',')); // '[H*dh, D]' -> 'H*dh'
      if (withBias) return { weight, bias: plan.need(`${name}.bias`, [out], `[${outLabel}]`) };
      plan.forbid(`${name}.bias`, biasReason);
      return { weight };
    };
    const noAttnBias = d.family === 'qwen2' ? 'o_proj has no bias' : 'attention_bias is false';
    const layer = {
      input_layernorm: plan.need(`${p}.input_layernorm.weight`, [D], '[D]'),
      q_proj: linear(`${p}.self_attn.q_proj`, qDim, D, '[H*dh, D]', d.hasQkvBias, noAttnBias),
      k_proj: linear(`${p}.self_attn.k_proj`, kvDim, D, '[Hkv*dh, D]', d.hasQkvBias, noAttnBias),
      v_proj: linear(`${p}.self_attn.v_proj`, kvDim, D, '[Hkv*dh, D]', d.hasQkvBias, noAttnBias),
      o_proj: linear(`${p}.self_attn.o_proj`, D, qDim, '[D, H*dh]', d.hasOBias, noAttnBias),
      q_norm: d.hasQkNorm ? plan.need(`${p}.self_attn.q_norm.weight`, [dh], '[dh]') : undefined,
      k_norm: d.hasQkNorm ? plan.need(`${p}.self_attn.k_norm.weight`, [dh], '[dh]') : undefined,
      post_attention_layernorm: plan.need(`${p}.post_attention_layernorm.weight`, [D], '[D]'),
      gate_proj: linear(`${p}.mlp.gate_proj`, I, D, '[I, D]', d.hasMlpBias, 'mlp_bias is false'),
      up_proj: linear(`${p}.mlp.up_proj`, I, D, '[I, D]', d.hasMlpBias, 'mlp_bias is false'),
      down_proj: linear(`${p}.mlp.down_proj`, D, I, '[D, I]', d.hasMlpBias, 'mlp_bias is false'),
    };
    if (!d.hasQkNorm) {
      plan.forbid(`${p}.self_attn.q_norm.weight`, `a ${d.family} model has no q/k norm`);
      plan.forbid(`${p}.self_attn.k_norm.weight`, `a ${d.family} model has no q/k norm`);
    }
    layerPlans.push(layer);
  }
  const norm = plan.need('norm.weight', [D], '[D]');
  const lmHead = d.tie_word_embeddings ? null : plan.need('lm_head.weight', [V, D], '[V, D]', true);

  const read = await readAll(plan);
  const t = (w: Wanted) => read.get(w)!;
  const lin = (x: { weight: Wanted; bias?: Wanted }): Linear => (x.bias ? { weight: t(x.weight), bias: t(x.bias) } : { weight: t(x.weight) });
  const embed_tokens = t(embed);
  const layers: LayerWeights[] = layerPlans.map((x) => {
    const layer: LayerWeights = {
      input_layernorm: { weight: t(x.input_layernorm) },
      q_proj: lin(x.q_proj),
      k_proj: lin(x.k_proj),
      v_proj: lin(x.v_proj),
      o_proj: lin(x.o_proj),
      post_attention_layernorm: { weight: t(x.post_attention_layernorm) },
      gate_proj: lin(x.gate_proj),
      up_proj: lin(x.up_proj),
      down_proj: lin(x.down_proj),
    };
    if (x.q_norm && x.k_norm) {
      layer.q_norm = { weight: t(x.q_norm) };
      layer.k_norm = { weight: t(x.k_norm) };
    }
    return layer;
  });
  return { embed_tokens, layers, norm: { weight: t(norm) }, lm_head: lmHead ? t(lmHead) : embed_tokens };
}

/**
 * Columns [colStart, colStart + cols) of a row-major [rows, totalCols] matrix, transposed to
 * [cols, rows]: Conv1D's [in, out] becomes Linear's [out, in]. Raw 2- or 4-byte elements are
 * moved as they are.
 */
export function transposeColumns(bytes: Uint8Array, rows: number, totalCols: number, colStart: number, cols: number, dtype: DType): Uint8Array<ArrayBuffer> {
  const size = bytesPerElement(dtype);
  const out = new Uint8Array(rows * cols * size);
  if (bytes.byteOffset % size === 0) {
    const view = (buffer: ArrayBufferLike, offset: number, n: number) => (size === 4 ? new Uint32Array(buffer, offset, n) : new Uint16Array(buffer, offset, n));
    const src = view(bytes.buffer, bytes.byteOffset, rows * totalCols);
    const dst = view(out.buffer, 0, rows * cols);
    for (let r = 0; r < rows; r++) {
      const rowBase = r * totalCols + colStart;
      for (let c = 0; c < cols; c++) dst[c * rows + r] = src[rowBase + c]!;
    }
    return out;
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const from = (r * totalCols + colStart + c) * size;
      out.set(bytes.subarray(from, from + size), (c * rows + r) * size);
    }
  }
  return out;
}

async function loadGpt2(d: ModelDescription, ckpt: SafetensorsCheckpoint, configPath: string, weightsPath: string): Promise<ModelWeights> {
  const plan = new TensorPlan(d, ckpt, configPath, weightsPath, ['', 'transformer.']);
  const { vocab_size: V, hidden_size: D, intermediate_size: I } = d;
  const P = d.max_position_embeddings;
  plan.checkLayerCount(/^(?:transformer\.)?h\.(\d+)\./);

  const wte = plan.need('wte.weight', [V, D], '[V, D]');
  const wpe = plan.need('wpe.weight', [P, D], '[n_positions, D]');
  const layerPlans = [];
  for (let l = 0; l < d.num_hidden_layers; l++) {
    const p = `h.${l}`;
    // Conv1D weights are stored [in, out].
    layerPlans.push({
      ln1: [plan.need(`${p}.ln_1.weight`, [D], '[D]'), plan.need(`${p}.ln_1.bias`, [D], '[D]')] as const,
      cAttn: [plan.need(`${p}.attn.c_attn.weight`, [D, 3 * D], '[D, 3D]'), plan.need(`${p}.attn.c_attn.bias`, [3 * D], '[3D]')] as const,
      cProj: [plan.need(`${p}.attn.c_proj.weight`, [D, D], '[D, D]'), plan.need(`${p}.attn.c_proj.bias`, [D], '[D]')] as const,
      ln2: [plan.need(`${p}.ln_2.weight`, [D], '[D]'), plan.need(`${p}.ln_2.bias`, [D], '[D]')] as const,
      fc: [plan.need(`${p}.mlp.c_fc.weight`, [D, I], '[D, I]'), plan.need(`${p}.mlp.c_fc.bias`, [I], '[I]')] as const,
      proj: [plan.need(`${p}.mlp.c_proj.weight`, [I, D], '[I, D]'), plan.need(`${p}.mlp.c_proj.bias`, [D], '[D]')] as const,
    });
  }
  const lnF = [plan.need('ln_f.weight', [D], '[D]'), plan.need('ln_f.bias', [D], '[D]')] as const;
  // GPT2LMHeadModel's head sits outside "transformer.".
  const lmHead = d.tie_word_embeddings ? null : plan.need('lm_head.weight', [V, D], '[V, D]', true);

  const read = await readAll(plan);
  const t = (w: Wanted) => read.get(w)!;
  const norm = ([w, b]: readonly [Wanted, Wanted]): Norm => ({ weight: t(w), bias: t(b) });
  const conv = ([w, b]: readonly [Wanted, Wanted]): Linear => {
    const src = t(w);
    const [rows, cols] = src.shape as [number, number];
    return { weight: { ...src, shape: [cols, rows], bytes: transposeColumns(src.bytes, rows, cols, 0, cols, src.dtype) }, bias: t(b) };
  };
  const embed_tokens = t(wte);
  const layers: LayerWeights[] = layerPlans.map((x) => {
    const cAttn = t(x.cAttn[0]); // [D, 3D]: q, k, v output columns side by side
    const cAttnBias = t(x.cAttn[1]); // [3D]
    const size = bytesPerElement(cAttnBias.dtype);
    const part = (k: number, tag: string): Linear => ({
      weight: { name: `${cAttn.name}[${tag}]`, dtype: cAttn.dtype, shape: [D, D], bytes: transposeColumns(cAttn.bytes, D, 3 * D, k * D, D, cAttn.dtype) },
      bias: { name: `${cAttnBias.name}[${tag}]`, dtype: cAttnBias.dtype, shape: [D], bytes: cAttnBias.bytes.slice(k * D * size, (k + 1) * D * size) },
    });
    return {
      input_layernorm: norm(x.ln1),
      q_proj: part(0, 'q'),
      k_proj: part(1, 'k'),
      v_proj: part(2, 'v'),
      o_proj: conv(x.cProj),
      post_attention_layernorm: norm(x.ln2),
      up_proj: conv(x.fc),
      down_proj: conv(x.proj),
    };
  });
  return { embed_tokens, embed_positions: t(wpe), layers, norm: norm(lnF), lm_head: lmHead ? t(lmHead) : embed_tokens };
}

/** The dtype holding the most elements (the one a model card would name). */
function dominantDType(w: ModelWeights): DType {
  const count: Record<DType, number> = { F32: 0, F16: 0, BF16: 0 };
  const add = (t: Tensor | undefined) => {
    if (t) count[t.dtype] += t.bytes.byteLength / bytesPerElement(t.dtype);
  };
  add(w.embed_tokens);
  add(w.embed_positions);
  for (const l of w.layers) {
    for (const lin of [l.q_proj, l.k_proj, l.v_proj, l.o_proj, l.gate_proj, l.up_proj, l.down_proj]) {
      add(lin?.weight);
      add(lin?.bias);
    }
  }
  if (w.lm_head !== w.embed_tokens) add(w.lm_head);
  return (Object.keys(count) as DType[]).reduce((a, b) => (count[b] > count[a] ? b : a));
}
