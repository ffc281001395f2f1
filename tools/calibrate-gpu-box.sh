#!/usr/bin/env bash
# Runs the whole calibration on this machine's GPU: every zoo model, batches 1..32, every SM
# partition the GPU allows, quotas 10..100%, co-located pairs; then the fit. Needs the NVIDIA
# driver, cuBLAS and cuDNN (found through GPUSLICE_CUDA_LIBS, LD_LIBRARY_PATH, ldconfig, the
# CUDA folders or pip's nvidia-* wheels), nothing else: no package manager, no compiler.
#
#   ./calibrate-gpu-box.sh [OUTPUT_DIR] [more gpuslice-calibrate options]
#
# Works from the bundle (tools/make-calibrate-bundle.sh) or from a built checkout.
# Exit codes: those of gpuslice-calibrate (69: no usable GPU; 1: a library or GPU call failed).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin=""
for b in "$here/gpuslice-calibrate" "$here/../build/release/gpuslice-calibrate"; do
  [ -x "$b" ] && { bin="$b"; break; }
done
[ -n "$bin" ] || { echo "calibrate-gpu-box: gpuslice-calibrate not found beside this script or in build/release" >&2; exit 2; }

out="${1:-calibration-$(hostname -s 2>/dev/null || echo gpu)-$(date -u +%Y%m%dT%H%M%SZ)}"
[ $# -gt 0 ] && shift

if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw \
    --format=csv 2>/dev/null | sed 's/^/calibrate-gpu-box: /'
fi

# The pip wheels' library folders (nvidia/cu13/lib, nvidia/cudnn/lib, ...) of python3.
if [ -z "${GPUSLICE_CUDA_LIBS:-}" ] && command -v python3 >/dev/null; then
  libs=$(python3 -c 'import os, sys
d = []
for p in sys.path:
    n = os.path.join(p, "nvidia")
    if os.path.isdir(n):
        d += [os.path.join(n, k, "lib") for k in sorted(os.listdir(n)) if os.path.isdir(os.path.join(n, k, "lib"))]
print(":".join(dict.fromkeys(d)))' 2>/dev/null)
  [ -n "$libs" ] && export GPUSLICE_CUDA_LIBS="$libs" && echo "calibrate-gpu-box: GPUSLICE_CUDA_LIBS=$libs"
fi

# Check the GPU and libraries first (with the same options: --device, --zoo, ...): a missing
# library is named with the folders searched.
"$bin" --check "$@" || exit $?

start=$(date +%s)
"$bin" -o "$out" "$@"
rc=$?
[ $rc -eq 0 ] || exit $rc
if command -v nvidia-smi >/dev/null; then
  nvidia-smi -q > "$out/nvidia-smi.txt" 2>/dev/null || true
fi
echo "calibrate-gpu-box: done in $(( $(date +%s) - start )) s: $out"
echo "calibrate-gpu-box: to use it in gpuslice, copy $out/profiles/*.csv (and the rest, for the record)"
echo "calibrate-gpu-box: to gpu/profiles/<gpu>/ in the checkout and name them in a scenario's models."
