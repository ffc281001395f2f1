#!/usr/bin/env bash
# Builds the libFuzzer targets (CMake preset "fuzz": clang, -fsanitize=fuzzer,address,undefined,
# into build/fuzz) and runs each for SECONDS (default 60).
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]      (no TARGET: every target)
#
# Environment: FUZZ_PARALLEL=N runs N targets at a time (default 1); FUZZ_KEEP_GOING=1 keeps
# fuzzing a target after a finding (libFuzzer's fork mode: every crash, leak, timeout and
# out-of-memory input is kept and the run goes on); JOBS=N build jobs (default 2).
#
# Each target starts from its seeds (tests/fuzz/corpus/<target>/) and the inputs earlier runs
# found (build/fuzz/corpus/<target>/, which grows). Findings are kept in
# build/fuzz/findings/<target>/ (crash-*, leak-*, timeout-*, oom-*), the log in
# build/fuzz/logs/<target>.log. Prints one line per target (executions, findings) and exits 1
# if any target found anything, 2 if the targets cannot be built or run.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=60
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
all_targets=(scenario trace_csv trace_azure2019 trace_azure2019_durations trace_azure2019_memory trace_azure2021
             trace_azure_llm trace_alibaba trace_mooncake trace_stages profile set)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "tests/fuzz/run.sh: no target '$t' (${all_targets[*]})" >&2; exit 2; }
done

# The largest input each target is given: a few rows of a trace, a whole scenario.
max_len() {
  case "$1" in
    scenario|trace_azure2019) echo 16384 ;;
    profile) echo 8192 ;;
    set) echo 1024 ;;
    *) echo 4096 ;;
  esac
}

if ! command -v clang++ >/dev/null || ! compgen -G '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a' >/dev/null; then
  echo "tests/fuzz/run.sh: needs clang++ and libFuzzer (Debian 12: clang libclang-rt-14-dev; tools/install-deps.sh --test)" >&2
  exit 2
fi
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
if [ ! -f build/fuzz/build.ninja ]; then
  cmake --preset fuzz >/dev/null || { echo "tests/fuzz/run.sh: cmake --preset fuzz failed" >&2; exit 2; }
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
if ! cmake --build build/fuzz -j"${JOBS:-2}" --target "${build_targets[@]}" >build/fuzz/build.log 2>&1; then
  grep -E 'error|FAILED' build/fuzz/build.log | head -20 >&2
  echo "tests/fuzz/run.sh: building the fuzz targets failed (build/fuzz/build.log)" >&2
  exit 2
fi

mkdir -p build/fuzz/logs
# Runs one target; prints its summary line; returns 1 on a finding.
run_one() {
  local t=$1
  local work=build/fuzz/corpus/$t found=build/fuzz/findings/$t log=build/fuzz/logs/$t.log
  mkdir -p "$work" "$found"
  local extra=()
  if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
    extra=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
  fi
  local before after rc=0 execs
  before=$(find "$found" -type f ! -name 'slow-unit-*' | wc -l)
  build/fuzz/tests/fuzz/fuzz_"$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$found/" "${extra[@]}" "$work" "tests/fuzz/corpus/$t" \
    >"$log" 2>&1 || rc=$?
  execs=$({ grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" || true; } | awk '{s += $2} END {print s + 0}')
  if [ "$execs" = 0 ]; then  # fork mode prints no final stats: the last status line's count
    execs=$({ grep -oE '^#[0-9]+' "$log" || true; } | tail -1 | tr -d '#')
    execs=${execs:-0}
  fi
  after=$(find "$found" -type f ! -name 'slow-unit-*' | wc -l)
  if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
    echo "$t: $execs executions in $seconds s: FINDING (exit $rc, $((after - before)) new input(s) in $found/, log $log)"
    grep -m4 -E '^==[0-9]+==ERROR|runtime error|terminate called|what\(\)|FINDING|out-of-memory|Timeout' "$log" |
      sed 's/^/    /' || true
    return 1
  fi
  echo "$t: $execs executions in $seconds s: no finding"
}

status=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" >"build/fuzz/logs/$t.summary" &
  pids+=($!)
  if [ ${#pids[@]} -ge "${FUZZ_PARALLEL:-1}" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
for t in "${targets[@]}"; do cat "build/fuzz/logs/$t.summary"; done
exit $status
