"""Float64 NumPy forward pass of each supported family, written from the families' documented
conventions (docs/family-conventions.md), used only to cross-check the library's outputs and the
statements of that document. Reads config.json and model.safetensors itself (no torch)."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np

# ---------------------------------------------------------------- safetensors

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors of a .safetensors file as float64 arrays (BF16 widened bit-exactly)."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    body = raw[8 + n :]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        buf = body[a:b]
        if meta["dtype"] == "BF16":
            # bf16 is the top half of an f32: shift into place and reinterpret.
            u = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=np.dtype(_DTYPES[meta["dtype"]]).newbyteorder("<"))
        out[name] = arr.astype(np.float64).reshape(meta["shape"])
    return out


def safetensors_dtypes(path: Path) -> dict[str, str]:
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    return {k: v["dtype"] for k, v in header.items() if k != "__metadata__"}


# ---------------------------------------------------------------- building blocks


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def rms_norm(x, w, eps, offset=0.0):
    """offset=1 gives the Gemma form x/rms * (1 + w)."""
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * (offset + w)


def gelu_erf(x):
    from math import erf

    return 0.5 * x * (1.0 + np.vectorize(erf)(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def silu(x):
    return x / (1.0 + np.exp(-x))


ACT = {"gelu": gelu_erf, "gelu_new": gelu_tanh, "gelu_pytorch_tanh": gelu_tanh, "silu": silu}


def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def rotate(x, cos, sin):
    """Rotate-half RoPE on the first 2*len(inv_freq) dims of x [T, H, dh]; the rest pass through."""
    r = cos.shape[-1]
    xr, xp = x[..., :r], x[..., r:]
    half = r // 2
    rot = np.concatenate([-xr[..., half:], xr[..., :half]], axis=-1)
    return np.concatenate([xr * cos + rot * sin, xp], axis=-1)


def rope_tables(inv_freq, T, attention_scaling=1.0):
    ang = np.arange(T, dtype=np.float64)[:, None] * inv_freq[None, :]  # [T, r/2]
    emb = np.concatenate([ang, ang], axis=-1)  # [T, r]
    return (np.cos(emb) * attention_scaling)[:, None, :], (np.sin(emb) * attention_scaling)[:, None, :]


def default_inv_freq(base, rot_dim):
    return 1.0 / base ** (np.arange(0, rot_dim, 2, dtype=np.float64) / rot_dim)


def llama3_inv_freq(base, rot_dim, p):
    """Llama 3.1 frequency-dependent scaling: keep short wavelengths, divide long ones by factor,
    interpolate linearly in 1/wavelength between the two thresholds."""
    inv = default_inv_freq(base, rot_dim)
    factor, lo, hi, old = p["factor"], p["low_freq_factor"], p["high_freq_factor"], p["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv
    out = np.empty_like(inv)
    for i, (f, wl) in enumerate(zip(inv, wavelen)):
        if wl < old / hi:
            out[i] = f
        elif wl > old / lo:
            out[i] = f / factor
        else:
            s = (old / wl - lo) / (hi - lo)
            out[i] = (1 - s) * f / factor + s * f
    return out


def longrope_inv_freq(base, rot_dim, p, T, max_pos):
    """Phi-3 LongRoPE: per-frequency divisors (short_factor up to the original context, long_factor
    beyond it) and a cos/sin magnitude factor sqrt(1 + ln(s)/ln(original)), s = max_pos/original."""
    orig = p["original_max_position_embeddings"]
    factors = np.array(p["long_factor"] if T > orig else p["short_factor"], dtype=np.float64)
    inv = 1.0 / (factors * base ** (np.arange(0, rot_dim, 2, dtype=np.float64) / rot_dim))
    s = p.get("factor") or max_pos / orig
    att = p.get("attention_factor") or (1.0 if s <= 1 else math.sqrt(1 + math.log(s) / math.log(orig)))
    return inv, att


def attend(q, k, v, scale, window=None, softcap=None):
    """q [T,H,dh], k/v [T,Hkv,dh] -> (out [T, H*dh], probs [H,T,T]). Key j is visible from query i
    when j <= i and, with a window W, when j > i - W (W keys including the query's own)."""
    T, H, dh = q.shape
    Hkv = k.shape[1]
    rep = H // Hkv
    kk = np.repeat(k, rep, axis=1)  # head h reads kv head h // rep
    vv = np.repeat(v, rep, axis=1)
    s = np.einsum("ihd,jhd->hij", q, kk) * scale
    if softcap is not None:
        s = softcap * np.tanh(s / softcap)
    i = np.arange(T)[:, None]
    j = np.arange(T)[None, :]
    visible = j <= i
    if window is not None:
        visible &= j > i - window
    s = np.where(visible[None], s, -np.inf)
    s = s - s.max(-1, keepdims=True)
    p = np.exp(s)
    p = p / p.sum(-1, keepdims=True)
    out = np.einsum("hij,jhd->ihd", p, vv).reshape(T, H * dh)
    return out, p


# ---------------------------------------------------------------- families


def rope_params(cfg: dict) -> dict:
    """Rotary settings from either the current (rope_parameters) or the older config layout."""
    rp = cfg.get("rope_parameters")
    if rp is not None:
        return rp
    out = {"rope_type": "default", "rope_theta": cfg.get("rope_theta", cfg.get("rotary_emb_base", 10000.0))}
    rs = cfg.get("rope_scaling")
    if rs:
        out.update(rs)
        out["rope_type"] = rs.get("rope_type", rs.get("type"))
    if "rotary_pct" in cfg:
        out["partial_rotary_factor"] = cfg["rotary_pct"]
    if "partial_rotary_factor" in cfg:
        out["partial_rotary_factor"] = cfg["partial_rotary_factor"]
    return out


def forward(cfg: dict, W: dict[str, np.ndarray], ids: list[int], embed_scale: float | None = None):
    """Returns dict(logits [T,V], logits_pre_cap [T,V], attentions [L][H,T,T], residual [L+1][T,D],
    final_normed [T,D])."""
    mt = cfg["model_type"]
    f = {
        "gpt_neox": _gpt_neox,
        "gpt_neo": _gpt_neo,
        "gemma": _gemma_like,
        "gemma2": _gemma_like,
        "gemma3_text": _gemma_like,
        "olmo2": _llama_like,
        "phi3": _llama_like,
        "llama": _llama_like,
    }[mt]
    return f(cfg, W, np.asarray(ids), embed_scale)


def _finish(h_final, lm_head, cap, attns, resid):
    pre = h_final @ lm_head.T
    logits = pre if cap is None else cap * np.tanh(pre / cap)
    return {"logits": logits, "logits_pre_cap": pre, "attentions": attns, "residual": resid, "final_normed": h_final}


def _gpt_neox(cfg, W, ids, _):
    D, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    dh = D // H
    rp = rope_params(cfg)
    rot = int(dh * rp.get("partial_rotary_factor", 1.0))
    T = len(ids)
    cos, sin = rope_tables(default_inv_freq(rp["rope_theta"], rot), T)
    eps = cfg["layer_norm_eps"]
    act = ACT[cfg["hidden_act"]]
    x = W["gpt_neox.embed_in.weight"][ids]
    resid, attns = [x], []
    for l in range(L):
        p = f"gpt_neox.layers.{l}."
        a_in = layer_norm(x, W[p + "input_layernorm.weight"], W[p + "input_layernorm.bias"], eps)
        qkv = linear(a_in, W[p + "attention.query_key_value.weight"], W[p + "attention.query_key_value.bias"])
        qkv = qkv.reshape(T, H, 3 * dh)  # per head: [q_h | k_h | v_h]
        q, k, v = qkv[..., :dh], qkv[..., dh : 2 * dh], qkv[..., 2 * dh :]
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        o, pr = attend(q, k, v, dh**-0.5)
        attn = linear(o, W[p + "attention.dense.weight"], W[p + "attention.dense.bias"])
        attns.append(pr)

        def mlp(u):
            u = layer_norm(u, W[p + "post_attention_layernorm.weight"], W[p + "post_attention_layernorm.bias"], eps)
            u = act(linear(u, W[p + "mlp.dense_h_to_4h.weight"], W[p + "mlp.dense_h_to_4h.bias"]))
            return linear(u, W[p + "mlp.dense_4h_to_h.weight"], W[p + "mlp.dense_4h_to_h.bias"])

        if cfg["use_parallel_residual"]:
            x = x + attn + mlp(x)  # both branches read the layer input
        else:
            x = x + attn
            x = x + mlp(x)
        resid.append(x)
    h = layer_norm(x, W["gpt_neox.final_layer_norm.weight"], W["gpt_neox.final_layer_norm.bias"], eps)
    head = W["gpt_neox.embed_in.weight"] if cfg.get("tie_word_embeddings") else W["embed_out.weight"]
    return _finish(h, head, None, attns, resid)


def expand_attention_types(types):
    out = []
    for kinds, n in types:
        for _ in range(n):
            out.extend(kinds)
    return out


def _gpt_neo(cfg, W, ids, _):
    D, H, L = cfg["hidden_size"], cfg["num_heads"], cfg["num_layers"]
    dh = D // H
    T = len(ids)
    eps = cfg["layer_norm_epsilon"]
    act = ACT[cfg["activation_function"]]
    kinds = expand_attention_types(cfg["attention_types"])
    x = W["transformer.wte.weight"][ids] + W["transformer.wpe.weight"][np.arange(T)]
    resid, attns = [x], []
    for l in range(L):
        p = f"transformer.h.{l}."
        a = layer_norm(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps)
        q = linear(a, W[p + "attn.attention.q_proj.weight"]).reshape(T, H, dh)
        k = linear(a, W[p + "attn.attention.k_proj.weight"]).reshape(T, H, dh)
        v = linear(a, W[p + "attn.attention.v_proj.weight"]).reshape(T, H, dh)
        window = cfg["window_size"] if kinds[l] == "local" else None
        o, pr = attend(q, k, v, 1.0, window=window)  # no 1/sqrt(dh)
        x = x + linear(o, W[p + "attn.attention.out_proj.weight"], W[p + "attn.attention.out_proj.bias"])
        attns.append(pr)
        m = layer_norm(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps)
        m = act(linear(m, W[p + "mlp.c_fc.weight"], W[p + "mlp.c_fc.bias"]))
        x = x + linear(m, W[p + "mlp.c_proj.weight"], W[p + "mlp.c_proj.bias"])
        resid.append(x)
    h = layer_norm(x, W["transformer.ln_f.weight"], W["transformer.ln_f.bias"], eps)
    head = W.get("lm_head.weight", W["transformer.wte.weight"]) if not cfg.get("tie_word_embeddings", True) else W["transformer.wte.weight"]
    return _finish(h, head, None, attns, resid)


def gemma3_layer_types(cfg):
    if cfg.get("layer_types"):
        return cfg["layer_types"]
    pat = cfg.get("sliding_window_pattern", cfg.get("_sliding_window_pattern", 6))
    return ["sliding_attention" if (i + 1) % pat else "full_attention" for i in range(cfg["num_hidden_layers"])]


def _gemma_like(cfg, W, ids, embed_scale):
    mt = cfg["model_type"]
    D, H, Hkv, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["num_hidden_layers"]
    dh = cfg.get("head_dim") or D // H
    T = len(ids)
    eps = cfg["rms_norm_eps"]
    act = gelu_tanh  # every Gemma generation uses the tanh GELU (legacy "gelu" included)
    if mt == "gemma":
        types = ["full_attention"] * L
        scale = dh**-0.5
    elif mt == "gemma2":
        types = cfg.get("layer_types") or ["sliding_attention" if i % 2 == 0 else "full_attention" for i in range(L)]
        scale = cfg["query_pre_attn_scalar"] ** -0.5
    else:
        types = gemma3_layer_types(cfg)
        scale = cfg["query_pre_attn_scalar"] ** -0.5
    rp = cfg.get("rope_parameters")
    if mt == "gemma3_text":
        if rp is None:
            rp = {
                "full_attention": {"rope_theta": cfg.get("rope_theta", 1e6)},
                "sliding_attention": {"rope_theta": cfg.get("rope_local_base_freq", 1e4)},
            }
        tables = {t: rope_tables(default_inv_freq(rp[t]["rope_theta"], dh), T) for t in ("full_attention", "sliding_attention")}
    else:
        base = rope_params(cfg)["rope_theta"]
        tab = rope_tables(default_inv_freq(base, dh), T)
        tables = {"full_attention": tab, "sliding_attention": tab}
    softcap = cfg.get("attn_logit_softcapping")
    if embed_scale is None:
        embed_scale = math.sqrt(D)
    x = W["model.embed_tokens.weight"][ids] * embed_scale
    resid, attns = [x], []
    post_norms = mt in ("gemma2", "gemma3_text")
    for l in range(L):
        p = f"model.layers.{l}."
        a = rms_norm(x, W[p + "input_layernorm.weight"], eps, 1.0)
        q = linear(a, W[p + "self_attn.q_proj.weight"], W.get(p + "self_attn.q_proj.bias")).reshape(T, H, dh)
        k = linear(a, W[p + "self_attn.k_proj.weight"], W.get(p + "self_attn.k_proj.bias")).reshape(T, Hkv, dh)
        v = linear(a, W[p + "self_attn.v_proj.weight"], W.get(p + "self_attn.v_proj.bias")).reshape(T, Hkv, dh)
        if mt == "gemma3_text":  # per-head RMSNorm over head_dim, before RoPE
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps, 1.0)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps, 1.0)
        cos, sin = tables[types[l]]
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        window = cfg["sliding_window"] if types[l] == "sliding_attention" else None
        o, pr = attend(q, k, v, scale, window=window, softcap=softcap)
        attns.append(pr)
        o = linear(o, W[p + "self_attn.o_proj.weight"], W.get(p + "self_attn.o_proj.bias"))
        if post_norms:
            o = rms_norm(o, W[p + "post_attention_layernorm.weight"], eps, 1.0)
            x = x + o
            m = rms_norm(x, W[p + "pre_feedforward_layernorm.weight"], eps, 1.0)
        else:
            x = x + o
            m = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps, 1.0)
        m = linear(act(linear(m, W[p + "mlp.gate_proj.weight"])) * linear(m, W[p + "mlp.up_proj.weight"]), W[p + "mlp.down_proj.weight"])
        if post_norms:
            m = rms_norm(m, W[p + "post_feedforward_layernorm.weight"], eps, 1.0)
        x = x + m
        resid.append(x)
    h = rms_norm(x, W["model.norm.weight"], eps, 1.0)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", True) else W["lm_head.weight"]
    return _finish(h, head, cfg.get("final_logit_softcapping"), attns, resid)


def _llama_like(cfg, W, ids, _):
    mt = cfg["model_type"]
    D, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    Hkv = cfg.get("num_key_value_heads") or H
    dh = cfg.get("head_dim") or D // H
    T = len(ids)
    eps = cfg["rms_norm_eps"]
    act = ACT[cfg["hidden_act"]]
    rp = rope_params(cfg)
    rot = int(dh * rp.get("partial_rotary_factor", cfg.get("partial_rotary_factor", 1.0)))
    kind = rp.get("rope_type", "default")
    att_scale = 1.0
    if kind == "default":
        inv = default_inv_freq(rp["rope_theta"], rot)
    elif kind == "llama3":
        inv = llama3_inv_freq(rp["rope_theta"], rot, rp)
    elif kind == "longrope":
        rp = dict(rp)
        rp.setdefault("original_max_position_embeddings", cfg.get("original_max_position_embeddings"))
        inv, att_scale = longrope_inv_freq(rp["rope_theta"], rot, rp, T, cfg["max_position_embeddings"])
    else:
        raise ValueError(f"rope type {kind} not in the NumPy reference")
    cos, sin = rope_tables(inv, T, att_scale)
    window = cfg.get("sliding_window") if mt == "phi3" else None
    x = W["model.embed_tokens.weight"][ids]
    resid, attns = [x], []
    for l in range(L):
        p = f"model.layers.{l}."
        if mt == "olmo2":
            a = x  # OLMo-2 has no pre-norm: norms sit on the branch outputs
        else:
            a = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        if mt == "phi3":
            qkv = linear(a, W[p + "self_attn.qkv_proj.weight"])  # rows: [q (H*dh) | k (Hkv*dh) | v (Hkv*dh)]
            q, k, v = np.split(qkv, [H * dh, H * dh + Hkv * dh], axis=-1)
        else:
            q = linear(a, W[p + "self_attn.q_proj.weight"], W.get(p + "self_attn.q_proj.bias"))
            k = linear(a, W[p + "self_attn.k_proj.weight"], W.get(p + "self_attn.k_proj.bias"))
            v = linear(a, W[p + "self_attn.v_proj.weight"], W.get(p + "self_attn.v_proj.bias"))
        if mt == "olmo2":  # RMSNorm over the whole projection (all heads together), before RoPE
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.reshape(T, H, dh), k.reshape(T, Hkv, dh), v.reshape(T, Hkv, dh)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        o, pr = attend(q, k, v, dh**-0.5, window=window)
        attns.append(pr)
        o = linear(o, W[p + "self_attn.o_proj.weight"], W.get(p + "self_attn.o_proj.bias"))
        if mt == "olmo2":
            x = x + rms_norm(o, W[p + "post_attention_layernorm.weight"], eps)
            m = x
        else:
            x = x + o
            m = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        if mt == "phi3":
            gu = linear(m, W[p + "mlp.gate_up_proj.weight"])  # rows: [gate (I) | up (I)]
            g, u = np.split(gu, 2, axis=-1)
        else:
            g, u = linear(m, W[p + "mlp.gate_proj.weight"]), linear(m, W[p + "mlp.up_proj.weight"])
        m = linear(act(g) * u, W[p + "mlp.down_proj.weight"])
        if mt == "olmo2":
            m = rms_norm(m, W[p + "post_feedforward_layernorm.weight"], eps)
        x = x + m
        resid.append(x)
    h = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    return _finish(h, head, None, attns, resid)
