#!/bin/bash
# Checks that a build gives byte-identical summaries to a baseline binary on every shipped
# scenario and policy run (a refactoring must change no result). Baselines are cached in
# BASE_DIR (not in the repository) keyed by the baseline binary's checksum.
#
#   tools/scenarios/check_summaries.sh NEW_BINARY [BASELINE_BINARY] [BASE_DIR]
#
# Defaults: /tmp/gpuslice-baseline, /tmp/gpuslice-summaries. Long scenarios are shortened
# with --set duration_s=...; the scale population runs its first 120 s. Then the action logs
# of has-gpu's largest runs are compared too (compare_actions.py: an action skipped or
# added changes no summary). Exit 1 on any difference (printed), 0 when all match.
set -u
new=${1:?usage: check_summaries.sh NEW_BINARY [BASELINE_BINARY] [BASE_DIR]}
base=${2:-/tmp/gpuslice-baseline}
dir=${3:-/tmp/gpuslice-summaries}
cd "$(dirname "$0")/../.."
key=$(sha1sum "$base" | cut -c1-12)
mkdir -p "$dir/$key" "$dir/new"

# scenario|extra arguments (word-split)
cases=(
  "scenarios/azure-population-64.json|--set duration_s=900"
  "scenarios/azure-population-64.json|--set duration_s=900 --set policies.has-gpu.occupancy_integer_division=false"
  "scenarios/gpulet-mix.json|"
  "scenarios/has-gpu-ablations.json|"
  "scenarios/predictor-error.json|"
  "scenarios/quickstart.json|"
  "scenarios/what-if-h200.json|"
  "scenarios/has-gpu-v100/mobilenet_v3_large-normal.json|"
  "scenarios/has-gpu-v100/mobilenet_v3_large-stress.json|"
  "scenarios/has-gpu-v100/resnet50-normal.json|"
  "scenarios/has-gpu-v100/resnet50-stress.json|"
  "scenarios/scale/azure-population-2000.json|--set duration_s=120"
  "scenarios/scale/azure-functions-2019-day.json|--set duration_s=3600"
)
status=0
for c in "${cases[@]}"; do
  scenario=${c%%|*}
  args=${c#*|}
  name=$(echo "$scenario $args" | tr '/ =' '___')
  if [ ! -s "$dir/$key/$name.json" ]; then
    # shellcheck disable=SC2086
    "$base" compare "$scenario" --no-output --quiet --force --summary-json "$dir/$key/$name.json" $args >/dev/null ||
      { echo "baseline failed: $scenario $args"; status=1; continue; }
  fi
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$new" compare "$scenario" --no-output --quiet --force --summary-json "$dir/new/$name.json" $args >/dev/null ||
    { echo "FAILED to run: $scenario $args"; status=1; continue; }
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  if cmp -s "$dir/$key/$name.json" "$dir/new/$name.json"; then
    printf 'same       %-60s %s (%.1f s)\n' "$scenario" "$args" "$wall"
  else
    printf 'DIFFERENT  %-60s %s\n' "$scenario" "$args"
    diff "$dir/$key/$name.json" "$dir/new/$name.json" | head -20
    status=1
  fi
done
# Action logs: has-gpu at scale and with the paper's occupancy.
actions=(
  "scenarios/azure-population-64.json|--set duration_s=900"
  "scenarios/azure-population-64.json|--set duration_s=900 --set policies.has-gpu.occupancy_integer_division=false"
  "scenarios/scale/azure-population-2000.json|--set duration_s=120"
)
for c in "${actions[@]}"; do
  scenario=${c%%|*}
  args=${c#*|}
  name=$(echo "$scenario $args" | tr '/ =' '___')
  # shellcheck disable=SC2086
  if [ ! -s "$dir/$key/$name.h5" ]; then
    "$base" run "$scenario" --policy has-gpu --quiet --force -o "$dir/$key/$name.h5" $args >/dev/null ||
      { echo "baseline failed: $scenario $args"; status=1; continue; }
  fi
  # shellcheck disable=SC2086
  "$new" run "$scenario" --policy has-gpu --quiet --force -o "$dir/new/$name.h5" $args >/dev/null ||
    { echo "FAILED to run: $scenario $args"; status=1; continue; }
  printf '%-60s %s: ' "$scenario" "$args"
  tools/scenarios/compare_actions.py "$dir/$key/$name.h5" "$dir/new/$name.h5" || status=1
done
exit $status
