// Reading the weights of the LayerNorm families: GPT-2 (Conv1D matrices transposed, c_attn split),
// GPT-Neo (nn.Linear, biases on the output projection only) and GPT-NeoX (query_key_value split per
// head, embed_out as the head) into LayerWeights.

import type { LayerWeights, Linear, ModelDescription, ModelWeights, Norm, StoredTensor } from './description';
import type { SafetensorsCheckpoint } from './safetensors';
import { rowBlock } from './stored-tensor';
import { pickRows, transposed } from './tensor-ops';
import { storedAll, TensorPlan, type Wanted } from './tensor-plan';

export function loadGpt2(d: ModelDescription, ckpt: SafetensorsCheckpoint, configPath: string, weightsPath: string): ModelWeights<StoredTensor> {
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

  const read = storedAll(plan);
  const t = (w: Wanted) => read.get(w)!;
  const norm = ([w, b]: readonly [Wanted, Wanted]): Norm<StoredTensor> => ({ weight: t(w), bias: t(b) });
  // Conv1D weights are [in, out]: the engines read [out, in].
  const conv = ([w, b]: readonly [Wanted, Wanted]): Linear<StoredTensor> => {
    const src = t(w);
    return { weight: transposed(src, 0, src.shape[1]!), bias: t(b) };
  };
  const embed_tokens = t(wte);
  const layers: LayerWeights<StoredTensor>[] = layerPlans.map((x) => {
    const cAttn = t(x.cAttn[0]); // [D, 3D]: q, k, v output columns side by side
    const cAttnBias = t(x.cAttn[1]); // [3D]
    const part = (k: number, tag: string): Linear<StoredTensor> => ({
      weight: transposed(cAttn, k * D, D, `${cAttn.name}[${tag}]`),
      bias: rowBlock(cAttnBias, k * D, D, tag),
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

export function loadGptNeo(d: ModelDescription, ckpt: SafetensorsCheckpoint, configPath: string, weightsPath: string): ModelWeights<StoredTensor> {
  const plan = new TensorPlan(d, ckpt, configPath, weightsPath, ['transformer.', '']);
  const { vocab_size: V, hidden_size: D, intermediate_size: I } = d;
  plan.checkLayerCount(/^(?:transformer\.)?h\.(\d+)\./);
  const wte = plan.need('wte.weight', [V, D], '[V, D]');
  const wpe = plan.need('wpe.weight', [d.max_position_embeddings, D], '[max_position_embeddings, D]');
  const pair = (name: string, shape: number[], labels: string, biasLabel: string) =>
    [plan.need(`${name}.weight`, shape, labels), plan.need(`${name}.bias`, [shape[0]!], biasLabel)] as const;
  const layerPlans = [];
  for (let l = 0; l < d.num_hidden_layers; l++) {
    const p = `h.${l}`;
    const a = `${p}.attn.attention`;
    // nn.Linear weights ([out, in]); q, k and v carry no bias, the output projection does.
    for (const x of ['q_proj', 'k_proj', 'v_proj']) plan.forbid(`${a}.${x}.bias`, 'GPT-Neo has no q/k/v bias');
    layerPlans.push({
      ln1: pair(`${p}.ln_1`, [D], '[D]', '[D]'),
      q: plan.need(`${a}.q_proj.weight`, [D, D], '[D, D]'),
      k: plan.need(`${a}.k_proj.weight`, [D, D], '[D, D]'),
      v: plan.need(`${a}.v_proj.weight`, [D, D], '[D, D]'),
      out: pair(`${a}.out_proj`, [D, D], '[D, D]', '[D]'),
      ln2: pair(`${p}.ln_2`, [D], '[D]', '[D]'),
      fc: pair(`${p}.mlp.c_fc`, [I, D], '[I, D]', '[I]'),
      proj: pair(`${p}.mlp.c_proj`, [D, I], '[D, I]', '[D]'),
    });
  }
  const lnF = pair('ln_f', [D], '[D]', '[D]');
  const lmHead = d.tie_word_embeddings ? null : plan.need('lm_head.weight', [V, D], '[V, D]', true);

  const read = storedAll(plan);
  const t = (w: Wanted) => read.get(w)!;
  const both = ([w, b]: readonly [Wanted, Wanted]) => ({ weight: t(w), bias: t(b) });
  const embed_tokens = t(wte);
  const layers: LayerWeights<StoredTensor>[] = layerPlans.map((x) => ({
    input_layernorm: both(x.ln1),
    q_proj: { weight: t(x.q) },
    k_proj: { weight: t(x.k) },
    v_proj: { weight: t(x.v) },
    o_proj: both(x.out),
    post_attention_layernorm: both(x.ln2),
    up_proj: both(x.fc),
    down_proj: both(x.proj),
  }));
  return { embed_tokens, embed_positions: t(wpe), layers, norm: both(lnF), lm_head: lmHead ? t(lmHead) : embed_tokens };
}

export function loadGptNeox(d: ModelDescription, ckpt: SafetensorsCheckpoint, configPath: string, weightsPath: string): ModelWeights<StoredTensor> {
  const plan = new TensorPlan(d, ckpt, configPath, weightsPath, ['gpt_neox.', '']);
  const { vocab_size: V, hidden_size: D, intermediate_size: I, head_dim: dh, num_attention_heads: H } = d;
  plan.checkLayerCount(/^(?:gpt_neox\.)?layers\.(\d+)\./);
  const embed = plan.need('embed_in.weight', [V, D], '[V, D]');
  const pair = (name: string, shape: number[], labels: string, biasLabel: string) =>
    [plan.need(`${name}.weight`, shape, labels), plan.need(`${name}.bias`, [shape[0]!], biasLabel)] as const;
  const maybeBias = (name: string, shape: number[], labels: string, withBias: boolean) => {
    if (withBias) return pair(name, shape, labels, `[${shape[0]}]`);
    plan.forbid(`${name}.bias`, 'attention_bias is false');
    return [plan.need(`${name}.weight`, shape, labels)] as const;
  };
  const layerPlans = [];
  for (let l = 0; l < d.num_hidden_layers; l++) {
    const p = `layers.${l}`;
    layerPlans.push({
      ln1: pair(`${p}.input_layernorm`, [D], '[D]', '[D]'),
      qkv: maybeBias(`${p}.attention.query_key_value`, [3 * D, D], '[3D, D]', d.hasQkvBias),
      dense: maybeBias(`${p}.attention.dense`, [D, D], '[D, D]', d.hasOBias),
      ln2: pair(`${p}.post_attention_layernorm`, [D], '[D]', '[D]'),
      up: pair(`${p}.mlp.dense_h_to_4h`, [I, D], '[I, D]', '[I]'),
      down: pair(`${p}.mlp.dense_4h_to_h`, [D, I], '[D, I]', '[D]'),
    });
  }
  const lnF = pair('final_layer_norm', [D], '[D]', '[D]');
  // The head sits outside "gpt_neox." as embed_out (untied), or is the input embedding (tied).
  const lmHead = d.tie_word_embeddings ? null : plan.need('embed_out.weight', [V, D], '[V, D]', true);

  const read = storedAll(plan);
  const t = (w: Wanted) => read.get(w)!;
  const both = ([w, b]: readonly [Wanted, Wanted]) => ({ weight: t(w), bias: t(b) });
  const lin = (x: readonly Wanted[]): Linear<StoredTensor> => (x[1] ? { weight: t(x[0]!), bias: t(x[1]) } : { weight: t(x[0]!) });
  // query_key_value's rows are grouped per head: [q_h | k_h | v_h] for h = 0..H-1.
  const part = (k: number) => Array.from({ length: H * dh }, (_, i) => Math.floor(i / dh) * 3 * dh + k * dh + (i % dh));
  const split = (x: readonly Wanted[], k: number, tag: string): Linear<StoredTensor> => {
    const w = t(x[0]!);
    const b = x[1] && t(x[1]);
    const rows = part(k);
    return b ? { weight: pickRows(w, rows, tag), bias: pickRows(b, rows, tag) } : { weight: pickRows(w, rows, tag) };
  };
  const embed_tokens = t(embed);
  const layers: LayerWeights<StoredTensor>[] = layerPlans.map((x) => ({
    input_layernorm: both(x.ln1),
    q_proj: split(x.qkv, 0, 'q'),
    k_proj: split(x.qkv, 1, 'k'),
    v_proj: split(x.qkv, 2, 'v'),
    o_proj: lin(x.dense),
    post_attention_layernorm: both(x.ln2),
    up_proj: both(x.up),
    down_proj: both(x.down),
  }));
  return { embed_tokens, layers, norm: both(lnF), lm_head: lmHead ? t(lmHead) : embed_tokens };
}
