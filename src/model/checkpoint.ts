// Loading a checkpoint from the files a user hands over: detect the format, describe the model,
// check every tensor's presence, dtype and shape against the description before reading any
// weight (tensor-plan.ts), then read the weights in their file dtype into Hugging Face Llama
// layout (weights-llama.ts, weights-gpt.ts). No GPU and no DOM here.

import { findCheckpointFiles } from './checkpoint-files';
import { describeModel } from './config';
import { type DType, elementCount, type ModelDescription, type ModelWeights, type StoredTensor, type Tensor, type Weight } from './description';
import type { ModelFile } from './files';
import { fingerprint } from './fingerprint';
import { readLlama2c } from './llama2c';
import { openSafetensorsFile, openSafetensorsIndex, readJsonFile, type SafetensorsCheckpoint } from './safetensors';
import { weightsInMemory } from './stored-tensor';
import { loadGpt2, loadGptNeo, loadGptNeox } from './weights-gpt';
import { loadLlamaLike } from './weights-llama';

export interface Checkpoint<T extends Weight = Tensor> {
  description: ModelDescription;
  weights: ModelWeights<T>;
  fingerprint: string;
  format: 'safetensors' | 'llama2c';
}

/**
 * Opens the checkpoint among `files` (a Hugging Face folder, possibly under a leading folder
 * name, or a llama2.c .bin) with every tensor checked but left in its file: the GPU engine streams
 * them from there. Every failure is a ModelFormatError naming the file (and tensor). Tied models
 * get `lm_head === embed_tokens`; `description.dtype` is the weights' dominant dtype.
 */
export async function openCheckpoint(files: readonly ModelFile[]): Promise<Checkpoint<Weight>> {
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
  const weights = storedWeights(description, checkpoint, found.config.path, weightsPath);
  description.dtype = dominantDType(weights);
  return { description, weights, fingerprint: await fingerprint(files), format: 'safetensors' };
}

/** The checkpoint with every weight read into memory (the reference engine and the tests want them there). */
export async function loadCheckpoint(files: readonly ModelFile[]): Promise<Checkpoint> {
  const c = await openCheckpoint(files);
  return { ...c, weights: await weightsInMemory(c.weights) };
}

function storedWeights(d: ModelDescription, ckpt: SafetensorsCheckpoint, configPath: string, weightsPath: string): ModelWeights<StoredTensor> {
  switch (d.family) {
    case 'gpt2':
      return loadGpt2(d, ckpt, configPath, weightsPath);
    case 'gpt_neo':
      return loadGptNeo(d, ckpt, configPath, weightsPath);
    case 'gpt_neox':
      return loadGptNeox(d, ckpt, configPath, weightsPath);
    default:
      return loadLlamaLike(d, ckpt, configPath, weightsPath);
  }
}

/** The dtype holding the most elements (the one a model card would name). */
function dominantDType(w: ModelWeights<Weight>): DType {
  const count: Record<DType, number> = { F32: 0, F16: 0, BF16: 0 };
  const add = (t: Weight | undefined) => {
    if (t) count[t.dtype] += elementCount(t);
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
