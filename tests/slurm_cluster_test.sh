#!/usr/bin/env bash
# ctest slurm_local_cluster: starts a single-node Slurm in a temp dir
# (tools/slurm/local-cluster.sh), runs a 4-task job array through it, checks each task's output
# and state, and stops the cluster on every exit. Exit 77 (SKIP) where no cluster can run here:
# not root, slurm-wlm/munge not installed, a real Slurm configured, or the daemons cannot start.
set -euo pipefail
# shellcheck source=tests/slurm_lib.sh
source "$(dirname "$0")/slurm_lib.sh"

slurm_test_start slurm-cluster-test

mkdir "$work/jobs"
cd "$work/jobs"
# shellcheck disable=SC2016 # expanded in the job
jid=$(sbatch --parsable --array=0-3 --chdir="$work/jobs" -o "$work/jobs/slurm-%A_%a.out" \
  --wrap 'echo $SLURM_ARRAY_TASK_ID > out.$SLURM_ARRAY_TASK_ID')
jid=${jid%%;*}
echo "submitted array job $jid"
slurm_wait_job "$jid" 60

states=$(slurm_task_states "$jid")
echo "$states"
expected=$'0 COMPLETED 0:0\n1 COMPLETED 0:0\n2 COMPLETED 0:0\n3 COMPLETED 0:0'
[ "$states" = "$expected" ] || fail "array tasks: expected every task COMPLETED with exit 0:0"
for i in 0 1 2 3; do
  [ -f "out.$i" ] || fail "task $i wrote no out.$i"
  [ "$(cat "out.$i")" = "$i" ] || fail "out.$i holds '$(cat "out.$i")', not $i"
done
echo "PASS: 4 array tasks ran through the local Slurm and wrote their outputs"
