"""Writes fixtures/families/<case>-<dtype>/: tiny random models of each supported family, saved by the
reference library (config.json, model.safetensors), the same config in the older key layout
(config.v4.json), and reference.json with the library's float64 eager outputs for two prompts.

Usage: scripts/reference/setup.sh && scripts/reference/.venv/bin/python scripts/reference/make_family_fixtures.py
Every output is also recomputed by np_forward.py (float64 NumPy, written from the conventions in
docs/family-conventions.md); the script stops if the two disagree."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import copy
import json
import math
import shutil
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import torch
import transformers
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM

sys.path.insert(0, str(Path(__file__).parent))
import np_forward as npf  # noqa: E402
from cases import CASES  # noqa: E402

torch.set_num_threads(1)
transformers.logging.set_verbosity_error()

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "families"
TORCH_DTYPE = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
DTYPE_NAME = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}
PROMPT_LENGTHS = (7, 20)
SIG = 7  # significant digits kept in reference.json


# ---------------------------------------------------------------- weights


def perturb(model: nn.Module, gen: torch.Generator) -> None:
    """Replace the library's initialisation (norms 1 or 0, biases 0, std 0.02) by values that make
    every parameter visible in the outputs: unit-scale embeddings, 1/sqrt(fan_in) projections,
    biases and norm weights far from their neutral values."""
    tied = model.get_input_embeddings().weight

    def normal(t: torch.Tensor, mean: float, std: float) -> None:
        with torch.no_grad():
            t.copy_(torch.randn(t.shape, generator=gen, dtype=torch.float64) * std + mean)

    for _, mod in model.named_modules():
        kind = type(mod).__name__
        if isinstance(mod, nn.Embedding):
            normal(mod.weight, 0.0, 1.0)
        elif isinstance(mod, nn.Linear):
            if mod.weight is not tied:
                normal(mod.weight, 0.0, 1.0 / math.sqrt(mod.in_features))
            if mod.bias is not None:
                normal(mod.bias, 0.0, 0.2)
        elif isinstance(mod, nn.LayerNorm):
            normal(mod.weight, 1.0, 0.2)
            normal(mod.bias, 0.0, 0.2)
        elif "RMSNorm" in kind:
            # Gemma norms scale by (1 + w) and start at w = 0; the others scale by w and start at 1.
            normal(mod.weight, 0.0 if kind.startswith("Gemma") else 1.0, 0.2)


ALIASES = {"embed_out.weight": "lm_head.weight"}


def check_loaded(model: nn.Module, st: dict[str, np.ndarray]) -> None:
    """Every tensor in the file is the model's parameter, upcast exactly; nothing is missing."""
    params = dict(model.named_parameters(remove_duplicate=False))
    # The library renames a few checkpoint keys internally and back on saving.
    for stored, internal in ALIASES.items():
        if internal in params and stored in st:
            params[stored] = params.pop(internal)
    for name, arr in st.items():
        if name not in params:
            raise SystemExit(f"{name} in model.safetensors is not a parameter of the loaded model")
        got = params[name].detach().numpy()
        if got.shape != arr.shape or not np.array_equal(got, arr):
            raise SystemExit(f"{name}: loaded float64 parameter differs from the stored tensor")
    for name in params:
        if name not in st and not name.endswith("lm_head.weight"):  # tied heads are not stored
            raise SystemExit(f"parameter {name} is not in model.safetensors")


# ---------------------------------------------------------------- rounding / json


def rounded(a) -> list:
    a = np.asarray(a, dtype=np.float64)
    flat = [float(f"{x:.{SIG}g}") for x in a.ravel().tolist()]
    return np.array(flat).reshape(a.shape).tolist()


def dump(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n")


# ---------------------------------------------------------------- one case


def stored_embed_scale(D: int, dtype: str) -> float:
    """sqrt(D) as the library holds it when the model runs in the checkpoint's dtype: a float32
    scalar, cast to the embedding weight's dtype."""
    return float(torch.tensor(math.sqrt(D), dtype=torch.float32).to(TORCH_DTYPE[dtype]).double())


def visible_sets(probs: np.ndarray) -> list[list[int]]:
    return [np.nonzero(row > 0)[0].tolist() for row in probs]


def expected_window(T: int, window: int | None) -> list[list[int]]:
    return [list(range(0 if window is None else max(0, i - window + 1), i + 1)) for i in range(T)]


def layer_windows(cfg: dict) -> list[int | None]:
    mt, L = cfg["model_type"], cfg.get("num_hidden_layers", cfg.get("num_layers"))
    if mt == "gpt_neo":
        return [cfg["window_size"] if k == "local" else None for k in npf.expand_attention_types(cfg["attention_types"])]
    if mt in ("gemma2", "gemma3_text"):
        types = cfg.get("layer_types") or npf.gemma3_layer_types(cfg)
        return [cfg["sliding_window"] if t == "sliding_attention" else None for t in types]
    if mt == "phi3":
        return [cfg.get("sliding_window")] * L
    return [None] * L


# Convention slips that the fixtures must catch: each mutates the older-layout config (or the
# embedding scale) and must move the logits by far more than a 1e-4 test tolerance.
SLIPS = {
    "gpt_neox": [("parallel residual read as sequential", lambda c: c.update(use_parallel_residual=not c["use_parallel_residual"])),
                 ("rotary on every dim", lambda c: c.update(rotary_pct=1.0))],
    "gpt_neo": [("local layers read as global", lambda c: c.update(window_size=10**6))],
    "gemma": [],
    "gemma2": [("no attention soft-cap", lambda c: c.update(attn_logit_softcapping=None)),
               ("scores scaled by head_dim", lambda c: c.update(query_pre_attn_scalar=c["head_dim"])),
               ("no sliding window", lambda c: c.update(sliding_window=10**6))],
    "gemma3_text": [("one rope base for all layers", lambda c: c.update(rope_local_base_freq=c["rope_theta"])),
                    ("no sliding window", lambda c: c.update(sliding_window=10**6))],
    "olmo2": [],
    "phi3": [("no sliding window", lambda c: c.update(sliding_window=None)),
             ("no rope scaling", lambda c: c.update(rope_scaling=None)),
             ("short_factor past the original context", lambda c: c["rope_scaling"] and c["rope_scaling"].update(long_factor=c["rope_scaling"]["short_factor"]))],
    "llama": [("rope_scaling ignored", lambda c: c.update(rope_scaling=None))],
}


def slips(cfg_old: dict, W, ids, embed_scale, logits, dtype) -> dict[str, float]:
    out = {}
    for label, mutate in SLIPS[cfg_old["model_type"]]:
        c = copy.deepcopy(cfg_old)
        mutate(c)
        if c == cfg_old:
            continue  # the slip does not apply to this variant
        got = npf.forward(c, W, ids, embed_scale)["logits"]
        out[label] = float(np.abs(got - logits).max() / np.abs(logits).max())
    if embed_scale is not None and dtype != "F32":
        got = npf.forward(cfg_old, W, ids, math.sqrt(cfg_old["hidden_size"]))["logits"]
        out["sqrt(hidden_size) not rounded to the weight dtype"] = float(np.abs(got - logits).max() / np.abs(logits).max())
    return out


def run_case(case: dict, dtype: str, tmp: Path) -> dict:
    name = f"{case['name']}-{dtype}"
    legacy = copy.deepcopy(case["config"])
    seed = zlib.crc32(case["name"].encode())
    gen = torch.Generator().manual_seed(seed)

    cfg = AutoConfig.for_model(**legacy)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    perturb(model, gen)
    model = model.to(TORCH_DTYPE[dtype])

    out_dir = OUT / name
    if out_dir.exists():
        shutil.rmtree(out_dir)
    model.save_pretrained(out_dir)
    for extra in out_dir.iterdir():
        if extra.name not in ("config.json", "model.safetensors"):
            extra.unlink()  # generation_config.json: not needed by the tests
    legacy_out = dict(legacy)
    legacy_out["torch_dtype"] = DTYPE_NAME[dtype]
    (out_dir / "config.v4.json").write_text(json.dumps(legacy_out, indent=2, sort_keys=True) + "\n")

    # The older layout must mean exactly what the saved layout means to the library.
    new_cfg = AutoConfig.from_pretrained(out_dir)
    old_dir = tmp / name
    old_dir.mkdir()
    shutil.copy(out_dir / "config.v4.json", old_dir / "config.json")
    old_cfg = AutoConfig.from_pretrained(old_dir)
    strip = lambda d: {k: v for k, v in d.items() if k not in ("transformers_version", "dtype", "torch_dtype", "_name_or_path")}
    if strip(new_cfg.to_dict()) != strip(old_cfg.to_dict()):
        a, b = strip(new_cfg.to_dict()), strip(old_cfg.to_dict())
        diff = {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}
        raise SystemExit(f"{name}: config.v4.json reads differently from config.json: {diff}")

    # Reference: the stored weights upcast to float64, eager attention.
    st = npf.read_safetensors(out_dir / "model.safetensors")
    ref = AutoModelForCausalLM.from_pretrained(out_dir, dtype=torch.float64, attn_implementation="eager").eval()
    check_loaded(ref, st)
    cfg_json = json.loads((out_dir / "config.json").read_text())
    cfg_old = json.loads((out_dir / "config.v4.json").read_text())

    embed_scale = None
    extras: dict = {}
    emb = ref.get_input_embeddings()
    if hasattr(emb, "embed_scale"):
        extras["library_embed_scale_when_loaded_as_float64"] = float(emb.embed_scale.double())
        embed_scale = stored_embed_scale(cfg_json["hidden_size"], dtype)
        with torch.no_grad():
            emb.embed_scale.fill_(embed_scale)
        extras["embed_scale"] = embed_scale
    rot = getattr(ref.model if hasattr(ref, "model") else ref.gpt_neox if hasattr(ref, "gpt_neox") else ref, "rotary_emb", None)
    if rot is not None and hasattr(rot, "inv_freq"):
        extras["library_inv_freq"] = rounded(rot.inv_freq.double().numpy())
        extras["library_rope_attention_scaling"] = float(rot.attention_scaling)

    head_in: list[torch.Tensor] = []
    hook = ref.get_output_embeddings().register_forward_hook(lambda m, i, o: head_in.append(i[0].detach()))

    rs = np.random.RandomState(seed)
    V = cfg_json["vocab_size"]
    prompts, worst = [], {"logits_rel": 0.0, "attn_abs": 0.0, "hidden_rel": 0.0}
    for T in PROMPT_LENGTHS:
        ids = rs.randint(0, V, size=T).tolist()
        head_in.clear()
        with torch.no_grad():
            out = ref(torch.tensor([ids]), output_attentions=True, output_hidden_states=True, use_cache=False)
        logits = out.logits[0].numpy()
        h_final = head_in[-1][0]
        pre_cap = (h_final @ ref.get_output_embeddings().weight.detach().T).numpy()
        attns = [a[0].numpy() for a in out.attentions]
        hidden = [h[0].numpy() for h in out.hidden_states]

        # Independent float64 recomputation, from both config layouts.
        mine = npf.forward(cfg_json, st, ids, embed_scale)
        mine_old = npf.forward(cfg_old, st, ids, embed_scale)
        if not np.array_equal(mine["logits"], mine_old["logits"]):
            raise SystemExit(f"{name}: NumPy forward reads config.v4.json differently")
        if T == PROMPT_LENGTHS[-1]:
            slip = slips(cfg_old, st, ids, embed_scale, logits, dtype)
            for label, rel in slip.items():
                # The embedding-scale slip only moves the residual's embedding share (~0.2 %).
                if rel < (2e-4 if label.startswith("sqrt") else 1e-3):
                    raise SystemExit(f"{name}: the fixture cannot tell '{label}' (logits move {rel:.2g})")
        scale = np.abs(logits).max()
        worst["logits_rel"] = max(worst["logits_rel"], float(np.abs(mine["logits"] - logits).max() / scale))
        worst["attn_abs"] = max(worst["attn_abs"], max(float(np.abs(m - a).max()) for m, a in zip(mine["attentions"], attns)))
        # The library's hidden_states: embedding output, then the residual stream after each layer,
        # except that the last entry is the final norm's output.
        ours = mine["residual"][:-1] + [mine["final_normed"]]
        if len(ours) != len(hidden):
            raise SystemExit(f"{name}: {len(hidden)} hidden states, expected {len(ours)}")
        worst["hidden_rel"] = max(worst["hidden_rel"], max(float(np.abs(o - h).max() / np.abs(h).max()) for o, h in zip(ours, hidden)))
        if cfg_json.get("final_logit_softcapping") is None and not np.allclose(pre_cap, logits, rtol=1e-12, atol=1e-12):
            raise SystemExit(f"{name}: lm_head(final hidden) differs from the logits without soft-capping")

        # Which keys each query sees: exactly the causal window the conventions describe.
        for l, (a, w) in enumerate(zip(attns, layer_windows(cfg_json))):
            for h in range(a.shape[0]):
                if visible_sets(a[h]) != expected_window(T, w):
                    raise SystemExit(f"{name}: layer {l} head {h} visible keys differ from window {w}")

        p = {
            "input_ids": ids,
            "logits": rounded(logits),
            "attentions": [rounded(a) for a in attns],
        }
        if dtype == "F32":  # per-layer states once per family are enough to localise a mismatch
            p["hidden_states"] = [rounded(h) for h in hidden]
        else:  # the embedding output alone shows a wrongly rounded embedding scale directly
            p["embedding_output"] = rounded(hidden[0])
        if cfg_json.get("final_logit_softcapping") is not None:
            p["logits_pre_cap"] = rounded(pre_cap)
        prompts.append(p)
    hook.remove()

    tol = {"logits_rel": 2e-6, "attn_abs": 2e-6, "hidden_rel": 2e-6}
    for k, v in worst.items():
        if not v <= tol[k]:
            raise SystemExit(f"{name}: NumPy reference differs from the library: {k} = {v:.3g} > {tol[k]}")

    doc = {
        "format": "family-reference/1",
        "case": name,
        "model_type": cfg_json["model_type"],
        "dtype": dtype,
        "features": case["features"],
        "generator": {
            "script": "scripts/reference/make_family_fixtures.py",
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "compute": "stored weights upcast exactly to float64, eager attention, batch of one, positions 0..T-1, "
        "no cache; the library keeps softmax, RMSNorm and the rotary tables in float32 even then "
        f"(float64 NumPy recomputation agrees to {max(worst.values()):.1e}); numbers rounded to {SIG} significant digits",
        "shapes": "logits [T][V]; attentions [L][H][T][T] (row = query, column = key); hidden_states [L+1][T][D] "
        "(F32 cases only; other dtypes keep embedding_output [T][D] = hidden_states[0]): embedding output, residual stream after layers 0..L-2, then the final norm's output",
        "numpy_agreement": {k: float(f"{v:.3g}") for k, v in worst.items()},
        "slips_detected": {k: float(f"{v:.3g}") for k, v in slip.items()},
        **{k: v for k, v in extras.items()},
        "prompts": prompts,
    }
    if cfg_json.get("final_logit_softcapping") is not None:
        doc["logits_pre_cap_note"] = "lm_head applied to the final norm's output, before cap * tanh(logits / cap)"
    dump(out_dir / "reference.json", doc)
    return {"case": name, "features": case["features"], "dtype": dtype, "model_type": cfg_json["model_type"],
            "bytes": {f.name: f.stat().st_size for f in sorted(out_dir.iterdir())}, "numpy_agreement": doc["numpy_agreement"], "slips_detected": doc["slips_detected"]}


def main() -> None:
    t0 = time.time()
    only = set(sys.argv[1:])
    OUT.mkdir(parents=True, exist_ok=True)
    index = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if only and case["name"] not in only:
                continue
            for dtype in case["dtypes"]:
                row = run_case(case, dtype, Path(tmp))
                index.append(row)
                total = sum(row["bytes"].values())
                print(f"{row['case']:24s} {total / 1024:6.1f} KiB  numpy {row['numpy_agreement']}  slips {row['slips_detected']}", flush=True)
    if not only:
        dump_index = {
            "format": "family-index/1",
            "generator": {"transformers": transformers.__version__, "torch": torch.__version__},
            "cases": index,
        }
        (OUT / "index.json").write_text(json.dumps(dump_index, indent=1) + "\n")
    print(f"done in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
