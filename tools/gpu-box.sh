#!/usr/bin/env bash
# The whole GPU job on a bare GPU machine, in parts that each fit a command limit:
#
#   tools/gpu-box.sh [OUT_DIR] [BUDGET_S]      (defaults: gpu-box-out, 540)
#
# 1. the GPU and libraries: nvidia-smi, `gpuslice-gpu calibrate --check`;
# 2. a smoke calibration (resnet50, batches 1 and 8, quotas 50 and 100, no pairs);
# 3. the full calibration, resumable: it stops before the budget with OUT/calib.partial
#    kept (exit 75), and the next call goes on from there;
# 4. the validation scenarios (scenarios/validation/*.json) on the simulator, with the
#    calibrated profiles, and on the GPU backend, side by side (validate-gpu --json);
# 5. packs OUT_DIR into OUT_DIR.tgz (and into $OUT, the device tool's return folder, if set).
# Every finished part is skipped on the next call, so calling it again until it exits 0
# runs the job once. Needs build/release/gpuslice-gpu (built on a development machine; it
# needs only glibc >= 2.34, the NVIDIA driver >= 580, cuBLAS 13 and cuDNN 9 for CUDA 13,
# found as tools/../gpu/calibrate/cuda/libraries.h says; PyTorch's pip wheels will do).
# Exit codes: 0 all done; 75 the budget ran out (call again); 69 no usable GPU; else a failure.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/release/gpuslice-gpu"
[ -x "$bin" ] || { echo "gpu-box: $bin not found: build it first (cmake --build --preset release)" >&2; exit 2; }
out="${1:-gpu-box-out}"
budget="${2:-540}"
start=$(date +%s)
left() { echo $(( budget - ($(date +%s) - start) )); }
mkdir -p "$out/validation"
log() { echo "gpu-box: $*" | tee -a "$out/gpu-box.log"; }
pack() {
  tar -czf "$out.tgz" -C "$(dirname "$out")" "$(basename "$out")"
  if [ -n "${OUT:-}" ] && [ -d "${OUT}" ]; then cp "$out.tgz" "$OUT/"; fi
  log "packed $out.tgz ($(du -h "$out.tgz" | cut -f1))"
}

# The pip wheels' library folders (nvidia/<package>/lib) of the python3 on PATH.
if [ -z "${GPUSLICE_CUDA_LIBS:-}" ] && command -v python3 >/dev/null; then
  libs=$(python3 - <<'PY' 2>/dev/null
import os, sys
dirs = []
for p in sys.path:
    n = os.path.join(p, "nvidia")
    if os.path.isdir(n):
        for pkg in sorted(os.listdir(n)):
            d = os.path.join(n, pkg, "lib")
            if os.path.isdir(d) and d not in dirs:
                dirs.append(d)
print(":".join(dirs))
PY
)
  [ -n "$libs" ] && export GPUSLICE_CUDA_LIBS="$libs"
fi
log "start (budget ${budget} s); GPUSLICE_CUDA_LIBS=${GPUSLICE_CUDA_LIBS:-}"

if [ ! -f "$out/check.ok" ]; then
  command -v nvidia-smi >/dev/null && nvidia-smi -q > "$out/nvidia-smi.txt" 2>&1
  "$bin" calibrate --check 2>&1 | tee "$out/check.txt"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then log "check failed (exit $rc)"; pack; exit "$rc"; fi
  touch "$out/check.ok"
fi

calibrate() {  # calibrate DIR [options]: resumable, within what is left of the budget
  local dir="$1"; shift
  [ -f "$dir/metadata.json" ] && return 0
  local t=$(( $(left) - 20 ))
  if [ "$t" -le 10 ]; then log "no time left for $dir"; pack; exit 75; fi
  "$bin" calibrate -o "$dir" --resume --time-budget-s "$t" "$@" 2>&1 | tee -a "$out/calibrate.log"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 75 ]; then log "$dir: budget spent; call again to resume"; pack; exit 75; fi
  if [ "$rc" -ne 0 ]; then log "$dir failed (exit $rc)"; pack; exit "$rc"; fi
}
calibrate "$out/smoke" --models resnet50 --batches 1,8 --quotas 50,100 --repetitions 3 --no-pairs
calibrate "$out/calib"

gpu=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['device']['catalog_name'])" "$out/calib/metadata.json")
if [ -z "$gpu" ]; then
  log "this GPU is not in the catalog (gpu/specs.cc); no validation"
else
  for scenario in "$root"/scenarios/validation/*.json; do
    name=$(basename "$scenario" .json)
    [ -f "$out/validation/$name.json" ] && continue
    if [ "$(left)" -lt 180 ]; then log "budget spent before validating $name; call again"; pack; exit 75; fi
    sets=(--set "cluster.nodes.0.gpu=$gpu")
    for m in $(python3 -c "import json,sys; print(' '.join(json.load(open(sys.argv[1]))['models']))" "$scenario"); do
      sets+=(--set "models.$m.profile=$(cd "$out/calib/profiles" && pwd)/$m.csv")
    done
    "$bin" validate-gpu "$scenario" "${sets[@]}" --json "$out/validation/$name.json" 2>&1 | tee "$out/validation/$name.txt"
    rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || log "validation $name failed (exit $rc)"
  done
fi
pack
log "done in $(( $(date +%s) - start )) s"
