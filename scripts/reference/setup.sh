#!/usr/bin/env bash
# Creates scripts/reference/.venv (git-ignored) with CPU torch, transformers and tokenizers, the
# reference library used to write fixtures/families and fixtures/tokenizers. Not needed by CI.
# Pinned to the versions the committed fixtures were made with; on a machine where plain
# `pip install torch` would fetch a CUDA build, point PIP_INDEX_URL at PyTorch's CPU wheel index first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --quiet "torch==2.13.0" "transformers==5.18.0" "tokenizers==0.23.2" "safetensors==0.8.0" "numpy==2.4.6"
"$here/.venv/bin/python" -c 'import torch, transformers, tokenizers; print("torch", torch.__version__, "transformers", transformers.__version__, "tokenizers", tokenizers.__version__)'
