#!/usr/bin/env bash
# Builds the standalone calibration binary and packs what a GPU machine needs into
# dist/gpuslice-calibrate/ (and a .tar.gz of it): the binary (CUDA runtime and C++ runtime
# linked in; it needs only glibc, the NVIDIA driver, cuBLAS and cuDNN there), the zoo, and
# calibrate-gpu-box.sh. Copy the folder to the GPU machine and run the script there.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
cmake --build --preset release --target gpuslice-calibrate
if ! grep -aq cuDevSmResourceSplitByCount build/release/gpuslice-calibrate; then
  echo "make-calibrate-bundle: this build has no CUDA backend (no nvcc at /usr/local/cuda/bin or on PATH)" >&2
  exit 1
fi
out=dist/gpuslice-calibrate
rm -rf "$out"
mkdir -p "$out/zoo"
cp build/release/gpuslice-calibrate "$out/"
cp gpu/calibrate/zoo/*.json "$out/zoo/"
cp tools/calibrate-gpu-box.sh "$out/"
tar -C dist -czf dist/gpuslice-calibrate.tar.gz gpuslice-calibrate
echo "make-calibrate-bundle: $out ($(du -sh "$out" | cut -f1)) and dist/gpuslice-calibrate.tar.gz"
