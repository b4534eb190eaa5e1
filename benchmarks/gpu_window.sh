#!/bin/bash
# One short GPU window, spent in order of value: the CUDA tests, the GPU benchmarks, then the `full`
# plan in the minutes left (each result stored as it finishes). Run from the repository root:
#
#   COURSEKIT_COMMIT=<commit> bash benchmarks/gpu_window.sh ARCHIVES_DIR OUT_DIR PLAN_MINUTES
#
# ARCHIVES_DIR holds cifar10-jpeg.tar.gz (the offline copy; users with a network download CIFAR-10
# instead); OUT_DIR receives the logs and results.tgz (the stored `full` results). COURSEKIT_COMMIT
# names the commit of a copied tree that has no .git, for the results' provenance.
set -u
archives=$1; out=$2; minutes=${3:-6}
mkdir -p "$out" /tmp/ckdata
tar xzf "$archives/cifar10-jpeg.tar.gz" -C /tmp/ckdata
export COURSEKIT_DATA=/tmp/ckdata COURSEKIT_DOWNLOAD=0 COURSEKIT_PROFILE=full PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/src
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -m pytest -q -m cuda tests/test_cuda.py -p no:cacheprovider 2>&1 | tail -15 | tee "$out/cuda-tests.log"
(cd benchmarks && python3 fast_cifar10.py --target 0.92 && python3 fit_overhead.py && python3 loader.py) 2>&1 \
  | grep -v "^epoch" | tee "$out/benchmarks.log"
python3 -m coursekit.cli regenerate --profile full --plan gpu --time-limit "${minutes}m" 2>&1 \
  | grep -v "^epoch\|^seed" | tee "$out/plan.log"
tar czf "$out/results.tgz" results/*.full.* 2>/dev/null || echo "no full result stored" | tee -a "$out/plan.log"
