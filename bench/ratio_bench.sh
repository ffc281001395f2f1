#!/bin/bash
# Issue 15's first target for one policy: the Azure Functions 2019 day, the 2,000-function
# hour, and the day again, one after another, each alone (helpers on, no output). Prints each
# run's wall time, requests per wall second and peak RSS, then the day's requests/s (the mean
# of its two runs, which bracket the hour in time) over the hour's: the target is <= 2.
#
#   bench/ratio_bench.sh [-b BINARY] POLICY
set -eu
cd "$(dirname "$0")/.."
bin=build/release/gpuslice
while getopts "b:" opt; do
  case $opt in
    b) bin=$OPTARG ;;
    *) sed -n 2,7p "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { sed -n 2,7p "$0"; exit 2; }
policy=$1
day=scenarios/scale/azure-functions-2019-day.json hour=scenarios/scale/azure-population-2000.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rates=()
printf 'scenario\tpolicy\twall_s\trequests\trequests_per_s\tpeak_rss_mb\n'
for scenario in "$day" "$hour" "$day"; do
  /usr/bin/time -f '%e %M' -o "$tmp/time.txt" "$bin" run "$scenario" --policy "$policy" --quiet --force \
    --no-output --summary-json "$tmp/s.json" >/dev/null
  read -r wall rss_kb <"$tmp/time.txt"
  requests=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][0]["overall"]["arrived"])' "$tmp/s.json")
  rate=$(echo "$requests / $wall / 1000000" | bc -l)
  rates+=("$rate")
  printf '%s\t%s\t%s\t%s\t%.3f M\t%.0f\n' "$(basename "$scenario" .json)" "$policy" "$wall" "$requests" "$rate" \
    "$(echo "$rss_kb / 1024" | bc -l)"
done
printf 'ratio\t%s\t%.2f\n' "$policy" "$(echo "(${rates[0]} + ${rates[2]}) / 2 / ${rates[1]}" | bc -l)"
