# shellcheck shell=bash
# Sourced by tests/slurm_*_test.sh: a local single-node Slurm (tools/slurm/local-cluster.sh) in a
# temporary directory for the length of one test, stopped on every exit.
#
#   slurm_test_start NAME   # skips (exit 77, "SKIP: reason") where no cluster can run here;
#                           # sets $work (temp dir) and exports SLURM_CONF
#   slurm_wait_job JID SECONDS
#   slurm_task_states JID   # "TASK STATE EXITCODE" per array task (sacct is not available)
#   slurm_dump_logs         # the daemons' logs and the jobs' output, for a failure
#
# GPUSLICE_REQUIRE_SLURM=1 turns every skip into a failure (for CI machines known to have it).

slurm_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
slurm_cluster_sh="$slurm_repo/tools/slurm/local-cluster.sh"
work=""
slurm_watchdog_pidfile=""

skip() {
  if [ "${GPUSLICE_REQUIRE_SLURM:-0}" = 1 ]; then
    echo "FAIL (GPUSLICE_REQUIRE_SLURM=1): would skip: $*"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

fail() {
  echo "FAIL: $*"
  exit 1
}

slurm_dump_logs() {
  [ -n "$work" ] && [ -d "$work" ] || return 0
  local f
  echo "======== Slurm logs ($work/cluster) ========"
  for f in "$work"/cluster/log/slurmctld.log "$work"/cluster/log/slurmd.log \
           "$work"/cluster/log/*.out "$work"/cluster/munge/munged.log; do
    [ -s "$f" ] || continue
    echo "---- $f (last 60 lines)"
    tail -n 60 "$f"
  done
  if [ -s "$work/job-outputs" ]; then
    while read -r f; do
      [ -f "$f" ] || continue
      echo "---- job output $f"
      tail -n 40 "$f"
    done <"$work/job-outputs"
  fi
}

slurm_on_exit() {
  local rc=$?
  trap - EXIT
  set +e
  [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && slurm_dump_logs
  if [ -n "$work" ] && [ -d "$work/cluster" ]; then
    "$slurm_cluster_sh" stop "$work/cluster" >/dev/null 2>&1
  fi
  if [ -n "$slurm_watchdog_pidfile" ] && [ -s "$slurm_watchdog_pidfile" ]; then
    kill "$(cat "$slurm_watchdog_pidfile")" 2>/dev/null
  fi
  [ -n "$work" ] && rm -rf "$work"
  exit "$rc"
}

slurm_test_start() {
  local name=$1 p out rc
  [ "$(id -u)" -eq 0 ] || skip "needs root to run slurmd (uid $(id -u))"
  for p in munged munge unmunge slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
    command -v "$p" >/dev/null ||
      skip "$p not found: Debian packages slurm-wlm and munge are not installed (tools/install-deps.sh --test)"
  done
  [ -e /etc/slurm/slurm.conf ] &&
    skip "/etc/slurm/slurm.conf exists: a real Slurm is configured here; the test does not start one beside it"
  work=$(mktemp -d "/tmp/gpuslice-$name.XXXXXX")
  chmod 0755 "$work"
  trap slurm_on_exit EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  # If this script is killed outright (a CTest timeout), a watchdog in its own session stops
  # the cluster once this shell is gone.
  slurm_watchdog_pidfile="$work/watchdog.pid"
  # shellcheck disable=SC2016 # expanded by the watchdog shell
  setsid bash -c 'echo $$ >"$1"; while kill -0 "$2" 2>/dev/null; do sleep 2; done
                  [ -d "$3/cluster" ] && "$4" stop "$3/cluster" >/dev/null 2>&1; rm -rf "$3"' \
    watchdog "$slurm_watchdog_pidfile" $$ "$work" "$slurm_cluster_sh" </dev/null >/dev/null 2>&1 &
  set +e
  out=$("$slurm_cluster_sh" start "$work/cluster" 2>"$work/start.err")
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    cat "$work/start.err"
    case "$rc" in
      2) skip "local Slurm refused to start here: $(head -n1 "$work/start.err")" ;;
      *) skip "the Slurm daemons cannot start in this environment: $(grep -m1 'cannot start' "$work/start.err" || head -n1 "$work/start.err")" ;;
    esac
  fi
  eval "$out"
  export SLURM_CONF
  grep -v '^local-cluster: up' "$work/start.err" || true
  echo "slurm: $(head -n1 "$work/start.err")"
}

# Waits until squeue lists nothing of job JID (all its array tasks ended), at most SECONDS.
slurm_wait_job() {
  local jid=$1 limit=$2 start=$SECONDS left errors=0
  while :; do
    if left=$(squeue -h -j "$jid" -o '%i %T' 2>"$work/squeue.err"); then
      [ -z "$left" ] && return 0
      errors=0
    else
      # A job id that has left slurmctld's memory entirely is an error, and so is no answer;
      # the first cannot happen within MinJobAge (300 s), so count both as failures.
      errors=$((errors + 1))
      [ "$errors" -ge 10 ] && fail "squeue keeps failing for job $jid: $(cat "$work/squeue.err")"
    fi
    if ((SECONDS - start >= limit)); then
      echo "still in the queue after ${limit}s:"
      echo "$left"
      scontrol show job "$jid" || true
      fail "job $jid did not finish within ${limit}s"
    fi
    sleep 0.5
  done
}

# One line per array task (or one for a plain job): "TASK STATE EXITCODE", sorted by task,
# from `scontrol show job` (ended jobs stay there for MinJobAge). Also records each task's
# StdOut path in $work/job-outputs for slurm_dump_logs.
slurm_task_states() {
  local jid=$1
  scontrol -o show job "$jid" | awk -v outs="$work/job-outputs" '
    { task = "-"; state = "?"; code = "?"
      for (i = 1; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == "ArrayTaskId") task = kv[2]
        else if (kv[1] == "JobState") state = kv[2]
        else if (kv[1] == "ExitCode") code = kv[2]
        else if (kv[1] == "StdOut") print substr($i, 8) >> outs
      }
      print task, state, code }' | sort -n
}
