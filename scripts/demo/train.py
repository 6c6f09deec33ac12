"""Builds the demo models end to end: synthetic corpus and probes, the two tokenizers, a tiny
Llama and a tiny GPT-2 trained on CPU with fixed seeds, exported as Hugging Face folders with a
float64 reference of their outputs. Not a general training script.

    /usr/bin/python3 scripts/demo/train.py [--model llama|gpt2|both] [--steps N] [--drill-steps N]
                                           [--out DIR]

Debian's torch uses the reference BLAS, which is ~20x slower than OpenBLAS; run
scripts/demo/fetch-openblas.sh once and this script re-executes itself with it.
"""

import argparse
import json
import math
import os
import sys
import time
import zlib
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OPENBLAS_DIR = os.environ.get("DEMO_OPENBLAS_DIR",
                              "/tmp/openblas-demo/usr/lib/x86_64-linux-gnu/openblas-pthread")


def ensure_fast_blas() -> None:
    """Re-exec under a locally extracted OpenBLAS when torch links the reference BLAS."""
    if os.environ.get("DEMO_BLAS_CHECKED"):
        return
    env = dict(os.environ, DEMO_BLAS_CHECKED="1", OPENBLAS_NUM_THREADS="1")
    if os.path.exists(os.path.join(OPENBLAS_DIR, "libblas.so.3")):
        env["LD_LIBRARY_PATH"] = OPENBLAS_DIR + ":" + env.get("LD_LIBRARY_PATH", "")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    print("note: no OpenBLAS at", OPENBLAS_DIR, "- training will be slow; see fetch-openblas.sh",
          file=sys.stderr)
    os.environ.update(env)


ensure_fast_blas()

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, HERE)
import corpus  # noqa: E402
import models  # noqa: E402
import safetensors_io  # noqa: E402
import tokenizer as tok  # noqa: E402

N_DOCS = 60000
N_DRILL_DOCS = 20000
DRILL_SEED = 5
TOKENIZER_DOCS = 20000
SEQ = corpus.MAX_PIECES + 2  # BOS + pieces + EOS
ANSWER_WEIGHT = 10.0
# One thread: on a shared two-core machine a second OpenMP thread mostly waits on busy cores.
THREADS = int(os.environ.get("DEMO_THREADS", "1"))


def blas_name() -> str:
    libs = os.environ.get("LD_LIBRARY_PATH", "")
    return "openblas" if "openblas" in libs else "torch default (" + (
        "reference BLAS" if "BLAS_INFO=generic" in torch.__config__.show() else "vendor BLAS") + ")"


def encode_docs(docs: list[tuple[str, list[int]]], encode, prefix: list[int],
                suffix: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of SEQ ids, -1 where padded, and a same-shaped mask of answer tokens. The corpus marks
    answers by word-piece index; each piece is one token, which is asserted here."""
    ids_out = np.full((len(docs), SEQ), -1, dtype=np.int64)
    answers = np.zeros((len(docs), SEQ), dtype=bool)
    for r, (d, marks) in enumerate(docs):
        body = encode(d)
        assert len(body) == corpus.count_pieces(d), d
        ids = prefix + body + suffix
        assert len(ids) <= SEQ, (len(ids), d)
        ids_out[r, :len(ids)] = ids
        answers[r, [len(prefix) + m for m in marks]] = True
    return ids_out, answers


class CachedEncoder:
    """Encodes text by words: the corpus has few distinct words, so caching them is fast."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.cache: dict[str, list[int]] = {}

    def __call__(self, text: str) -> list[int]:
        out: list[int] = []
        for i, word in enumerate(text.split(" ")):
            key = word if i == 0 else " " + word
            if key not in self.cache:
                self.cache[key] = self.fn(key)
            out.extend(self.cache[key])
        return out


def probe_batch(ps: list[dict], encode) -> tuple[torch.Tensor, torch.Tensor]:
    rows = [encode(p["prompt"]) for p in ps]
    T = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), T, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
    return ids, torch.tensor([len(r) - 1 for r in rows])


def single_token(encode_word, word: str) -> int:
    ids = encode_word(word)
    assert len(ids) == 1, (word, ids)
    return ids[0]


@torch.no_grad()
def probe_accuracy(model, ps: list[dict], encode, encode_word) -> dict:
    """Per kind: top-1 (the answer is the argmax next token) and contrast (the answer beats every
    distractor)."""
    model.eval()
    ids, last = probe_batch(ps, encode)
    logits = model(ids)[torch.arange(len(ps)), last]  # [P, V]
    stats: dict[str, dict] = {}
    for p, row in zip(ps, logits):
        s = stats.setdefault(p["kind"], {"n": 0, "top1": 0, "contrast": 0})
        a = single_token(encode_word, p["answer"])
        s["n"] += 1
        s["top1"] += int(row.argmax().item() == a)
        s["contrast"] += int(all(row[a] > row[single_token(encode_word, d)] for d in p["distractors"]))
    model.train()
    return {k: {"n": v["n"], "top1": v["top1"] / v["n"], "contrast": v["contrast"] / v["n"]}
            for k, v in stats.items()}


@torch.no_grad()
def intervention(model, ps: list[dict], encode, encode_word) -> dict:
    """Validation by intervention: each probe's source word replaced by another valid one (its
    'counterfactual'). A probe passes when the model's argmax next token changes; also counted:
    how often it changes to the counterfactual's own answer. Returns counts per kind and the ids
    of the probes that fail."""
    model.eval()
    ids, last = probe_batch(ps, encode)
    before = model(ids)[torch.arange(len(ps)), last].argmax(-1)  # [P]
    cf = [{"prompt": p["counterfactual"]["prompt"]} for p in ps]
    ids, last = probe_batch(cf, encode)
    after = model(ids)[torch.arange(len(ps)), last].argmax(-1)  # [P]
    model.train()
    per_kind: dict[str, dict] = {}
    failed = []
    for p, b, a in zip(ps, before.tolist(), after.tolist()):
        s = per_kind.setdefault(p["kind"], {"n": 0, "changed": 0, "to_counterfactual_answer": 0})
        s["n"] += 1
        s["changed"] += int(a != b)
        s["to_counterfactual_answer"] += int(a == single_token(encode_word, p["counterfactual"]["answer"]))
        if a == b:
            failed.append(p["id"])
    return {"per_kind": per_kind, "unchanged": failed}


def finalize_probes(out: str, probe_list: list[dict]) -> None:
    """Rewrites probes.json without the probes whose answer did not change under intervention on
    either demo model found in `out`, recording per kind how many each model dropped."""
    dropped: dict[str, set[str]] = {}
    for name in ("demo-llama", "demo-gpt2"):
        path = os.path.join(out, name, "reference.json")
        if not os.path.exists(path):
            print(f"note: no {path}; probes are not validated on {name}", file=sys.stderr)
            continue
        with open(path) as f:
            ref = json.load(f)
        if ref.get("probe_prompts_crc") != probe_prompts_crc(probe_list):
            raise SystemExit(f"{path} was made with other probes; retrain {name} first")
        dropped[name] = set(ref["intervention"]["unchanged"])
    lost = set().union(*dropped.values()) if dropped else set()
    kept = [dict(p) for p in probe_list if p["id"] not in lost]
    corpus.mark_examples(kept)
    validation = {}
    for kind in corpus.BLOCKS:
        mine = [p["id"] for p in probe_list if p["kind"] == kind]
        validation[kind] = {
            "generated": len(mine),
            "dropped": {name: sum(i in d for i in mine) for name, d in dropped.items()},
            "kept": sum(i not in lost for i in mine),
        }
    corpus.write_probes(os.path.join(out, "probes.json"), kept, validation)
    print("probes kept after intervention:", json.dumps(validation))


def probe_prompts_crc(ps: list[dict]) -> int:
    """Fingerprint of a probe set (ids and prompts), to tie a model's validation to it."""
    return zlib.crc32(json.dumps([[p["id"], p["prompt"]] for p in ps]).encode("utf-8"))


def length_buckets(lengths: np.ndarray, batch: int, rng: np.random.RandomState) -> list[np.ndarray]:
    """One epoch of batches, each drawn from documents of similar length so that little of
    every batch is padding; the batch order is shuffled."""
    order = rng.permutation(len(lengths))
    chunk = batch * 64
    out = []
    for c in range(0, len(order) - batch + 1, chunk):
        part = order[c:c + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        out += [part[i:i + batch] for i in range(0, len(part) - batch + 1, batch)]
    return [out[i] for i in rng.permutation(len(out))]


@dataclass
class Phase:
    """A stretch of training on one corpus: ids [N, SEQ] (-1 = padding), answer mask [N, SEQ]."""
    name: str
    data: np.ndarray
    answers: np.ndarray
    steps: int


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, flat until 70% of training, then cosine down to a tenth. The flat part
    matters: copying circuits appear abruptly after a plateau and need the full rate to do so."""
    if step < warmup:
        return (step + 1) / warmup
    decay_from = int(0.7 * total)
    if step < decay_from:
        return 1.0
    return 0.1 + 0.45 * (1 + math.cos(math.pi * (step - decay_from) / max(1, total - decay_from)))


def train(model, phases: list[Phase], answer_weight: float, batch: int, lr: float, seed: int,
          log_every: int, on_log) -> None:
    """AdamW on next-token cross-entropy, each answer token's loss weighted by answer_weight
    (the rest by one): the words the probes ask about are a few percent of the corpus, and
    without the extra weight the circuits that predict them form far later. One optimiser and
    one learning-rate schedule run across the phases."""
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    # Embeddings are exempt from weight decay: with tied embeddings, words that are not yet
    # predictable (every surname before copying works) get pulled to one shared vector, and decay
    # then erases what still tells them apart, so they can never be copied.
    def decays(name: str, p: torch.Tensor) -> bool:
        return p.dim() == 2 and not name.endswith(("embed_tokens.weight", "wte.weight", "wpe.weight"))
    decay = [p for n, p in model.named_parameters() if decays(n, p)]
    no_decay = [p for n, p in model.named_parameters() if not decays(n, p)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.95), eps=1e-8)
    total = sum(ph.steps for ph in phases)
    warmup = 100
    losses: list[tuple[float, float]] = []
    model.train()
    step = 0
    for ph in phases:
        lengths = (ph.data >= 0).sum(1)
        batches: list[np.ndarray] = []
        for _ in range(ph.steps):
            for g in opt.param_groups:
                g["lr"] = lr * lr_factor(step, total, warmup)
            if not batches:
                batches = length_buckets(lengths, batch, rng)
            pick = batches.pop()
            rows = ph.data[pick]
            T = int((rows >= 0).sum(1).max())
            rows = torch.from_numpy(rows[:, :T])
            x = rows[:, :-1].clamp(min=0)  # [B, T-1]
            y = rows[:, 1:]  # [B, T-1], -1 = padding
            marked = torch.from_numpy(ph.answers[pick, 1:T])  # [B, T-1]
            valid = y >= 0  # [B, T-1]
            w = valid.float() * torch.where(marked, answer_weight, 1.0)  # [B, T-1]
            logits = model(x)  # [B, T-1, V]
            ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                   y.reshape(-1).clamp(min=0),
                                                   reduction="none").view_as(w)  # [B, T-1]
            loss = (ce * w).sum() / w.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            on_answers = ce[marked & valid]
            losses.append((ce[valid].mean().item(),
                           on_answers.mean().item() if len(on_answers) else float("nan")))
            step += 1
            if step % log_every == 0 or step == total:
                recent = np.array(losses[-log_every:])
                answered = recent[~np.isnan(recent[:, 1]), 1]
                on_log(step, ph.name, float(recent[:, 0].mean()),
                       float(answered.mean()) if len(answered) else float("nan"))
    model.eval()


def fmt(x: float) -> float:
    """Nine significant digits: more than float32 carries, short enough to keep files small."""
    return float(f"{x:.9g}")


@torch.no_grad()
def reference(name: str, model_cls, shape, out_dir: str, trained, encode, decode,
              prompts: list[tuple[str, str]], greedy_prompt: str, stop_ids: list[int]) -> dict:
    """Reload the exported file, check it reproduces the trained model in float32, then run it in
    float64 for the reference logits and a greedy continuation."""
    weights = safetensors_io.load(os.path.join(out_dir, "model.safetensors"))
    reloaded = model_cls(shape)
    missing, unexpected = reloaded.load_state_dict(weights, strict=True), None
    del missing, unexpected
    reloaded.eval()
    roundtrip = 0.0
    f64_vs_f32 = 0.0
    m64 = model_cls(shape).double()
    m64.load_state_dict({k: v.double() for k, v in weights.items()})
    m64.eval()
    out_prompts = []
    for label, text in prompts:
        ids = torch.tensor([encode(text)])
        a = trained(ids)[0]
        b = reloaded(ids)[0]
        roundtrip = max(roundtrip, (a - b).abs().max().item())
        logits = m64(ids)[0]  # [T, V]
        f64_vs_f32 = max(f64_vs_f32, (logits - b.double()).abs().max().item())
        out_prompts.append({"name": label, "text": text, "ids": ids[0].tolist(),
                            "logits": [[fmt(v) for v in row.tolist()] for row in logits]})
    assert roundtrip == 0.0, f"{name}: reloaded weights differ from the trained model ({roundtrip})"
    assert f64_vs_f32 < 1e-3, f"{name}: float64 and float32 disagree by {f64_vs_f32}"
    ids = encode(greedy_prompt)
    new: list[int] = []
    for _ in range(20):
        nxt = int(m64(torch.tensor([ids + new]))[0, -1].argmax().item())
        new.append(nxt)
    return {
        "prompts": out_prompts,
        "greedy": {"prompt": greedy_prompt, "prompt_ids": ids, "new_ids": new,
                   "new_text": decode(new), "stops_at": next((i for i, t in enumerate(new)
                                                             if t in stop_ids), None)},
        "checks": {"float32_reload_max_abs_diff": roundtrip,
                   "float64_vs_float32_max_abs_diff": fmt(f64_vs_f32)},
    }


def write_json(path: str, obj, indent: int | None = 1) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent, ensure_ascii=False, separators=None if indent else (",", ":"))
        f.write("\n")


TOKENIZER_EDGE_CASES = [
    "Tom has a red kite.",
    "Zo\u00eb has a red kite.",
    "Tom  has 42 cats!\nYes",
    " leading space",
    "<s> hi </s>",
    "a<|endoftext|>b",
    "it's caf\u00e9 \u20ac\U0001F600",
]


def copy_drills(n_docs: int, V: int, special: set[int], prefix: list[int], suffix: list[int],
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The warm-up phase: rows of 8 to 29 random token ids said twice, the repeat marked as
    answers. The repeat is predictable only by copying from after an earlier occurrence of the
    current token, so the induction circuit forms here within a few thousand steps; on the
    task corpus, where copies are a few per document, it had not formed after 7,500. The
    lengths vary so that no fixed positional offset can stand in for it."""
    rng = np.random.RandomState(seed)
    pool = np.array([i for i in range(V) if i not in special])
    ids = np.full((n_docs, SEQ), -1, dtype=np.int64)
    answers = np.zeros((n_docs, SEQ), dtype=bool)
    for r in range(n_docs):
        n = rng.randint(8, 30)
        a = rng.choice(pool, n).tolist()
        row = prefix + a + a + suffix
        ids[r, :len(row)] = row
        answers[r, len(prefix) + n:len(prefix) + 2 * n] = True
    return ids, answers


@dataclass
class Recipe:
    """Everything that decides a model apart from the corpus."""
    seed: int
    drill_steps: int  # on copy drills first
    steps: int  # then on the task corpus
    batch: int = 16
    lr: float = 3e-3
    answer_weight: float = ANSWER_WEIGHT
    init_std: float = 0.088  # about 1/sqrt(D): layer outputs start comparable to the embeddings
    embed_std: float = 0.5
    # Layer 0's heads that start as fixed-offset heads (head: offset); see init_offset_heads.
    offset_heads: dict = field(default_factory=lambda: {0: 1, 2: 3})


RECIPES = {
    # The Llama model's copying forms only with the larger batch (its drill loss stalled at 1.3
    # nats with 16 rows); the GPT-2 model gets there with 16.
    "llama": Recipe(seed=1234, drill_steps=3000, steps=20000, batch=32),
    "gpt2": Recipe(seed=1234, drill_steps=3000, steps=10000, batch=16),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["llama", "gpt2", "both"], default="both")
    ap.add_argument("--steps", type=int, default=None, help="override the task-corpus steps")
    ap.add_argument("--drill-steps", type=int, default=None, help="override the copy-drill steps")
    ap.add_argument("--out", default=os.path.join(ROOT, "public", "models"),
                    help="folder that receives demo-<model>/ and probes.json (default public/models)")
    args = ap.parse_args()
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)

    t0 = time.time()
    marked = corpus.marked_training_corpus(N_DOCS, corpus.MAX_PIECES)
    docs = [text for text, _ in marked]
    probe_list = corpus.probes(corpus.N_PROBES_PER_KIND, corpus.MAX_PIECES)
    # Written whole now, rewritten without the probes that fail validation once models exist.
    os.makedirs(args.out, exist_ok=True)
    corpus.write_probes(os.path.join(args.out, "probes.json"), probe_list)
    prompts_text = {p["prompt"] for p in probe_list}
    leaked = [d for d in docs if any(d.startswith(t) for t in prompts_text)]
    print(f"corpus: {len(docs)} documents, {len(probe_list)} probes, "
          f"{len(leaked)} documents starting with a probe prompt")

    settings_common = {"corpus_docs": N_DOCS, "drill_docs": N_DRILL_DOCS,
                       "corpus_seed": corpus.TRAIN_SEED, "drill_seed": DRILL_SEED,
                       "probe_seed": corpus.PROBE_SEED, "tokenizer_docs": TOKENIZER_DOCS,
                       "max_words": corpus.MAX_PIECES, "blas": blas_name(),
                       "torch": torch.__version__, "threads": torch.get_num_threads()}
    examples = {}
    for p in probe_list:
        if p["example"] and p["kind"] not in examples:
            examples[p["kind"]] = p["prompt"]
    ref_prompts = [(k, v) for k, v in examples.items()]
    ref_prompts.append(("filler", "The sun was warm. We walked by the lake. Then"))

    which = ["llama", "gpt2"] if args.model == "both" else [args.model]
    for name in which:
        recipe = RECIPES[name]
        if args.steps is not None:
            recipe = Recipe(**{**recipe.__dict__, "steps": args.steps})
        if args.drill_steps is not None:
            recipe = Recipe(**{**recipe.__dict__, "drill_steps": args.drill_steps})
        t_start = time.time()
        if name == "llama":
            tk = tok.SpmTokenizer.train(docs[:TOKENIZER_DOCS])
            encode = tk.encode

            def encode_word(w: str, tk=tk) -> list[int]:
                # A lone word: drop the "▁" the normaliser prepends before its own "▁word".
                return tk.encode(w, add_bos=False)[1 if w.startswith(" ") else 0:]
            cached = CachedEncoder(encode_word)
            prefix, suffix, stop_ids = [tk.bos_id], [tk.eos_id], [tk.eos_id, tk.bos_id]
            shape = models.LlamaShape(V=len(tk.vocab), max_T=SEQ)
            model_cls = models.LlamaLM
        else:
            tk = tok.Gpt2Tokenizer.train(docs[:TOKENIZER_DOCS])
            encode = tk.encode
            encode_word = tk.encode
            cached = CachedEncoder(tk.encode)
            prefix, suffix, stop_ids = [], [tk.eot_id], [tk.eot_id]
            shape = models.Gpt2Shape(V=len(tk.vocab), max_T=SEQ)
            model_cls = models.Gpt2LM
        # Encoding by cached words must equal encoding whole documents (no merge crosses words).
        for d in docs[:500] + [p["prompt"] for p in probe_list]:
            assert encode(d) == prefix + cached(d), d
        data, answers = encode_docs(marked, cached, prefix, suffix)
        # Ids 0-2 (Llama's unk, bos, eos) and the document marks never appear in a drill.
        special = {0, 1, 2} | set(prefix) | set(suffix)
        drill_data, drill_answers = copy_drills(N_DRILL_DOCS, shape.V, special, prefix, suffix,
                                                DRILL_SEED)
        phases = [Phase("drill", drill_data, drill_answers, recipe.drill_steps),
                  Phase("corpus", data, answers, recipe.steps)]
        print(f"{name}: vocab {len(tk.vocab)}, tokens/doc {float((data >= 0).sum(1).mean()):.1f}")

        torch.manual_seed(recipe.seed)
        model = model_cls(shape)
        models.init_weights(model, shape.L, std=recipe.init_std, embed_std=recipe.embed_std)
        models.init_offset_heads(model, torch.Generator().manual_seed(recipe.seed),
                                 recipe.offset_heads)
        print(f"{name}: {models.n_params(model)} parameters")
        history = []
        total = recipe.drill_steps + recipe.steps

        def on_log(step: int, phase: str, loss: float, answer_loss: float) -> None:
            acc = probe_accuracy(model, probe_list, encode, encode_word) \
                if step % 500 == 0 or step == total else None
            history.append({"step": step, "phase": phase, "loss": round(loss, 4),
                            "answer_loss": round(answer_loss, 4),
                            **({"top1": {k: v["top1"] for k, v in acc.items()}} if acc else {})})
            print(f"{name} {phase} step {step} loss {loss:.4f} answers {answer_loss:.4f} "
                  f"{time.time() - t_start:.0f}s",
                  {k: round(v["top1"], 3) for k, v in acc.items()} if acc else "", flush=True)

        train(model, phases, recipe.answer_weight, recipe.batch, recipe.lr, recipe.seed, 50, on_log)
        train_seconds = time.time() - t_start
        acc = probe_accuracy(model, probe_list, encode, encode_word)
        iv = intervention(model, probe_list, encode, encode_word)

        out_dir = os.path.join(args.out, f"demo-{name}")
        os.makedirs(out_dir, exist_ok=True)
        export(name, model, shape, tk, out_dir)
        ref = reference(name, model_cls, shape, out_dir, model, encode, tk.decode, ref_prompts,
                        examples["binding"], stop_ids)
        ref.update({
            "model": f"demo-{name}",
            "generator": "scripts/demo/train.py",
            "precision": "logits from a float64 forward pass of the exported float32 weights",
            "tokenizer_cases": [{"text": t, "ids": encode(t)}
                                for t in TOKENIZER_EDGE_CASES + [p["prompt"] for p in probe_list]],
            "accuracy": acc,
            "intervention": iv,
            "probe_prompts_crc": probe_prompts_crc(probe_list),
            "training": {**settings_common, **recipe.__dict__, "optimizer":
                         "AdamW betas (0.9, 0.95), weight decay 0.1 on matrices but not "
                         "embeddings, gradient clip 1.0; learning rate: 100 warm-up steps, flat "
                         "to 70%, cosine to 10%", "seconds": round(train_seconds, 1),
                         "final_loss": history[-1]["loss"], "history": history},
        })
        write_json(os.path.join(out_dir, "reference.json"), ref, indent=None)
        print(f"{name}: accuracy", json.dumps(acc), f"{train_seconds:.0f}s")
        print(f"{name}: intervention", json.dumps(iv["per_kind"]))
    finalize_probes(args.out, probe_list)
    print(f"total {time.time() - t0:.0f}s")


def export(name: str, model, shape, tk, out_dir: str) -> None:
    state = {k: v for k, v in model.state_dict().items()}
    if name == "llama":
        config = {
            "architectures": ["LlamaForCausalLM"], "model_type": "llama",
            "hidden_size": shape.D, "intermediate_size": shape.I,
            "num_hidden_layers": shape.L, "num_attention_heads": shape.H,
            "num_key_value_heads": shape.Hkv, "head_dim": shape.dh, "vocab_size": shape.V,
            "max_position_embeddings": shape.max_T, "rms_norm_eps": shape.eps,
            "rope_theta": shape.rope_theta, "rope_scaling": None, "hidden_act": "silu",
            "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": True,
            "bos_token_id": tk.bos_id, "eos_token_id": tk.eos_id, "torch_dtype": "float32",
        }
    else:
        config = {
            "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
            "vocab_size": shape.V, "n_embd": shape.D, "n_layer": shape.L, "n_head": shape.H,
            "n_positions": shape.max_T, "n_ctx": shape.max_T, "n_inner": shape.I,
            "activation_function": "gelu_new", "layer_norm_epsilon": shape.eps,
            "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False,
            "reorder_and_upcast_attn": False, "resid_pdrop": 0.0, "embd_pdrop": 0.0,
            "attn_pdrop": 0.0, "tie_word_embeddings": True,
            "bos_token_id": tk.eot_id, "eos_token_id": tk.eot_id, "torch_dtype": "float32",
        }
    safetensors_io.save(os.path.join(out_dir, "model.safetensors"), state, {"format": "pt"})
    write_json(os.path.join(out_dir, "config.json"), config, indent=2)
    write_json(os.path.join(out_dir, "tokenizer.json"), tk.tokenizer_json(), indent=1)
    write_json(os.path.join(out_dir, "tokenizer_config.json"), tk.tokenizer_config(shape.max_T),
               indent=2)


if __name__ == "__main__":
    main()
