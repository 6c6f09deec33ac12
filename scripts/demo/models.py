"""Llama and GPT-2 causal language models in plain PyTorch, with the exact semantics and parameter
names of Hugging Face's LlamaForCausalLM and GPT2LMHeadModel (tied embeddings), so that
state_dict() is the checkpoint. Training-size only: no KV cache, no dropout, no padding masks.

Notation: T tokens, D hidden size, H query heads, Hkv key/value heads, dh head size, I MLP width,
L layers, V vocabulary.
"""

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class LlamaShape:
    V: int
    D: int = 128
    L: int = 4
    H: int = 4
    Hkv: int = 2
    I: int = 344
    max_T: int = 64
    eps: float = 1e-5
    rope_theta: float = 10000.0

    @property
    def dh(self) -> int:
        return self.D // self.H


@dataclass
class Gpt2Shape:
    V: int
    D: int = 128
    L: int = 4
    H: int = 4
    I: int = 512
    max_T: int = 64
    eps: float = 1e-5

    @property
    def dh(self) -> int:
        return self.D // self.H


class RMSNorm(nn.Module):
    def __init__(self, D: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(D))  # [D]
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, T, D]
        rstd = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)  # [B, T, 1]
        return self.weight * (x * rstd)


def rotate_half(x: torch.Tensor) -> torch.Tensor:  # x: [..., dh]
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def rope_tables(T: int, dh: int, theta: float, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin [T, dh] as Hugging Face builds them (frequencies repeated over both halves),
    computed in `dtype` throughout so that a float64 run is exact to float64."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dh, 2, dtype=dtype) / dh))  # [dh/2]
    freqs = torch.outer(torch.arange(T, dtype=dtype), inv_freq)  # [T, dh/2]
    emb = torch.cat((freqs, freqs), dim=-1)  # [T, dh]
    return emb.cos(), emb.sin()


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """q, k, v: [B, H, T, dh] -> [B, H, T, dh], softmax(q k^T / sqrt(dh)) v with a causal mask."""
    T, dh = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-1, -2) / math.sqrt(dh)  # [B, H, T, T]
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)  # [T, T]
    scores = scores.masked_fill(mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


class LlamaAttention(nn.Module):
    def __init__(self, s: LlamaShape) -> None:
        super().__init__()
        self.s = s
        self.q_proj = nn.Linear(s.D, s.H * s.dh, bias=False)  # weight [H*dh, D]
        self.k_proj = nn.Linear(s.D, s.Hkv * s.dh, bias=False)  # weight [Hkv*dh, D]
        self.v_proj = nn.Linear(s.D, s.Hkv * s.dh, bias=False)  # weight [Hkv*dh, D]
        self.o_proj = nn.Linear(s.H * s.dh, s.D, bias=False)  # weight [D, H*dh]

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        s = self.s
        B, T, _ = x.shape  # x: [B, T, D]
        q = self.q_proj(x).view(B, T, s.H, s.dh).transpose(1, 2)  # [B, H, T, dh]
        k = self.k_proj(x).view(B, T, s.Hkv, s.dh).transpose(1, 2)  # [B, Hkv, T, dh]
        v = self.v_proj(x).view(B, T, s.Hkv, s.dh).transpose(1, 2)  # [B, Hkv, T, dh]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # Query head h reads key/value head h // (H / Hkv), as repeat_kv arranges them.
        k = k.repeat_interleave(s.H // s.Hkv, dim=1)  # [B, H, T, dh]
        v = v.repeat_interleave(s.H // s.Hkv, dim=1)  # [B, H, T, dh]
        y = causal_attention(q, k, v)  # [B, H, T, dh]
        return self.o_proj(y.transpose(1, 2).reshape(B, T, s.H * s.dh))  # [B, T, D]


class LlamaMLP(nn.Module):
    def __init__(self, s: LlamaShape) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(s.D, s.I, bias=False)  # weight [I, D]
        self.up_proj = nn.Linear(s.D, s.I, bias=False)  # weight [I, D]
        self.down_proj = nn.Linear(s.I, s.D, bias=False)  # weight [D, I]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, T, D]
        a = nn.functional.silu(self.gate_proj(x)) * self.up_proj(x)  # [B, T, I]
        return self.down_proj(a)


class LlamaLayer(nn.Module):
    def __init__(self, s: LlamaShape) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(s.D, s.eps)
        self.self_attn = LlamaAttention(s)
        self.post_attention_layernorm = RMSNorm(s.D, s.eps)
        self.mlp = LlamaMLP(s)

    def forward(self, h: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        h = h + self.self_attn(self.input_layernorm(h), cos, sin)
        return h + self.mlp(self.post_attention_layernorm(h))


class LlamaBody(nn.Module):
    def __init__(self, s: LlamaShape) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(s.V, s.D)  # weight [V, D]
        self.layers = nn.ModuleList(LlamaLayer(s) for _ in range(s.L))
        self.norm = RMSNorm(s.D, s.eps)


class LlamaLM(nn.Module):
    """state_dict() keys: model.embed_tokens.weight, model.layers.{i}...., model.norm.weight."""

    def __init__(self, s: LlamaShape) -> None:
        super().__init__()
        self.s = s
        self.model = LlamaBody(s)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # ids: [B, T] -> logits [B, T, V]
        h = self.model.embed_tokens(ids)  # [B, T, D]
        cos, sin = rope_tables(ids.shape[1], self.s.dh, self.s.rope_theta, h.dtype)  # [T, dh]
        for layer in self.model.layers:
            h = layer(h, cos, sin)
        return self.model.norm(h) @ self.model.embed_tokens.weight.T


class Conv1D(nn.Module):
    """GPT-2's linear layer: weight stored [in, out], y = x W + b."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))  # [in, out]
        self.bias = nn.Parameter(torch.zeros(n_out))  # [out]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight + self.bias


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


class Gpt2Attention(nn.Module):
    def __init__(self, s: Gpt2Shape) -> None:
        super().__init__()
        self.s = s
        self.c_attn = Conv1D(s.D, 3 * s.D)  # weight [D, 3D]: q | k | v on the out axis
        self.c_proj = Conv1D(s.D, s.D)  # weight [D, D]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, T, D]
        s = self.s
        B, T, _ = x.shape
        q, k, v = self.c_attn(x).split(s.D, dim=-1)  # each [B, T, D]
        q, k, v = (t.view(B, T, s.H, s.dh).transpose(1, 2) for t in (q, k, v))  # [B, H, T, dh]
        y = causal_attention(q, k, v)  # [B, H, T, dh]
        return self.c_proj(y.transpose(1, 2).reshape(B, T, s.D))  # [B, T, D]


class Gpt2MLP(nn.Module):
    def __init__(self, s: Gpt2Shape) -> None:
        super().__init__()
        self.c_fc = Conv1D(s.D, s.I)  # weight [D, I]
        self.c_proj = Conv1D(s.I, s.D)  # weight [I, D]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, T, D]
        return self.c_proj(gelu_new(self.c_fc(x)))


class Gpt2Block(nn.Module):
    def __init__(self, s: Gpt2Shape) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(s.D, eps=s.eps)
        self.attn = Gpt2Attention(s)
        self.ln_2 = nn.LayerNorm(s.D, eps=s.eps)
        self.mlp = Gpt2MLP(s)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = h + self.attn(self.ln_1(h))
        return h + self.mlp(self.ln_2(h))


class Gpt2LM(nn.Module):
    """state_dict() keys: wte.weight, wpe.weight, h.{i}...., ln_f.{weight,bias}."""

    def __init__(self, s: Gpt2Shape) -> None:
        super().__init__()
        self.s = s
        self.wte = nn.Embedding(s.V, s.D)  # weight [V, D]
        self.wpe = nn.Embedding(s.max_T, s.D)  # weight [max_T, D]
        self.h = nn.ModuleList(Gpt2Block(s) for _ in range(s.L))
        self.ln_f = nn.LayerNorm(s.D, eps=s.eps)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # ids: [B, T] -> logits [B, T, V]
        pos = torch.arange(ids.shape[1], device=ids.device)  # [T]
        h = self.wte(ids) + self.wpe(pos)  # [B, T, D]
        for block in self.h:
            h = block(h)
        return self.ln_f(h) @ self.wte.weight.T


def init_weights(model: nn.Module, L: int, std: float = 0.02, embed_std: float = 0.02) -> None:
    """Normal(0, std) matrices, Normal(0, embed_std) token embeddings, norms at one, biases at
    zero; the projections that write into the residual stream are scaled by 1/sqrt(2L) as in
    GPT-2."""
    for name, p in model.named_parameters():
        if name.endswith(("embed_tokens.weight", "wte.weight", "wpe.weight")):
            nn.init.normal_(p, std=embed_std)
        elif name.endswith("norm.weight") or ".ln_" in "." + name:
            nn.init.ones_(p) if name.endswith("weight") else nn.init.zeros_(p)
        elif name.endswith("bias"):
            nn.init.zeros_(p)
        elif name.endswith(("o_proj.weight", "down_proj.weight", "c_proj.weight")):
            nn.init.normal_(p, std=std / math.sqrt(2 * L))
        else:
            nn.init.normal_(p, std=std)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def init_offset_heads(model: nn.Module, generator: torch.Generator, offsets: dict[int, int],
                      sharpness: float = 8.0) -> None:
    """Starts some of layer 0's heads as fixed-offset heads: head h attends from each position t
    to t - offsets[h], whatever the tokens. Only the starting point is set; every weight is
    trained afterwards.

    Why: the probes' answers need heads that move a token's neighbour into its position. Copying
    the word that followed an earlier mention of the current word (induction) needs the previous
    token (offset 1). Binding ("Tom has a red kite ... Tom's kite is" -> "red") needs the name
    three pieces back at both ends ("Tom has a [red]", "Tom 's kite [is]"). On this corpus such
    heads form only after a long plateau on which the model guesses among the candidates, far
    beyond a few minutes of CPU; starting with them removes the plateau.

    Llama: every embedding gets a shared direction u; head h's query and its key-value group's
    key read only u, the key turned by `offset` steps of RoPE's fastest frequencies, so that
    q_t . k_s peaks at s = t - offset. Heads given offsets must use distinct key-value groups.
    GPT-2: the position embeddings get a sinusoidal code; head h's query reads the code of t,
    its key the code of s + offset."""
    with torch.no_grad():
        if isinstance(model, LlamaLM):
            s = model.s
            E = model.model.embed_tokens.weight  # [V, D]
            u = torch.randn(s.D, generator=generator)
            u = u / u.norm() * E.norm(dim=1).mean()  # as long as a typical embedding
            E += u
            u_hat = u / u.norm()
            c = math.sqrt(s.D / 2)  # u_hat . x at a normalised position: |u| / rms(u + e)
            half = s.dh // 2
            inv_freq = 1.0 / (s.rope_theta ** (torch.arange(0, s.dh, 2, dtype=torch.float64) / s.dh))
            fast = [i for i in range(half) if inv_freq[i] > 0.15]
            w = math.sqrt(sharpness * math.sqrt(s.dh) / (c * c * len(fast) * 0.2))
            group_size = s.H // s.Hkv
            groups = [h // group_size for h in offsets]
            assert len(set(groups)) == len(groups), "offset heads must use distinct key-value groups"
            attn = model.model.layers[0].self_attn
            for h, offset in offsets.items():
                g = h // group_size
                a_q = torch.zeros(s.dh)
                a_k = torch.zeros(s.dh)
                for i in fast:
                    # Pair i is (i, i + dh/2). q = (w, 0); k = R(offset theta_i) (w, 0), so that
                    # q . R((s - t) theta_i) k = w^2 cos((s - t + offset) theta_i): largest at
                    # s = t - offset.
                    th = offset * float(inv_freq[i])
                    a_q[i] = w
                    a_k[i], a_k[i + half] = w * math.cos(th), w * math.sin(th)
                attn.q_proj.weight[h * s.dh:(h + 1) * s.dh] = torch.outer(a_q, u_hat)
                attn.k_proj.weight[g * s.dh:(g + 1) * s.dh] = torch.outer(a_k, u_hat)
        elif isinstance(model, Gpt2LM):
            s = model.s
            m = 4
            P = model.wpe.weight  # [max_T, D]
            basis, _ = torch.linalg.qr(torch.randn(s.D, 2 * m, generator=generator))  # [D, 2m]
            omega = torch.tensor([1.0, 0.6, 0.35, 0.2])  # [m]
            pos = torch.arange(s.max_T, dtype=torch.float32)[:, None] * omega  # [max_T, m]
            code = torch.cat([pos.cos(), pos.sin()], dim=1)  # [max_T, 2m]
            amp = model.wte.weight.norm(dim=1).mean() / math.sqrt(m)
            # Token embeddings start orthogonal to the code so that they do not blur it.
            model.wte.weight -= (model.wte.weight @ basis) @ basis.T
            P -= (P @ basis) @ basis.T
            P += amp * code @ basis.T
            # After ln_1 the code has about unit size per coordinate pair times sqrt(D/2)/|x|.
            c = math.sqrt(s.D / 2) / math.sqrt(m)
            w = math.sqrt(sharpness * math.sqrt(s.dh) / (c * c * m * 0.2))
            W = model.h[0].attn.c_attn.weight  # [D, 3D]: q | k | v, Conv1D layout [in, out]
            for h, offset in offsets.items():
                Wq = torch.zeros(s.D, s.dh)  # [D, dh]
                Wk = torch.zeros(s.D, s.dh)
                for j in range(m):
                    cj, sj = basis[:, j], basis[:, m + j]  # cos and sin directions
                    o = float(omega[j]) * offset
                    Wq[:, 2 * j] = w * cj
                    Wq[:, 2 * j + 1] = w * sj
                    # k_s holds the code of s + offset: cos(o(s+1)) = cos(os)cos(o) - sin(os)sin(o)
                    Wk[:, 2 * j] = w * (cj * math.cos(o) - sj * math.sin(o))
                    Wk[:, 2 * j + 1] = w * (sj * math.cos(o) + cj * math.sin(o))
                W[:, h * s.dh:(h + 1) * s.dh] = Wq
                W[:, s.D + h * s.dh:s.D + (h + 1) * s.dh] = Wk
        else:
            raise TypeError(type(model))
