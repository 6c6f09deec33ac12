// What "loaded successfully" must still mean after a harmless mutation: tensors of the byte size
// their shape and dtype declare and of the shape the description implies, safetensors regions
// inside the file and disjoint, tokenizers whose spans cover the prompt, and runs whose every
// index is in range and which re-encode to a link that decodes. Each check throws on the first
// violation; expected values come from the description or the format, never from the loader.

import type { Checkpoint } from '../src/model/checkpoint';
import { bytesPerElement, type ModelDescription, type Tensor } from '../src/model/description';
import { SAFETENSORS_DTYPE_SIZE, type SafetensorsCheckpoint } from '../src/model/safetensors';
import type { TokenSpan, Tokenizer } from '../src/model/tokenizer-types';
import { decodeRun } from '../src/share/permalink/decode';
import { encodeRun } from '../src/share/permalink/encode';
import type { SharedRun } from '../src/share/permalink/format';

function fail(message: string): never {
  throw new Error(message);
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const isCount = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isPositive = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

export function checkTensor(t: Tensor | undefined, shape: readonly number[], what: string): void {
  if (!t) fail(`${what}: missing`);
  if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') fail(`${what}: dtype ${String(t.dtype)}`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) fail(`${what}: shape [${t.shape}] where the description implies [${shape}]`);
  const bytes = product(shape) * bytesPerElement(t.dtype);
  if (t.bytes.byteLength !== bytes) fail(`${what}: ${t.bytes.byteLength} bytes for [${shape}] ${t.dtype} (${bytes})`);
}

function checkDescription(d: ModelDescription): void {
  for (const key of [
    'vocab_size',
    'hidden_size',
    'num_hidden_layers',
    'num_attention_heads',
    'num_key_value_heads',
    'head_dim',
    'intermediate_size',
    'max_position_embeddings',
  ] as const) {
    if (!isPositive(d[key])) fail(`description ${key} = ${d[key]}`);
  }
  if (d.num_attention_heads % d.num_key_value_heads !== 0) fail(`H = ${d.num_attention_heads} is not a multiple of Hkv = ${d.num_key_value_heads}`);
  if (d.positionKind === 'rope' && d.head_dim % 2 !== 0) fail(`odd head_dim ${d.head_dim} with RoPE`);
  if (!(d.norm_eps > 0) || !Number.isFinite(d.norm_eps)) fail(`norm_eps ${d.norm_eps}`);
  if (d.positionKind === 'rope' && !(d.rope && d.rope.theta > 0 && Number.isFinite(d.rope.theta) && d.rope.dim > 0 && d.rope.dim <= d.head_dim))
    fail(`rope ${JSON.stringify(d.rope)}`);
  if (d.layer_types.length !== d.num_hidden_layers) fail(`${d.layer_types.length} layer types for ${d.num_hidden_layers} layers`);
  if (d.bos_token_id !== null && !isCount(d.bos_token_id)) fail(`bos_token_id ${d.bos_token_id}`);
  if (!d.eos_token_ids.every(isCount)) fail(`eos_token_ids ${d.eos_token_ids}`);
}

/** Every weight has the shape the description implies (Hugging Face Llama layout) and its byte size. */
export function checkCheckpoint(ck: Checkpoint): void {
  const d = ck.description;
  checkDescription(d);
  if (!/^sha256:[0-9a-f]{32}$/.test(ck.fingerprint)) fail(`fingerprint ${ck.fingerprint}`);
  const w = ck.weights;
  const { vocab_size: V, hidden_size: D, intermediate_size: I, head_dim: dh } = d;
  const qDim = d.num_attention_heads * dh; // H*dh
  const kvDim = d.num_key_value_heads * dh; // Hkv*dh
  checkTensor(w.embed_tokens, [V, D], 'embed_tokens');
  checkTensor(w.lm_head, [V, D], 'lm_head');
  if (d.tie_word_embeddings !== (w.lm_head === w.embed_tokens))
    fail(`tie_word_embeddings ${d.tie_word_embeddings} but lm_head ${w.lm_head === w.embed_tokens ? 'is' : 'is not'} embed_tokens`);
  if (d.positionKind === 'learned') checkTensor(w.embed_positions, [d.max_position_embeddings, D], 'embed_positions');
  else if (w.embed_positions) fail('embed_positions with RoPE');
  if (w.layers.length !== d.num_hidden_layers) fail(`${w.layers.length} layers, description says ${d.num_hidden_layers}`);
  const bias = (t: Tensor | undefined, want: boolean, n: number, what: string) => {
    if (want) checkTensor(t, [n], what);
    else if (t) fail(`${what}: present but the description has no such bias`);
  };
  const norm = (n: { weight: Tensor; bias?: Tensor } | undefined, size: number, what: string) => {
    if (!n) return fail(`${what}: missing`);
    checkTensor(n.weight, [size], `${what}.weight`);
    bias(n.bias, d.normKind === 'layer', size, `${what}.bias`);
  };
  w.layers.forEach((l, i) => {
    const at = `layer ${i}`;
    if (d.hasPreNorms) {
      norm(l.input_layernorm, D, `${at} input_layernorm`);
      norm(l.post_attention_layernorm, D, `${at} post_attention_layernorm`);
    }
    if (d.hasPostNorms) {
      norm(l.attn_output_norm, D, `${at} attn_output_norm`);
      norm(l.mlp_output_norm, D, `${at} mlp_output_norm`);
    }
    checkTensor(l.q_proj.weight, [qDim, D], `${at} q_proj`);
    checkTensor(l.k_proj.weight, [kvDim, D], `${at} k_proj`);
    checkTensor(l.v_proj.weight, [kvDim, D], `${at} v_proj`);
    checkTensor(l.o_proj.weight, [D, qDim], `${at} o_proj`);
    bias(l.q_proj.bias, d.hasQkvBias, qDim, `${at} q_proj.bias`);
    bias(l.k_proj.bias, d.hasQkvBias, kvDim, `${at} k_proj.bias`);
    bias(l.v_proj.bias, d.hasQkvBias, kvDim, `${at} v_proj.bias`);
    bias(l.o_proj.bias, d.hasOBias, D, `${at} o_proj.bias`);
    if (d.qkNorm !== 'none') {
      if (!l.q_norm || !l.k_norm) fail(`${at}: q/k norm missing`);
      const heads = d.qkNorm === 'projection';
      checkTensor(l.q_norm.weight, [heads ? qDim : dh], `${at} q_norm`);
      checkTensor(l.k_norm.weight, [heads ? kvDim : dh], `${at} k_norm`);
    } else if (l.q_norm || l.k_norm) fail(`${at}: q/k norm without a qkNorm feature`);
    if (d.mlpKind === 'gated') checkTensor(l.gate_proj?.weight, [I, D], `${at} gate_proj`);
    else if (l.gate_proj) fail(`${at}: gate_proj in a plain MLP`);
    checkTensor(l.up_proj.weight, [I, D], `${at} up_proj`);
    checkTensor(l.down_proj.weight, [D, I], `${at} down_proj`);
    bias(l.up_proj.bias, d.hasMlpBias, I, `${at} up_proj.bias`);
    bias(l.down_proj.bias, d.hasMlpBias, D, `${at} down_proj.bias`);
  });
  norm(w.norm, D, 'norm');
}

/** Regions inside the data area, of the size shape x dtype declares, and pairwise disjoint. */
export function checkSafetensors(ckpt: SafetensorsCheckpoint, tensors: readonly Tensor[]): void {
  const byFile = new Map<string, { begin: number; end: number; name: string }[]>();
  for (const h of ckpt.headers) {
    if (h.dataStart !== h.headerBytes.byteLength || h.dataStart > h.file.blob.size)
      fail(`${h.file.path}: data starts at ${h.dataStart}, header is ${h.headerBytes.byteLength} bytes`);
  }
  for (const e of ckpt.entries.values()) {
    const size = SAFETENSORS_DTYPE_SIZE[e.dtype];
    if (size === undefined) fail(`${e.name}: dtype ${e.dtype}`);
    if (!e.shape.every(isCount)) fail(`${e.name}: shape [${e.shape}]`);
    if (product(e.shape) * size !== e.end - e.begin) fail(`${e.name}: [${e.shape}] ${e.dtype} in ${e.end - e.begin} bytes`);
    const header = ckpt.headers.find((h) => h.file === e.file);
    if (!header) fail(`${e.name}: its file has no header`);
    if (e.begin < header.dataStart || e.end > e.file.blob.size) fail(`${e.name}: [${e.begin}, ${e.end}) outside the data of ${e.file.path}`);
    const list = byFile.get(e.file.path) ?? [];
    list.push({ begin: e.begin, end: e.end, name: e.name });
    byFile.set(e.file.path, list);
  }
  for (const list of byFile.values()) {
    const sorted = list.filter((r) => r.end > r.begin).sort((a, b) => a.begin - b.begin);
    for (let i = 1; i < sorted.length; i++) if (sorted[i]!.begin < sorted[i - 1]!.end) fail(`${sorted[i]!.name} overlaps ${sorted[i - 1]!.name}`);
  }
  for (const t of tensors) {
    const e = ckpt.entries.get(t.name);
    if (!e) fail(`${t.name}: read but not in the index`);
    if (t.bytes.byteLength !== e.end - e.begin) fail(`${t.name}: read ${t.bytes.byteLength} of ${e.end - e.begin} bytes`);
    checkTensor(t, e.shape, t.name);
  }
}

/** Prompts that reach byte fallback, multi-byte characters, odd whitespace and the empty string. */
export const PROMPTS: readonly string[] = ['Hello world, 123!', '', ' caf\u00e9 \ud83d\ude00 \u2028x\t\n', 'the the the'];

export interface TokenizerUse {
  tokenizer: Tokenizer;
  encodings: TokenSpan[][];
  decoded: string[];
  texts: string[][];
}

/** Encodes, decodes and shows every prompt: what the app does with a tokenizer right after loading. */
export function useTokenizer(t: Tokenizer): TokenizerUse {
  const encodings = PROMPTS.map((p) => t.encode(p));
  const decoded = encodings.map((spans) => t.decode(spans.map((s) => s.id)));
  const texts = encodings.map((spans) => spans.map((s) => t.tokenText(s.id)));
  for (const id of [0, 1, t.vocabSize - 1, t.vocabSize, -1]) t.tokenText(id);
  return { tokenizer: t, encodings, decoded, texts };
}

export function checkTokenizer(u: TokenizerUse): void {
  const t = u.tokenizer;
  if (!isPositive(t.vocabSize)) fail(`vocabSize ${t.vocabSize}`);
  if (t.bosId !== null && !isCount(t.bosId)) fail(`bosId ${t.bosId}`);
  if (!t.eosIds.every(isCount)) fail(`eosIds ${t.eosIds}`);
  PROMPTS.forEach((prompt, k) => {
    let at = 0;
    for (const s of u.encodings[k]!) {
      if (!isCount(s.id)) fail(`'${prompt}': token id ${s.id}`);
      if (!(s.start >= at && s.end >= s.start && s.end <= prompt.length)) fail(`'${prompt}': span [${s.start}, ${s.end}) after ${at}`);
      if (typeof s.text !== 'string') fail(`'${prompt}': token text ${typeof s.text}`);
      at = s.end;
    }
    if (typeof u.decoded[k] !== 'string') fail(`'${prompt}': decoded to ${typeof u.decoded[k]}`);
    if (!u.texts[k]!.every((x) => typeof x === 'string')) fail(`'${prompt}': a token text is not a string`);
  });
}

function checkResult(r: SharedRun['result'], what: string): void {
  const T = r.tokens.length;
  if (T < 1) fail(`${what}: no tokens`);
  if (r.predictions.length !== T) fail(`${what}: ${r.predictions.length} predictions for ${T} tokens`);
  for (const t of r.tokens)
    if (!(t.start >= 0 && t.end >= t.start && t.end <= r.prompt.length))
      fail(`${what}: token span [${t.start}, ${t.end}) in a ${r.prompt.length}-character prompt`);
  for (const tg of r.targets) if (!(isCount(tg.position) && tg.position < T)) fail(`${what}: target position ${tg.position}`);
  const finite = (rows: number[][], kind: string, width?: number) => {
    for (const row of rows) {
      if (width !== undefined && row.length !== width) fail(`${what} ${kind}: row of ${row.length}, expected ${width}`);
      if (!row.every(Number.isFinite)) fail(`${what} ${kind}: non-finite score`);
    }
  };
  if (r.token) {
    finite(r.token.scores, 'token scores', T);
    if (r.token.scores.length !== r.targets.length) fail(`${what}: token scores per target`);
  }
  if (r.head) r.head.scores.forEach((rows) => finite(rows, 'head scores'));
  if (r.neuron) finite(r.neuron.scores, 'neuron scores');
}

/** Every index in range, every number finite, and the run re-encodes to a link that decodes. */
export function checkRun(run: SharedRun): void {
  const r = run.result;
  checkResult(r, 'result');
  const T = r.tokens.length;
  if (run.override) {
    if (!(isCount(run.override.position) && run.override.position < T)) fail(`override position ${run.override.position}`);
    checkResult(run.override.result, 'override');
  }
  const v = run.view;
  if (v.selected !== null && !(isCount(v.selected) && v.selected < T)) fail(`selected ${v.selected}`);
  if (!(v.threshold >= 0 && v.threshold <= 1)) fail(`threshold ${v.threshold}`);
  const again = decodeRun(encodeRun(run));
  if (again.result.tokens.length !== T || again.result.prompt !== r.prompt) fail('re-encoded link decodes to another run');
}
