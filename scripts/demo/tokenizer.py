"""BPE tokenizers for the demo models, trained on the synthetic corpus, written as Hugging Face
tokenizer.json files: a SentencePiece-like one (Metaspace, byte fallback, BOS) for the Llama model
and a GPT-2 byte-level one. Encoding here is our own re-implementation of what the Hugging Face
libraries do for these two configurations, not a general tokenizer library.
"""

import collections
import re

SPM_UNK, SPM_BOS, SPM_EOS = "<unk>", "<s>", "</s>"
GPT2_EOT = "<|endoftext|>"
META = "\u2581"  # "▁", SentencePiece's visible space


def train_merges(word_counts: dict[tuple[str, ...], int]) -> list[tuple[str, str]]:
    """Classic BPE: merge the most frequent adjacent pair until every word is one symbol.
    Ties go to the lexicographically smallest pair so the result does not depend on dict order."""
    words = {w: c for w, c in word_counts.items() if len(w) > 1}
    merges: list[tuple[str, str]] = []
    while words:
        pairs: collections.Counter = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        merged = best[0] + best[1]
        new_words: dict[tuple[str, ...], int] = {}
        for w, c in words.items():
            out: list[str] = []
            i = 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            if len(out) > 1:
                new_words[tuple(out)] = new_words.get(tuple(out), 0) + c
        words = new_words
    return merges


def apply_merges(symbols: list[str], ranks: dict[tuple[str, str], int]) -> list[str]:
    """Repeatedly merge the adjacent pair of lowest rank (leftmost first), as Hugging Face's BPE."""
    symbols = list(symbols)
    while len(symbols) > 1:
        best_i, best_r = -1, None
        for i in range(len(symbols) - 1):
            r = ranks.get((symbols[i], symbols[i + 1]))
            if r is not None and (best_r is None or r < best_r):
                best_i, best_r = i, r
        if best_r is None:
            break
        symbols[best_i:best_i + 2] = [symbols[best_i] + symbols[best_i + 1]]
    return symbols


def split_special(text: str, specials: list[str]) -> list[tuple[str, bool]]:
    """Cut the raw text at special-token strings (matched before any normalisation, as added
    tokens are); returns (segment, is_special) with empty segments dropped."""
    pattern = "(" + "|".join(re.escape(s) for s in specials) + ")"
    return [(seg, seg in specials) for seg in re.split(pattern, text) if seg]


class SpmTokenizer:
    """SentencePiece-style BPE: spaces become "▁", one "▁" is prepended, no pre-tokenizer, characters
    missing from the vocabulary fall back to <0xNN> byte tokens, and <s> starts every encoding."""

    def __init__(self, vocab: list[str], merges: list[tuple[str, str]]) -> None:
        self.vocab = vocab
        self.merges = merges
        self.ids = {t: i for i, t in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.unk_id, self.bos_id, self.eos_id = 0, 1, 2

    @staticmethod
    def pieces(text: str) -> list[str]:
        """Training units: a word with its "▁", "'s", or one other character. Merges learned inside
        these never straddle two of them, so encoding a whole text equals encoding piece by piece."""
        norm = META + text.replace(" ", META)
        return re.findall(META + "?[A-Za-z]+|'s|" + META + "|[^" + META + "A-Za-z]", norm)

    @classmethod
    def train(cls, texts: list[str]) -> "SpmTokenizer":
        counts: collections.Counter = collections.Counter()
        for t in texts:
            counts.update(cls.pieces(t))
        chars = sorted({ch for p in counts for ch in p})
        merges = train_merges({tuple(p): c for p, c in counts.items()})
        vocab = [SPM_UNK, SPM_BOS, SPM_EOS] + [f"<0x{b:02X}>" for b in range(256)] + chars
        vocab += [a + b for a, b in merges]
        assert len(set(vocab)) == len(vocab)
        return cls(vocab, merges)

    def encode(self, text: str, add_bos: bool = True) -> list[int]:
        out = [self.bos_id] if add_bos else []
        for segment, special in split_special(text, [SPM_UNK, SPM_BOS, SPM_EOS]):
            if special:
                out.append(self.ids[segment])
                continue
            # Each stretch between special tokens is normalised on its own, "▁" prepended included.
            norm = META + segment.replace(" ", META)
            for sym in apply_merges(list(norm), self.ranks):
                if sym in self.ids:
                    out.append(self.ids[sym])
                else:
                    out.extend(self.ids[f"<0x{b:02X}>"] for b in sym.encode("utf-8"))
        return out

    def decode(self, ids: list[int]) -> str:
        buf = bytearray()
        for i in ids:
            if i in (self.unk_id, self.bos_id, self.eos_id):
                continue
            tok = self.vocab[i]
            if re.fullmatch(r"<0x[0-9A-F]{2}>", tok):
                buf.append(int(tok[3:5], 16))
            else:
                buf.extend(tok.replace(META, " ").encode("utf-8"))
        text = buf.decode("utf-8", errors="replace")
        return text[1:] if text.startswith(" ") else text

    def tokenizer_json(self) -> dict:
        specials = [{"id": i, "content": t, "single_word": False, "lstrip": False,
                     "rstrip": False, "normalized": False, "special": True}
                    for i, t in enumerate([SPM_UNK, SPM_BOS, SPM_EOS])]
        bos_piece = [{"SpecialToken": {"id": SPM_BOS, "type_id": 0}}]
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": specials,
            "normalizer": {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": META},
                {"type": "Replace", "pattern": {"String": " "}, "content": META},
            ]},
            "pre_tokenizer": None,
            "post_processor": {
                "type": "TemplateProcessing",
                "single": bos_piece + [{"Sequence": {"id": "A", "type_id": 0}}],
                "pair": bos_piece + [{"Sequence": {"id": "A", "type_id": 0}}]
                + [{"SpecialToken": {"id": SPM_BOS, "type_id": 1}},
                   {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {SPM_BOS: {"id": SPM_BOS, "ids": [self.bos_id],
                                             "tokens": [SPM_BOS]}},
            },
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": META}, "content": " "},
                {"type": "ByteFallback"},
                {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0},
            ]},
            "model": {
                "type": "BPE", "dropout": None, "unk_token": SPM_UNK,
                "continuing_subword_prefix": None, "end_of_word_suffix": None,
                "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                "vocab": {t: i for i, t in enumerate(self.vocab)},
                "merges": [f"{a} {b}" for a, b in self.merges],
            },
        }

    def tokenizer_config(self, max_len: int) -> dict:
        return {
            "tokenizer_class": "LlamaTokenizerFast",
            "bos_token": SPM_BOS, "eos_token": SPM_EOS, "unk_token": SPM_UNK,
            "add_bos_token": True, "add_eos_token": False, "legacy": True,
            "model_max_length": max_len, "clean_up_tokenization_spaces": False,
        }


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table: printable Latin-1 bytes map to
    themselves, the rest to code points from 256 upwards in byte order."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) \
        + list(range(0xAE, 0xFF + 1))
    table = {b: chr(b) for b in keep}
    n = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + n)
            n += 1
    return table


# GPT-2's pre-tokenizer pattern with \p{L} / \p{N} spelled for Python's re (same on our text).
GPT2_SPLIT = re.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


class Gpt2Tokenizer:
    """GPT-2 byte-level BPE: regex pre-tokenizer without an added prefix space, bytes mapped to
    printable characters, BPE within each pre-token; <|endoftext|> is the last id and never
    added to prompts."""

    def __init__(self, vocab: list[str], merges: list[tuple[str, str]]) -> None:
        self.vocab = vocab
        self.merges = merges
        self.ids = {t: i for i, t in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.eot_id = self.ids[GPT2_EOT]
        self.b2u = bytes_to_unicode()
        self.u2b = {u: b for b, u in self.b2u.items()}

    @classmethod
    def train(cls, texts: list[str]) -> "Gpt2Tokenizer":
        b2u = bytes_to_unicode()
        counts: collections.Counter = collections.Counter()
        for t in texts:
            for piece in GPT2_SPLIT.findall(t):
                counts["".join(b2u[b] for b in piece.encode("utf-8"))] += 1
        merges = train_merges({tuple(p): c for p, c in counts.items()})
        vocab = [b2u[b] for b in sorted(b2u, key=lambda b: ord(b2u[b]))]
        vocab += [a + b for a, b in merges] + [GPT2_EOT]
        assert len(set(vocab)) == len(vocab)
        return cls(vocab, merges)

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        for segment, special in split_special(text, [GPT2_EOT]):
            if special:
                out.append(self.eot_id)
                continue
            for piece in GPT2_SPLIT.findall(segment):
                mapped = [self.b2u[b] for b in piece.encode("utf-8")]
                out.extend(self.ids[s] for s in apply_merges(mapped, self.ranks))
        return out

    def decode(self, ids: list[int]) -> str:
        buf = bytearray()
        for i in ids:
            if i == self.eot_id:
                continue
            buf.extend(self.u2b[ch] for ch in self.vocab[i])
        return buf.decode("utf-8", errors="replace")

    def tokenizer_json(self) -> dict:
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [{"id": self.eot_id, "content": GPT2_EOT, "single_word": False,
                              "lstrip": False, "rstrip": False, "normalized": True,
                              "special": True}],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                              "use_regex": True},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                               "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                        "use_regex": True},
            "model": {
                "type": "BPE", "dropout": None, "unk_token": None,
                "continuing_subword_prefix": "", "end_of_word_suffix": "",
                "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                "vocab": {t: i for i, t in enumerate(self.vocab)},
                "merges": [f"{a} {b}" for a, b in self.merges],
            },
        }

    def tokenizer_config(self, max_len: int) -> dict:
        return {
            "tokenizer_class": "GPT2TokenizerFast",
            "bos_token": GPT2_EOT, "eos_token": GPT2_EOT, "unk_token": GPT2_EOT,
            "add_bos_token": False, "add_prefix_space": False,
            "model_max_length": max_len, "clean_up_tokenization_spaces": False,
        }
