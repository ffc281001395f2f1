#!/bin/bash
# Paired timing of two gpuslice binaries: each repetition runs both on the same scenario and
# window at the same time, one per core, so that both see the same machine (on a shared
# machine whose speed drifts by tens of percent between runs, runs one after another compare
# the machine more than the binaries). Prints the user CPU time of each, one line per pair.
#
#   bench/pair_bench.sh [-n REPEATS] [-d DURATION_S] SCENARIO POLICY BINARY_A BINARY_B
set -eu
cd "$(dirname "$0")/.."
repeats=3 duration=""
while getopts "n:d:" opt; do
  case $opt in
    n) repeats=$OPTARG ;; d) duration=$OPTARG ;;
    *) sed -n 2,7p "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 4 ] || { sed -n 2,7p "$0"; exit 2; }
scenario=$1 policy=$2 a=$3 b=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(run "$scenario" --policy "$policy" --quiet --force --no-output)
[ -n "$duration" ] && args+=(--set "duration_s=$duration")
printf 'a_user_s\tb_user_s\n'
for _ in $(seq "$repeats"); do
  /usr/bin/time -f %U -o "$tmp/a" "$a" "${args[@]}" >/dev/null &
  pa=$!
  /usr/bin/time -f %U -o "$tmp/b" "$b" "${args[@]}" >/dev/null &
  pb=$!
  wait "$pa" || { echo "pair_bench.sh: $a failed" >&2; exit 1; }
  wait "$pb" || { echo "pair_bench.sh: $b failed" >&2; exit 1; }
  printf '%s\t%s\n' "$(tail -1 "$tmp/a")" "$(tail -1 "$tmp/b")"
done
