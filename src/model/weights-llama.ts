// Reading the weights of the families that share the Llama checkpoint layout (Llama, Mistral,
// Qwen2/3, Gemma 1/2/3, OLMo-2, Phi-3) into LayerWeights: Phi-3's fused qkv and gate_up split into
// their blocks, Gemma's (1 + w) norms made plain, Gemma 2/3's four norms and OLMo-2's output norms
// put in their places.

import type { LayerWeights, Linear, ModelDescription, ModelWeights, Norm, StoredTensor } from './description';
import type { SafetensorsCheckpoint } from './safetensors';
import { rowBlock } from './stored-tensor';
import { onePlus, roundTo } from './tensor-ops';
import { storedAll, TensorPlan, type Wanted } from './tensor-plan';

interface LinearPlan {
  weight: Wanted;
  bias?: Wanted;
}

/** How a layer's pieces are stored; `fused` ones are split after reading. */
interface LayerPlan {
  input_layernorm?: Wanted;
  post_attention_layernorm?: Wanted;
  attn_output_norm?: Wanted;
  mlp_output_norm?: Wanted;
  q_norm?: Wanted;
  k_norm?: Wanted;
  attn: { q: LinearPlan; k: LinearPlan; v: LinearPlan } | { qkv: Wanted };
  o: LinearPlan;
  mlp: { gate: LinearPlan; up: LinearPlan } | { gate_up: Wanted };
  down: LinearPlan;
}

export function loadLlamaLike(d: ModelDescription, ckpt: SafetensorsCheckpoint, configPath: string, weightsPath: string): ModelWeights<StoredTensor> {
  const plan = new TensorPlan(d, ckpt, configPath, weightsPath, ['model.', '']);
  const { vocab_size: V, hidden_size: D, intermediate_size: I, head_dim: dh } = d;
  const H = d.num_attention_heads;
  const Hkv = d.num_key_value_heads;
  const gemma = d.family === 'gemma' || d.family === 'gemma2' || d.family === 'gemma3_text';
  const fused = d.family === 'phi3';
  plan.checkLayerCount(/^(?:model\.)?layers\.(\d+)\./);

  const linear = (name: string, out: number, inp: number, labels: string, withBias: boolean, biasReason: string): LinearPlan => {
    const weight = plan.need(`${name}.weight`, [out, inp], labels);
    const outLabel = labels.slice(1, labels.indexOf(',')); // '[H*dh, D]' -> 'H*dh'
    if (withBias) return { weight, bias: plan.need(`${name}.bias`, [out], `[${outLabel}]`) };
    plan.forbid(`${name}.bias`, biasReason);
    return { weight };
  };
  const norm = (name: string, n: number, label: string) => plan.need(`${name}.weight`, [n], label);
  const noAttnBias = d.family === 'qwen2' ? 'o_proj has no bias' : 'attention_bias is false';
  const mlpBias = 'mlp_bias is false';

  const embed = plan.need('embed_tokens.weight', [V, D], '[V, D]');
  const layerPlans: LayerPlan[] = [];
  for (let l = 0; l < d.num_hidden_layers; l++) {
    const p = `layers.${l}`;
    const a = `${p}.self_attn`;
    const m = `${p}.mlp`;
    const layer: LayerPlan = {
      attn: fused
        ? { qkv: plan.need(`${a}.qkv_proj.weight`, [(H + 2 * Hkv) * dh, D], '[(H + 2 Hkv)*dh, D]') }
        : {
            q: linear(`${a}.q_proj`, H * dh, D, '[H*dh, D]', d.hasQkvBias, noAttnBias),
            k: linear(`${a}.k_proj`, Hkv * dh, D, '[Hkv*dh, D]', d.hasQkvBias, noAttnBias),
            v: linear(`${a}.v_proj`, Hkv * dh, D, '[Hkv*dh, D]', d.hasQkvBias, noAttnBias),
          },
      o: linear(`${a}.o_proj`, D, H * dh, '[D, H*dh]', d.hasOBias, noAttnBias),
      mlp: fused
        ? { gate_up: plan.need(`${m}.gate_up_proj.weight`, [2 * I, D], '[2I, D]') }
        : { gate: linear(`${m}.gate_proj`, I, D, '[I, D]', d.hasMlpBias, mlpBias), up: linear(`${m}.up_proj`, I, D, '[I, D]', d.hasMlpBias, mlpBias) },
      down: linear(`${m}.down_proj`, D, I, '[D, I]', d.hasMlpBias, mlpBias),
    };
    if (d.hasPreNorms) {
      layer.input_layernorm = norm(`${p}.input_layernorm`, D, '[D]');
      // Gemma 2/3 call the norm before the MLP pre_feedforward_layernorm; post_attention_layernorm
      // is then the norm on the attention's output.
      layer.post_attention_layernorm = norm(d.hasPostNorms ? `${p}.pre_feedforward_layernorm` : `${p}.post_attention_layernorm`, D, '[D]');
    }
    if (d.hasPostNorms) {
      layer.attn_output_norm = norm(`${p}.post_attention_layernorm`, D, '[D]');
      layer.mlp_output_norm = norm(`${p}.post_feedforward_layernorm`, D, '[D]');
    }
    if (d.qkNorm === 'head') {
      layer.q_norm = norm(`${a}.q_norm`, dh, '[dh]');
      layer.k_norm = norm(`${a}.k_norm`, dh, '[dh]');
    } else if (d.qkNorm === 'projection') {
      layer.q_norm = norm(`${a}.q_norm`, H * dh, '[H*dh]');
      layer.k_norm = norm(`${a}.k_norm`, Hkv * dh, '[Hkv*dh]');
    } else {
      plan.forbid(`${a}.q_norm.weight`, `a ${d.family} model has no q/k norm`);
      plan.forbid(`${a}.k_norm.weight`, `a ${d.family} model has no q/k norm`);
    }
    layerPlans.push(layer);
  }
  const finalNorm = norm('norm', D, '[D]');
  const lmHead = d.tie_word_embeddings ? null : plan.need('lm_head.weight', [V, D], '[V, D]', true);

  const read = storedAll(plan);
  const t = (w: Wanted) => read.get(w)!;
  // Gemma's RMSNorm multiplies by (1 + w); the engines read the plain weight.
  const n = (w: Wanted | undefined): Norm<StoredTensor> | undefined => w && { weight: gemma ? onePlus(t(w)) : t(w) };
  const lin = (x: LinearPlan): Linear<StoredTensor> => (x.bias ? { weight: t(x.weight), bias: t(x.bias) } : { weight: t(x.weight) });
  const layers: LayerWeights<StoredTensor>[] = layerPlans.map((x) => {
    let q: Linear<StoredTensor>, k: Linear<StoredTensor>, v: Linear<StoredTensor>, gate: Linear<StoredTensor>, up: Linear<StoredTensor>;
    if ('qkv' in x.attn) {
      const qkv = t(x.attn.qkv); // rows: q of every head, then k, then v
      q = { weight: rowBlock(qkv, 0, H * dh, 'q') };
      k = { weight: rowBlock(qkv, H * dh, Hkv * dh, 'k') };
      v = { weight: rowBlock(qkv, (H + Hkv) * dh, Hkv * dh, 'v') };
    } else {
      q = lin(x.attn.q);
      k = lin(x.attn.k);
      v = lin(x.attn.v);
    }
    if ('gate_up' in x.mlp) {
      const gu = t(x.mlp.gate_up); // rows: gate, then up
      gate = { weight: rowBlock(gu, 0, I, 'gate') };
      up = { weight: rowBlock(gu, I, I, 'up') };
    } else {
      gate = lin(x.mlp.gate);
      up = lin(x.mlp.up);
    }
    return {
      input_layernorm: n(x.input_layernorm),
      q_proj: q,
      k_proj: k,
      v_proj: v,
      o_proj: lin(x.o),
      q_norm: n(x.q_norm),
      k_norm: n(x.k_norm),
      attn_output_norm: n(x.attn_output_norm),
      post_attention_layernorm: n(x.post_attention_layernorm),
      mlp_output_norm: n(x.mlp_output_norm),
      gate_proj: gate,
      up_proj: up,
      down_proj: lin(x.down),
    };
  });
  const embed_tokens = t(embed);
  // The reference multiplies by sqrt(D) held in the embedding's dtype.
  if (gemma) d.embedding_scale = roundTo(Math.sqrt(D), embed_tokens.dtype);
  return { embed_tokens, layers, norm: n(finalNorm)!, lm_head: lmHead ? t(lmHead) : embed_tokens };
}
