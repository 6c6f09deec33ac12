"""Writes fixtures/tokenizers/<name>/encodings.json: the ids that the reference tokenizer libraries
give for a fixed set of strings, for the real GPT-NeoX-20B (Pythia) and GPT-2 BPE (GPT-Neo,
TinyStories) tokenizer files stored beside them as tokenizer.json.gz.

Usage: scripts/reference/.venv/bin/python scripts/reference/make_tokenizer_fixtures.py [NAME=RAW_JSON ...]
With NAME=RAW_JSON the raw tokenizer file is (re)compressed into the fixture first; its SHA-256 must
match the one recorded in SOURCES (see fixtures/tokenizers/README.md for where it comes from)."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gzip
import hashlib
import json
import shutil
import sys
import tempfile
import unicodedata
from pathlib import Path

import tokenizers
import transformers
from tokenizers import Tokenizer
from transformers import AutoTokenizer

transformers.logging.set_verbosity_error()

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "tokenizers"

SOURCES = {
    "gpt-neox-20b": {
        "sha256": "56ac4821e129d2c520fdaba60abd920fa852ada51b45c0dd52bbb6bd8c985ade",
        "specials": ["<|endoftext|>", "<|padding|>"],
    },
    "gpt-neo": {
        "sha256": "e88dafdf79f2026eaffb161c36a8b914b5fa586a620d108b9fecc117f74dbdd7",
        "specials": ["<|endoftext|>"],
    },
}

# What the strings probe: byte-level pre-tokenisation (contractions, digits, punctuation runs),
# whitespace runs (GPT-NeoX has added tokens for 2..24 spaces), multi-byte UTF-8, NFC (GPT-NeoX
# normalises, GPT-2 does not) and special tokens inside text.
STRINGS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    " leading space and trailing space ",
    "It's a dog's life; they're sure we'll win, isn't it?",
    "Once upon a time, there was a little girl named Lily. She loved to play outside.",
    "def add(a, b):\n    return a + b\n",
    "for (let i = 0; i < 10; i++) {\n\tconsole.log(i);\n}",
    "    four spaces, then\teight:        end",
    "x" + " " * 30 + "y",
    " " * 2,
    " " * 25,
    "line one\n\nline three\r\n",
    "\n\n\n",
    "3.14159 + 2718 = 1,000,000",
    "!!! ??? ... ---",
    "naïve café résumé",
    "cafe\u0301 (combining accent)",
    "Ａｂｃ fullwidth",
    "日本語のテキストです。",
    "中文：你好，世界！",
    "한국어 문장",
    "Emoji: 😀👍🏽 👨‍👩‍👧‍👦 🇫🇷",
    "<|endoftext|>",
    "before<|endoftext|>after",
    "The end.<|endoftext|>Once upon a time",
    "<|padding|> not special for GPT-2",
    "<|endoftext",
    "",
]


def load_raw(name: str) -> bytes:
    raw = gzip.decompress((OUT / name / "tokenizer.json.gz").read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCES[name]["sha256"]:
        raise SystemExit(f"fixtures/tokenizers/{name}/tokenizer.json.gz: SHA-256 {digest} is not the recorded source's")
    return raw


def import_raw(name: str, path: Path) -> None:
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCES[name]["sha256"]:
        raise SystemExit(f"{path}: SHA-256 {digest} is not the recorded source's for {name}")
    (OUT / name).mkdir(parents=True, exist_ok=True)
    # mtime=0 and no file name keep the .gz byte-identical across runs.
    (OUT / name / "tokenizer.json.gz").write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))


def encode_all(name: str) -> dict:
    raw = load_raw(name)
    tok = Tokenizer.from_str(raw.decode("utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "tokenizer.json").write_bytes(raw)
        shutil.copy(OUT / name / "tokenizer_config.json", Path(tmp) / "tokenizer_config.json")
        hf = AutoTokenizer.from_pretrained(tmp)
    cases = []
    for text in STRINGS:
        enc = tok.encode(text, add_special_tokens=True)
        ids = list(enc.ids)
        hf_ids = hf(text)["input_ids"]
        if hf_ids != ids:
            raise SystemExit(f"{name}: tokenizers and transformers disagree on {text!r}: {ids} vs {hf_ids}")
        decoded = tok.decode(ids, skip_special_tokens=False)
        cases.append({"text": text, "ids": ids, "tokens": list(enc.tokens), "decoded": decoded})
        expect = unicodedata.normalize("NFC", text) if name == "gpt-neox-20b" else text
        if decoded != expect:
            raise SystemExit(f"{name}: decode(encode({text!r})) = {decoded!r}")
    specials = {s: tok.token_to_id(s) for s in SOURCES[name]["specials"]}
    return {
        "format": "tokenizer-reference/1",
        "tokenizer": name,
        "generator": {
            "script": "scripts/reference/make_tokenizer_fixtures.py",
            "tokenizers": tokenizers.__version__,
            "transformers": transformers.__version__,
        },
        "how": "tokenizers.Tokenizer.from_str(tokenizer.json).encode(text, add_special_tokens=True); the same ids "
        "from transformers.AutoTokenizer with tokenizer_config.json (checked); decoded = decode(ids, skip_special_tokens=False)",
        "vocab_size_with_added": tok.get_vocab_size(with_added_tokens=True),
        "special_token_ids": specials,
        "cases": cases,
    }


def main() -> None:
    for arg in sys.argv[1:]:
        name, path = arg.split("=", 1)
        import_raw(name, Path(path))
    for name in SOURCES:
        doc = encode_all(name)
        (OUT / name / "encodings.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
        print(f"{name}: {len(doc['cases'])} strings, vocab {doc['vocab_size_with_added']}, specials {doc['special_token_ids']}")


if __name__ == "__main__":
    main()
