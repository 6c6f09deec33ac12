"""Cross-checks models.LlamaLM and the SentencePiece-style encoder semantics against an independent
implementation: the stories260K golden outputs in ../shared (a real Llama checkpoint). Needs
../shared; it is a check to run by hand, not part of the export.

    /usr/bin/python3 scripts/demo/check_stories.py
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import models  # noqa: E402
import safetensors_io  # noqa: E402

SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared"))


def main() -> None:
    folder = os.path.join(SHARED, "models", "stories260K")
    golden_path = os.path.join(SHARED, "golden", "stories260K.json")
    if not os.path.exists(golden_path):
        print("skipped: ../shared/golden/stories260K.json is absent")
        return
    cfg = json.load(open(os.path.join(folder, "config.json")))
    golden = json.load(open(golden_path))
    shape = models.LlamaShape(V=cfg["vocab_size"], D=cfg["hidden_size"], L=cfg["num_hidden_layers"],
                              H=cfg["num_attention_heads"], Hkv=cfg["num_key_value_heads"],
                              I=cfg["intermediate_size"], max_T=cfg["max_position_embeddings"],
                              eps=cfg["rms_norm_eps"], rope_theta=cfg["rope_theta"])
    model = models.LlamaLM(shape).double()
    weights = safetensors_io.load(os.path.join(folder, "model.safetensors"))
    model.load_state_dict({k: v.double() for k, v in weights.items() if k != "lm_head.weight"})
    worst = 0.0
    with torch.no_grad():
        for name, case in golden["last_position_top5"].items():
            logits = model(torch.tensor([case["ids"]]))[0, -1]
            top = torch.topk(logits, 5)
            assert top.indices.tolist() == case["top_ids"], (name, top.indices.tolist())
            diff = (top.values - torch.tensor(case["top_logits"], dtype=torch.float64)).abs().max()
            worst = max(worst, diff.item())
            print(f"{name}: top-5 ids match, max |logit diff| {diff.item():.2e}")
        ids = golden["greedy_from_bos"]["ids"]
        logits = model(torch.tensor([ids]))[0]
        greedy_ok = all(int(logits[t].argmax()) == ids[t + 1] for t in range(len(ids) - 1)
                        if ids[t + 1] not in (1, 2))
        print("greedy continuation reproduced:", greedy_ok)
    assert worst < 1e-4 and greedy_ok
    print("ok")


if __name__ == "__main__":
    main()
