"""Synthetic English-like corpus for the demo models, with probes whose answer comes from a known
earlier word: copied from it (entity-attribute binding, induction on full names) or computed from
it (pronoun agreement near and far, a pet's coat looked up from the pet, the day after or
before a day).
Plain Python, no torch; it knows nothing of tokenizers: spans are UTF-16 character offsets.

Run directly to rewrite public/models/probes.json: /usr/bin/python3 scripts/demo/corpus.py
"""

import json
import os
import random
import re
import zlib

TRAIN_SEED = 20251
PROBE_SEED = 7919

# Word lists are kept small so that a tokenizer of under a thousand entries holds every word whole.
NAMES = ["Tom", "Mia", "Sam", "Ann", "Ben", "Lily", "Max", "Zoe", "Dan", "Eva", "Leo", "Ivy",
         "Jack", "Kim", "Ned", "Ola", "Pat", "Rex", "Sue", "Ted", "Una", "Vic", "Wes", "Zed"]
SURNAMES = ["Pike", "Reed", "Hart", "Fox", "Nash", "Lane", "Moss", "Stone", "Wood", "Bell",
            "Cole", "Dale", "Ford", "Hunt", "King", "West"]
COLOURS = ["red", "blue", "green", "yellow", "pink", "black", "white", "brown", "purple", "gray"]
OBJECTS = ["kite", "cup", "hat", "ball", "box", "bag", "book", "car", "coat", "bike", "pen",
           "sock", "boat", "lamp", "drum", "shoe"]
ANIMALS = [("dog", "dogs"), ("cat", "cats"), ("bird", "birds"), ("duck", "ducks"),
           ("frog", "frogs"), ("horse", "horses"), ("bee", "bees"), ("goat", "goats")]
ANIMAL_VERBS = ["sat", "slept", "played", "waited", "ran", "hid"]
PLACES = ["park", "lake", "tree", "house", "garden", "river", "shop", "school", "beach", "road"]
WEATHER = {"sun": ["warm", "bright"], "wind": ["cold", "soft", "strong"],
           "day": ["long", "warm", "cold"], "air": ["cool", "still"], "rain": ["soft", "cold"],
           "sky": ["clear", "dark"]}
MOODS = ["happy", "tired", "sleepy", "hungry", "calm", "glad"]
NAME_VERBS = ["went home", "sang a song", "ate lunch", "read a book", "ran fast", "sat down",
              "felt happy", "looked around"]
# Marks the answer word inside training sentences; removed before the text leaves this module.
MARK = "\x01"
HAVE_VERBS = ["has", "had", "got"]
INDUCTION_OPENERS = ["went to the", "met at the", "walked to the", "played at the"]
AGREEMENT_CONNECTORS = ["After a while", "At night", "Soon", "In the end"]
# What a pet's body is covered with is a fixed function of the pet, and several pets share each
# answer: the lookup probes ask for it, so the word that decides the answer (the pet) is never
# the answer itself, and another pet of the prompt that gives the same answer is a decoy that
# no association between words and answers can tell from the source.
PET_COATS = {"dog": "fur", "cat": "fur", "rabbit": "fur", "mouse": "fur",
             "duck": "feathers", "owl": "feathers", "hen": "feathers", "parrot": "feathers",
             "fish": "scales", "snake": "scales", "lizard": "scales"}
PET_VERBS = ["has", "had", "got"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
EVENTS = ["party", "trip", "game", "show", "visit"]


def shift_day(day: str, step: int) -> str:
    """The day `step` days after `day` (before it for a negative step), round the week."""
    return DAYS[(DAYS.index(day) + step) % len(DAYS)]


# Held-out combinations are triples, so that no pair the model could memorise (a name's colour,
# a first name's surname) is missing from training: a missing pair would teach a prior against
# exactly the answers the probes ask for.

def held_out(*words: str, one_in: int = 5) -> bool:
    """A fixed pseudo-random choice of about one combination in `one_in` (CRC-32 of the words):
    no single word or pair of words decides it."""
    return zlib.crc32("|".join(words).encode("utf-8")) % one_in == 0


def held_out_binding(name: str, obj: str, colour: str) -> bool:
    """(name, object, colour) triples reserved for probes: never stated in the training corpus."""
    return held_out(name, obj, colour)


def held_out_full_name(first: str, surname: str, place: str) -> bool:
    """(first name, surname, place where the names are introduced) triples reserved for probes."""
    return held_out(first, surname, place)


def held_out_pet(name: str, pet: str, verb: str) -> bool:
    """(owner, pet, verb of having) triples reserved for probes."""
    return held_out(name, pet, verb, "pet")


def held_out_day(name: str, event: str, day: str) -> bool:
    """(name, event, day) triples reserved for probes."""
    return held_out(name, event, day, "day")


def held_out_animal(noun: str, verb: str) -> bool:
    """(animal, verb) pairs reserved for probes, in either number."""
    idx = next(i for i, pair in enumerate(ANIMALS) if noun in pair)
    return (idx + ANIMAL_VERBS.index(verb)) % 3 == 0


class Builder:
    """Accumulates sentences into one text and remembers character spans of marked words."""

    def __init__(self, sentences: list[str] = ()) -> None:
        self.text = ""
        for s in sentences:
            self.add(s)

    def add(self, sentence: str) -> None:
        self.text = sentence if not self.text else self.text + " " + sentence

    def _spans(self, word: str) -> list[dict]:
        hits = [{"start": m.start(), "end": m.end()} for m in
                re.finditer(r"(?<![A-Za-z])" + re.escape(word) + r"(?![A-Za-z])", self.text)]
        assert hits, (word, self.text)
        return hits

    def span_of_first(self, word: str) -> dict:
        """Span of the first whole-word occurrence of `word` in the text so far."""
        return self._spans(word)[0]

    def span_of_last(self, word: str) -> dict:
        """Span of the last whole-word occurrence of `word` in the text so far."""
        return self._spans(word)[-1]


def pick_names(rng: random.Random, k: int, used: set[str]) -> list[str]:
    """k first names not yet used in this document, so that every name has one meaning."""
    names = rng.sample([n for n in NAMES if n not in used], k)
    used.update(names)
    return names


def filler(rng: random.Random, used: set[str] | None = None) -> str:
    """A sentence with no bearing on any probe: no colours, surnames, animals or pronouns.
    With `used` given it may mention a fresh name."""
    kind = rng.randrange(2 if used is None else 4)
    if kind == 0:
        noun = rng.choice(sorted(WEATHER))
        return f"The {noun} was {rng.choice(WEATHER[noun])}."
    if kind == 1:
        return f"We {rng.choice(['walked', 'played', 'sat', 'waited'])} by the {rng.choice(PLACES)}."
    assert used is not None
    name = pick_names(rng, 1, used)[0]
    if kind == 2:
        return f"{name} went to the {rng.choice(PLACES)}."
    return f"{name} {rng.choice(NAME_VERBS)}."


def attributes(rng: random.Random, pool: list[str], k: int, distinct: bool) -> list[str]:
    """k attribute words. Training draws them independently, repeats allowed: were they always
    distinct, a word already given to someone would be a worse guess for the next person, and
    the model would learn to push down (or, for the last of them, pick by elimination) the
    very words it must copy. Probes want distinct ones, so that the answer is unambiguous."""
    if distinct:
        return rng.sample(pool, k)
    return [rng.choice(pool) for _ in range(k)]


# Each block returns (sentences, probe) where the probe cuts the block just before its answer.
# `held` chooses whether the queried binding must be a held-out combination (probes) or must not
# contain any (training).

def binding_block(rng: random.Random, held: bool | None, used: set[str]) -> tuple[list[str], dict]:
    k = rng.choice([2, 3, 3, 4])
    while True:
        names = rng.sample([n for n in NAMES if n not in used], k)
        colours = attributes(rng, COLOURS, k, distinct=bool(held))
        # Half the blocks give everyone the same kind of object, so the name alone decides.
        if rng.random() < 0.5:
            objects = [rng.choice(OBJECTS)] * k
        else:
            objects = rng.sample(OBJECTS, k)
        hits = [held_out_binding(n, o, c) for n, o, c in zip(names, objects, colours)]
        if held is None and not any(hits):
            break
        if held and hits[0]:
            break
    used.update(names)
    order = list(range(k))
    rng.shuffle(order)
    sentences = []
    for i in order:
        sentences.append(f"{names[i]} {rng.choice(HAVE_VERBS)} a {colours[i]} {objects[i]}.")
        if rng.random() < 0.1:
            sentences.append(filler(rng))
    if rng.random() < 0.3:
        sentences.append(filler(rng))
    b = Builder(sentences)
    # Probes query entity 0 (the held-out one); training queries several, in any order.
    probe = {
        "kind": "binding",
        "prompt": b.text + f" {names[0]}'s {objects[0]} is",
        "answer": " " + colours[0],
        "sources": [b.span_of_last(colours[0])],
        "distractors": [" " + c for c in colours[1:]],
    }
    # Queries are drawn with replacement: were each entity asked at most once, the last answers
    # would follow by elimination, and the model would learn to name the colour not yet
    # repeated instead of looking up the one bound to the name.
    asked = [rng.randrange(k) for _ in range(rng.randint(k, k + 2))]
    tail = [f"{names[j]}'s {objects[j]} is {MARK}{colours[j]}." for j in asked]
    return sentences + tail, probe


def induction_block(rng: random.Random, held: bool | None, used: set[str]) -> tuple[list[str], dict]:
    k = rng.choice([2, 2, 3])
    while True:
        firsts = rng.sample([n for n in NAMES if n not in used], k)
        lasts = attributes(rng, SURNAMES, k, distinct=bool(held))
        place = rng.choice(PLACES)
        hits = [held_out_full_name(f, s, place) for f, s in zip(firsts, lasts)]
        if held is None and not any(hits):
            break
        if held and any(hits):
            break
    used.update(firsts)
    full = [f"{f} {s}" for f, s in zip(firsts, lasts)]
    who = " and ".join([", ".join(full[:-1]), full[-1]]) if k > 2 else " and ".join(full)
    sentences = [f"{who} {rng.choice(INDUCTION_OPENERS)} {place}."]
    for _ in range(rng.choice([0, 1, 1, 2])):
        sentences.append(filler(rng))
    b = Builder(sentences)
    target = hits.index(True) if held else rng.randrange(k)
    opener = rng.choice(["Then", "Later"])
    # The source is the surname's first mention, in the opening sentence.
    probe = {
        "kind": "induction",
        "prompt": b.text + f" {opener} {firsts[target]}",
        "answer": " " + lasts[target],
        "sources": [b.span_of_first(lasts[target])],
        "distractors": [" " + s for i, s in enumerate(lasts) if i != target],
    }
    tail = [f"{opener} {firsts[target]} {MARK}{lasts[target]} {rng.choice(NAME_VERBS)}."]
    for _ in range(rng.choice([1, 2, 3])):
        j = rng.randrange(k)
        tail.append(f"{rng.choice(['Then', 'Later'])} {firsts[j]} {MARK}{lasts[j]} "
                    f"{rng.choice(NAME_VERBS)}.")
    return sentences + tail, probe


def agreement_block(rng: random.Random, held: bool | None, used: set[str],
                    far: bool | None = None) -> tuple[list[str], dict]:
    """The pronoun after a connector agrees in number with the animal subject. Near: up to two
    filler sentences between them. Far: three to five, names among them. Training draws both."""
    while True:
        pair = rng.choice(ANIMALS)
        verb = rng.choice(ANIMAL_VERBS)
        h = held_out_animal(pair[0], verb)
        if (held is None and not h) or (held and h):
            break
    plural = rng.random() < 0.5
    noun = pair[1] if plural else pair[0]
    sentences = [f"The {noun} {verb} by the {rng.choice(PLACES)}."]
    if far is None:
        far = rng.random() < 0.4
    if far:
        for _ in range(rng.choice([3, 4, 4, 5])):
            sentences.append(filler(rng, used))
    else:
        for _ in range(rng.choice([0, 1, 1, 2])):
            sentences.append(filler(rng))
    b = Builder(sentences)
    connector = rng.choice(AGREEMENT_CONNECTORS)
    pronoun, other = ("they", "it") if plural else ("it", "they")
    probe = {
        "kind": "long-agreement" if far else "agreement",
        "prompt": b.text + f" {connector},",
        "answer": " " + pronoun,
        "sources": [b.span_of_first(noun)],
        # The other-number pronoun is the natural contrast even though the prompt lacks it.
        "distractors": [" " + other],
    }
    be = "were" if plural else "was"
    tail = [f"{connector}, {MARK}{pronoun} {be} {rng.choice(MOODS)}."]
    return sentences + tail, probe


def near_agreement_block(rng: random.Random, held: bool | None,
                         used: set[str]) -> tuple[list[str], dict]:
    return agreement_block(rng, held, used, far=False)


def far_agreement_block(rng: random.Random, held: bool | None,
                        used: set[str]) -> tuple[list[str], dict]:
    return agreement_block(rng, held, used, far=True)


def lookup_block(rng: random.Random, held: bool | None, used: set[str]) -> tuple[list[str], dict]:
    """People and their pets, then what a person's pet has (fur, feathers, scales): the answer is
    the coat of the pet bound to the name, a word that occurs nowhere before it. Probes give
    another person a different pet with the same coat (a decoy) and a third one a pet with
    another coat, so that the answer needs the binding and the source is not the only word the
    answer goes with."""
    k = rng.choice([3, 3, 4]) if held else rng.choice([2, 3, 3, 4])
    pets_pool = list(PET_COATS)
    while True:
        names = rng.sample([n for n in NAMES if n not in used], k)
        if held:
            pets = rng.sample(pets_pool, k)
            coats = [PET_COATS[p] for p in pets]
            if coats[1:].count(coats[0]) != 1 or len(set(coats)) < 2:
                continue
        else:
            pets = attributes(rng, pets_pool, k, distinct=False)
        verbs = [rng.choice(PET_VERBS) for _ in range(k)]
        hits = [held_out_pet(n, p, v) for n, p, v in zip(names, pets, verbs)]
        if held is None and not any(hits):
            break
        if held and hits[0]:
            break
    used.update(names)
    order = list(range(k))
    rng.shuffle(order)
    sentences = []
    for i in order:
        sentences.append(f"{names[i]} {verbs[i]} a pet {pets[i]}.")
        if rng.random() < 0.1:
            sentences.append(filler(rng))
    if rng.random() < 0.3:
        sentences.append(filler(rng))
    b = Builder(sentences)
    coat = PET_COATS[pets[0]]
    probe = {
        "kind": "lookup",
        "prompt": b.text + f" {names[0]}'s pet has",
        "answer": " " + coat,
        "sources": [b.span_of_last(pets[0])],
        "distractors": sorted({" " + PET_COATS[p] for p in pets[1:]} - {" " + coat}),
    }
    asked = [rng.randrange(k) for _ in range(rng.randint(k, k + 2))]
    tail = [f"{names[j]}'s pet has {MARK}{PET_COATS[pets[j]]}." for j in asked]
    return sentences + tail, probe


def weekday_block(rng: random.Random, held: bool | None, used: set[str]) -> tuple[list[str], dict]:
    """People's events and their days, then the day after (or before) one of them: the answer is
    the next (or previous) day from the day bound to the name, so the query's "after" or
    "before" decides the operation. Probes keep the answer out of the prompt, so that no earlier
    word could simply be copied, and give another person the day one further on (a decoy): the
    answer neighbours both the source and the decoy, and since probes ask "after" and "before"
    alike, no fixed association between neighbouring days singles out the source."""
    k = rng.choice([2, 3, 3])
    while True:
        names = rng.sample([n for n in NAMES if n not in used], k)
        days = attributes(rng, DAYS, k, distinct=bool(held))
        # Half the blocks give everyone the same kind of event, so the name alone decides.
        events = [rng.choice(EVENTS)] * k if rng.random() < 0.5 else rng.sample(EVENTS, k)
        step = rng.choice([1, -1])
        hits = [held_out_day(n, e, d) for n, e, d in zip(names, events, days)]
        if held is None and not any(hits):
            break
        if held and hits[0] and shift_day(days[0], step) not in days \
                and shift_day(days[0], 2 * step) in days[1:]:
            break
    used.update(names)
    order = list(range(k))
    rng.shuffle(order)
    sentences = []
    for i in order:
        sentences.append(f"{names[i]}'s {events[i]} is on {days[i]}.")
        if rng.random() < 0.1:
            sentences.append(filler(rng))
    if rng.random() < 0.3:
        sentences.append(filler(rng))
    b = Builder(sentences)
    word = {1: "after", -1: "before"}
    probe = {
        "kind": "weekday",
        "prompt": b.text + f" The day {word[step]} {names[0]}'s {events[0]} is",
        "answer": " " + shift_day(days[0], step),
        "sources": [b.span_of_last(days[0])],
        "distractors": [" " + shift_day(d, step) for d in days[1:]],
    }
    tail = []
    for _ in range(rng.randint(k, k + 1)):
        j = rng.randrange(k)
        st = rng.choice([1, -1])
        tail.append(f"The day {word[st]} {names[j]}'s {events[j]} is {MARK}{shift_day(days[j], st)}.")
    return sentences + tail, probe


# Probe kinds, in the order probes.json lists them. Lexical kinds copy their answer from the
# source word; in the others the answer is computed from it and occurs nowhere in the prompt.
BLOCKS = {"binding": binding_block, "induction": induction_block,
          "agreement": near_agreement_block, "long-agreement": far_agreement_block,
          "lookup": lookup_block, "weekday": weekday_block}
LEXICAL_KINDS = {"binding", "induction"}
# Training blocks and how often each opens a document slot (agreement draws near or far
# itself); agreement is learned quickly.
TRAINING_BLOCKS = {"binding": binding_block, "induction": induction_block,
                   "agreement": agreement_block, "lookup": lookup_block,
                   "weekday": weekday_block}
BLOCK_WEIGHTS = {"binding": 0.3, "induction": 0.2, "agreement": 0.1, "lookup": 0.2,
                 "weekday": 0.2}


def count_pieces(text: str) -> int:
    """Tokens a word-level tokenizer gives: words, "'s" and punctuation marks each count one."""
    return len(re.findall(r"[A-Za-z]+|'s|[^\sA-Za-z" + MARK + "]", text))


def strip_marks(text: str) -> tuple[str, list[int]]:
    """Removes answer marks; returns the text and the word-piece index of each marked answer."""
    parts = text.split(MARK)
    answers = []
    for i in range(1, len(parts)):
        answers.append(count_pieces("".join(parts[:i])))
    return "".join(parts), answers


def training_document(rng: random.Random, max_pieces: int) -> str:
    """One document: blocks and a little filler, at most max_pieces word pieces."""
    parts: list[str] = []
    used: set[str] = set()
    if rng.random() < 0.2:
        parts.append(filler(rng, used))
    kinds = list(BLOCK_WEIGHTS)
    # As many blocks as fit: the answers are what trains the circuits the probes test.
    for _ in range(8):
        kind = rng.choices(kinds, weights=[BLOCK_WEIGHTS[k] for k in kinds])[0]
        sentences, _ = TRAINING_BLOCKS[kind](rng, None, used)
        candidate = parts + sentences
        if count_pieces(" ".join(candidate)) > max_pieces:
            break
        parts = candidate
    while rng.random() < 0.2:
        candidate = parts + [filler(rng, used)]
        if count_pieces(" ".join(candidate)) > max_pieces:
            break
        parts = candidate
    if not parts or count_pieces(" ".join(parts)) > max_pieces:
        return training_document(rng, max_pieces)
    return " ".join(parts)


def training_corpus(n_docs: int, max_pieces: int, seed: int = TRAIN_SEED) -> list[str]:
    return [text for text, _ in marked_training_corpus(n_docs, max_pieces, seed)]


def marked_training_corpus(n_docs: int, max_pieces: int,
                           seed: int = TRAIN_SEED) -> list[tuple[str, list[int]]]:
    """Documents with the word-piece indices of the words a probe would ask for (a binding's
    colour, a repeated surname, an agreeing pronoun, a pet's coat, the day after or before)."""
    rng = random.Random(seed)
    return [strip_marks(training_document(rng, max_pieces)) for _ in range(n_docs)]


def probes(n_per_kind: int, max_pieces: int, seed: int = PROBE_SEED) -> list[dict]:
    """Held-out probes: the queried combination never occurs in the training corpus. Each comes
    with a counterfactual (the source word replaced) for validation by intervention."""
    rng = random.Random(seed)
    # A second stream for the counterfactuals, so that adding them left the probes unchanged.
    cf_rng = random.Random(seed + 1)
    out: list[dict] = []
    seen: set[str] = set()
    for kind, block in BLOCKS.items():
        got = 0
        while got < n_per_kind:
            _, probe = block(rng, True, set())
            if probe["prompt"] in seen or count_pieces(probe["prompt"]) > max_pieces:
                continue
            seen.add(probe["prompt"])
            probe["id"] = f"{kind}-{got:03d}"
            probe["lexical"] = kind in LEXICAL_KINDS
            probe["counterfactual"] = counterfactual(probe, cf_rng)
            out.append(probe)
            got += 1
    mark_examples(out)
    return out


def counterfactual(p: dict, rng: random.Random) -> dict:
    """The probe with its source word replaced by another valid one that gives a different
    answer: another colour, surname, pet or day absent from the prompt, or the other number of
    the subject noun. A model that reads the answer from the source must change its answer."""
    assert len(p["sources"]) == 1, p
    span = p["sources"][0]
    word = p["prompt"][span["start"]:span["end"]]
    present = set(re.findall(r"[A-Za-z]+", p["prompt"]))
    kind = p["kind"]
    if kind == "binding":
        new = rng.choice([c for c in COLOURS if c not in present])
        answer = new
    elif kind == "induction":
        new = rng.choice([s for s in SURNAMES if s not in present])
        answer = new
    elif kind in ("agreement", "long-agreement"):
        pair = next(a for a in ANIMALS if word in a)
        new = pair[1] if word == pair[0] else pair[0]
        answer = "it" if p["answer"] == " they" else "they"
    elif kind == "lookup":
        coat = p["answer"].strip()
        new = rng.choice([a for a in PET_COATS if a not in present and PET_COATS[a] != coat])
        answer = PET_COATS[new]
    elif kind == "weekday":
        step = 1 if " after " in p["prompt"] else -1
        new = rng.choice([d for d in DAYS if d not in present and shift_day(d, step) not in present])
        answer = shift_day(new, step)
    else:
        raise ValueError(f"no counterfactual for probe kind '{kind}'")
    return {"prompt": p["prompt"][:span["start"]] + new + p["prompt"][span["end"]:],
            "answer": " " + answer}


def mark_examples(all_probes: list[dict]) -> None:
    """Flag two typical probes of each kind (length nearest the kind's median) as the app's
    example prompts."""
    for p in all_probes:
        p["example"] = False
    for kind in BLOCKS:
        mine = [p for p in all_probes if p["kind"] == kind]
        if not mine:
            continue
        median = sorted(len(p["prompt"]) for p in mine)[len(mine) // 2]
        mine.sort(key=lambda p: (abs(len(p["prompt"]) - median), p["id"]))
        for p in mine[:2]:
            p["example"] = True


def check_probe(p: dict) -> None:
    """Spans must point at the answer word (lexical kinds) or at the word the answer is computed
    from (the subject noun, the pet, the day); a non-lexical answer occurs nowhere in the prompt."""
    assert p["prompt"].isascii(), "ASCII keeps Python and UTF-16 offsets identical"
    answer = p["answer"].strip()
    assert p["lexical"] == (p["kind"] in LEXICAL_KINDS), p
    if not p["lexical"]:
        assert answer not in re.findall(r"[A-Za-z]+", p["prompt"]), p
    for s in p["sources"]:
        word = p["prompt"][s["start"]:s["end"]]
        if p["kind"] in LEXICAL_KINDS:
            assert word == answer, (word, p)
        elif p["kind"] in ("agreement", "long-agreement"):
            assert word.rstrip("s") in [a[0] for a in ANIMALS], (word, p)
            assert (answer == "they") == word.endswith("s"), (word, p)
        elif p["kind"] == "lookup":
            assert PET_COATS[word] == answer, (word, p)
        elif p["kind"] == "weekday":
            step = 1 if " after " in p["prompt"] else -1
            assert shift_day(word, step) == answer, (word, p)
        else:
            raise ValueError(f"unknown probe kind '{p['kind']}'")
    cf = p["counterfactual"]
    assert cf["answer"] != p["answer"] and cf["prompt"] != p["prompt"], p


PROBE_FIELDS = ("id", "kind", "lexical", "example", "prompt", "answer", "sources", "distractors",
                "counterfactual")


def write_probes(path: str, all_probes: list[dict], validation: dict | None = None) -> None:
    """probes.json: the probes, and with `validation` the counts per kind of probes generated,
    dropped by the intervention check on each model, and kept."""
    for p in all_probes:
        check_probe(p)
    doc = {
        "description": "Held-out probes for the demo models. 'answer' is the next word with its "
                       "leading space; 'sources' are UTF-16 [start, end) spans in 'prompt' of the "
                       "word that carries the answer (agreement: the subject noun; lookup: the "
                       "pet; weekday: the day); 'lexical' says whether the answer is that word "
                       "itself; 'distractors' are competing answers (for agreement, the "
                       "other-number pronoun); 'counterfactual' is the prompt with the source "
                       "word replaced and the answer that follows from it.",
        "generator": "scripts/demo/corpus.py",
        "seed": PROBE_SEED,
        "kinds": {k: {"lexical": k in LEXICAL_KINDS} for k in BLOCKS},
        **({"validation": validation} if validation is not None else {}),
        "probes": [{k: p[k] for k in PROBE_FIELDS} for p in all_probes],
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


MAX_PIECES = 62  # 64 positions less BOS and EOS
N_PROBES_PER_KIND = 120

if __name__ == "__main__":
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    ps = probes(N_PROBES_PER_KIND, MAX_PIECES)
    write_probes(os.path.join(root, "public", "models", "probes.json"), ps)
    for d in training_corpus(8, MAX_PIECES):
        print(d)
    print(len(ps), "probes")
