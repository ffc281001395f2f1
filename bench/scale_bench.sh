#!/bin/bash
# The scale bench of issue 15: each policy run of the scale scenarios, timed alone, with
# wall time, CPU time (user + system, all threads), simulated requests per wall second and
# peak RSS (/usr/bin/time -v). Speed is measured here and reported in bench/README.md, never
# asserted in tests.
#
#   bench/scale_bench.sh [-b BINARY] [-d DURATION_S] [-r REPEATS] [-o] [-a ARG] [SCENARIO ...]
#
# -b  the gpuslice binary (default build/release/gpuslice)
# -d  --set duration_s=D on every run (a shorter window of a long scenario)
# -r  repetitions of each run (default 1); report the range
# -o  write the HDF5 result (to a temporary file, its size reported in MB = 10^6 bytes) instead of --no-output
# -a  one more argument for every run (repeatable), e.g. -a --no-helper-threads
# Scenarios default to scenarios/scale/azure-population-2000.json and the Azure Functions
# 2019 day (scenarios/scale/azure-functions-2019-day.json); regenerate them with
# tools/scenarios/make_scale.py. Prints one tab-separated line per run.
set -eu
cd "$(dirname "$0")/.."
bin=build/release/gpuslice duration="" repeats=1 output=0 extra=()
while getopts "b:d:r:oa:" opt; do
  case $opt in
    b) bin=$OPTARG ;; d) duration=$OPTARG ;; r) repeats=$OPTARG ;; o) output=1 ;; a) extra+=("$OPTARG") ;;
    *) sed -n 2,15p "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- scenarios/scale/azure-population-2000.json scenarios/scale/azure-functions-2019-day.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'scenario\tpolicy\tduration\twall_s\tcpu_s\trequests\trequests_per_s\tpeak_rss_mb\tresult_mb\tload\n'
for scenario in "$@"; do
  policies=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["policies"]))' "$scenario")
  for policy in $policies; do
    for _ in $(seq "$repeats"); do
      args=(run "$scenario" --policy "$policy" --quiet --force --summary-json "$tmp/s.json")
      [ -n "$duration" ] && args+=(--set "duration_s=$duration")
      args+=("${extra[@]}")
      if [ "$output" = 1 ]; then args+=(-o "$tmp/r.h5"); else args+=(--no-output); fi
      load=$(cut -d' ' -f1 /proc/loadavg)
      /usr/bin/time -v -o "$tmp/time.txt" "$bin" "${args[@]}" >/dev/null
      wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$tmp/time.txt")
      cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f", u + s}' "$tmp/time.txt")
      rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$tmp/time.txt")
      requests=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["overall"]["arrived"])' "$tmp/s.json")
      result=-
      [ "$output" = 1 ] && result=$(stat -c %s "$tmp/r.h5" | awk '{printf "%.2f", $1 / 1e6}') && rm -f "$tmp/r.h5"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%.2f M\t%s\t%s\t%s\n' "$(basename "$scenario" .json)" "$policy" "${duration:-full}" \
        "$wall" "$cpu" "$requests" "$(echo "$requests / $wall / 1000000" | bc -l)" "$rss" "$result" "$load"
      rm -f "$tmp/s.json"
    done
  done
done
