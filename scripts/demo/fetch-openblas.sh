#!/usr/bin/env bash
# Unpacks Debian's OpenBLAS next to nothing else (no install, no system change) so that train.py
# can load it instead of the reference BLAS Debian's torch links by default (~20x faster here).
set -euo pipefail
dest="${DEMO_OPENBLAS_ROOT:-/tmp/openblas-demo}"
mkdir -p "$dest"
cd "$dest"
apt-get download libopenblas0-pthread
dpkg-deb -x libopenblas0-pthread_*.deb .
ls "$dest/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"
