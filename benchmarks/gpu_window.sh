#!/bin/bash
# One short GPU window, spent in order of value: the CUDA tests, the GPU benchmarks, then the `full`
# plan in the minutes left (each result stored as it finishes). Run from the repository root:
#
#   COURSEKIT_COMMIT=<commit> bash benchmarks/gpu_window.sh ARCHIVES_DIR OUT_DIR PLAN_MINUTES
#
# ARCHIVES_DIR holds cifar10-jpeg.tar.gz and mnist-png.tar.gz (the offline copies; users with a network
# download CIFAR-10 and MNIST instead); OUT_DIR receives the logs and results.tgz (the stored `full` results). COURSEKIT_COMMIT
# names the commit of a copied tree that has no .git, for the results' provenance. A dry run on a CPU,
# with tiny sizes and the `ci` profile (which stores nothing): GPU_WINDOW_DRY=1 bash benchmarks/gpu_window.sh ...
set -u
archives=$1; out=$2; minutes=${3:-6}
mkdir -p "$out" /tmp/ckdata
tar xzf "$archives/cifar10-jpeg.tar.gz" -C /tmp/ckdata
[ -f "$archives/mnist-png.tar.gz" ] && tar xzf "$archives/mnist-png.tar.gz" -C /tmp/ckdata  # the detection chapter
profile=full; tiny=""
if [ "${GPU_WINDOW_DRY:-0}" = 1 ]; then profile=ci; tiny="--images 500"; fi
export COURSEKIT_DATA=/tmp/ckdata COURSEKIT_DOWNLOAD=0 COURSEKIT_PROFILE=$profile PYTHONUNBUFFERED=1 PYTHONPATH=$PWD/src
python=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$out/gpu.txt"
$python -m pytest -q -m cuda tests/test_cuda.py -p no:cacheprovider 2>&1 | tail -15 | tee "$out/cuda-tests.log"
(cd benchmarks && { [ -n "$tiny" ] || $python fast_cifar10.py --target 0.92; } && $python fit_overhead.py $tiny \
  && $python loader.py $tiny) 2>&1 | grep -v "^epoch" | tee "$out/benchmarks.log"
$python -m coursekit.cli regenerate --profile $profile --plan gpu --time-limit "${minutes}m" 2>&1 \
  | grep -v "^epoch\|^seed" | tee "$out/plan.log"
tar czf "$out/results.tgz" results/*.full.* 2>/dev/null || echo "no full result stored" | tee -a "$out/plan.log"
