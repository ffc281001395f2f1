#!/usr/bin/env bash
# ctest slurm_sweep: BINARY SOURCE_DIR. A `gpuslice sweep` through a real single-node Slurm
# (tools/slurm/local-cluster.sh), end to end, against the sweep's contract (issue 14 item 3):
#   sweep SPEC -o DIR --slurm --partition P --chunk-size N   writes DIR/sweep.sbatch (a job array,
#                                                            one task per chunk), prints the sbatch
#   ... --slurm --submit                                      also submits: "submitted job <ID>"
#   sweep SPEC -o DIR --merge     DIR/runs.csv, summary.csv, sweep.h5 from DIR/runs/; non-zero
#                                 and a message naming what is missing when a run is missing
#   sweep SPEC -o DIR -j N        the same spec on local cores
# Checks: the array's tasks all complete; merge fails before the runs exist and succeeds after;
# runs.csv has points x policies x seeds rows, equal row for row (as a set) to the local run's,
# and so is summary.csv; a second --merge writes the same files. Exit 77 (SKIP) where no cluster
# can run here, or when the sweep is not built yet. Prints the Slurm logs on failure.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BINARY SOURCE_DIR" >&2; exit 2; }
bin=$(realpath "$1")
src=$(realpath "$2")
# shellcheck source=tests/slurm_lib.sh
source "$(dirname "$0")/slurm_lib.sh"
py=/usr/bin/python3

if ! help=$("$bin" sweep --help 2>&1) || ! grep -q -- '--merge' <<<"$help" ||
   ! grep -q -- '--slurm' <<<"$help"; then
  skip "gpuslice sweep is not built yet ('$bin sweep --help' fails or lists no --slurm/--merge)"
fi
"$py" -c 'import h5py, numpy' 2>/dev/null || skip "$py lacks h5py/numpy (tools/install-deps.sh)"

slurm_test_start slurm-sweep-test
cd "$work"

# 2 points (load_scale) x 2 policy runs x 2 seeds = 8 runs; chunks of 2 = 4 array tasks.
# duration_s 20 keeps each run well under a second.
points=2 policies=2 seeds=2 chunk=2
runs=$((points * policies * seeds))
tasks=$(((runs + chunk - 1) / chunk))
scenario=$(realpath --relative-to="$work" "$src/scenarios/quickstart.json")
cat >spec.json <<EOF
{"scenario": "$scenario",
 "policies": ["kserve", "has-gpu"],
 "seeds": $seeds,
 "grid": {"load_scale": [0.5, 1.0], "duration_s": [20]}}
EOF

# Runs a sweep command, its output in $work/out.<name>; fails with that output when it fails.
sweep() {
  local name=$1
  shift
  echo "+ gpuslice sweep $*"
  if ! "$bin" sweep "$@" >"out.$name" 2>&1; then
    cat "out.$name"
    fail "gpuslice sweep $* exited non-zero"
  fi
  cat "out.$name"
}

# 1. The script alone.
sweep dry spec.json -o dry --slurm --partition debug --chunk-size "$chunk"
[ -s dry/sweep.sbatch ] || fail "--slurm wrote no dry/sweep.sbatch"
grep -qE -- '--array|^#SBATCH +-a ' dry/sweep.sbatch || fail "dry/sweep.sbatch is not a job array (no --array)"
grep -q 'sbatch' out.dry || fail "--slurm printed no sbatch command"
[ ! -d dry/runs ] || [ -z "$(ls -A dry/runs)" ] || fail "--slurm without --submit ran something"

# 2. Merge with nothing run: non-zero, and says so.
echo "+ gpuslice sweep spec.json -o dry --merge   (nothing has run: must fail)"
if "$bin" sweep spec.json -o dry --merge >out.merge-missing 2>&1; then
  cat out.merge-missing
  fail "--merge exited 0 with none of the $runs runs stored"
fi
[ -s out.merge-missing ] || fail "--merge failed without a message"
head -n 5 out.merge-missing

# 3. Submit, wait for the array, check every task.
sweep submit spec.json -o slurm --slurm --submit --partition debug --chunk-size "$chunk"
jid=$(sed -n 's/.*submitted job \([0-9][0-9]*\).*/\1/p' out.submit | head -n1)
[ -n "$jid" ] || fail "--submit printed no 'submitted job <ID>' line"
slurm_wait_job "$jid" 300
states=$(slurm_task_states "$jid")
echo "$states"
[ "$(grep -c . <<<"$states")" -eq "$tasks" ] ||
  fail "job $jid has $(grep -c . <<<"$states") array tasks, expected $tasks ($runs runs in chunks of $chunk)"
bad=$(awk '$2 != "COMPLETED" || $3 != "0:0"' <<<"$states")
[ -z "$bad" ] || fail "array tasks that did not complete with exit 0:0:"$'\n'"$bad"
while read -r f; do
  [ -f "$f" ] || fail "task output $f is missing"
done <"$work/job-outputs"
stored=$(find slurm/runs -type f 2>/dev/null | wc -l)
echo "slurm/runs: $stored files"
[ "$stored" -ge "$runs" ] || fail "the tasks stored $stored files under slurm/runs, fewer than the $runs runs"

# 4. Merge; merge again: the same files.
sweep merge spec.json -o slurm --merge
for f in runs.csv summary.csv sweep.h5; do
  [ -s "slurm/$f" ] || fail "--merge wrote no slurm/$f"
  cp "slurm/$f" "first.$f"
done
sweep merge2 spec.json -o slurm --merge
for f in runs.csv summary.csv; do
  cmp -s "first.$f" "slurm/$f" || { diff "first.$f" "slurm/$f" | head -n 20; fail "a second --merge changed $f"; }
done

# 5. The same spec locally.
sweep local spec.json -o local -j 2
for f in runs.csv summary.csv sweep.h5; do
  [ -s "local/$f" ] || fail "the local sweep wrote no local/$f"
done

# 6. Compare. Rows are compared as sets (order may differ), every column (bar wall-clock ones);
# the output folder's own path, should a column hold it, is normalised.
"$py" - "$work" "$runs" "$policies" "$seeds" <<'EOF' || fail "Slurm and local sweeps differ (above)"
import csv, re, sys
import h5py, numpy as np

work, runs, policies, seeds = sys.argv[1], *map(int, sys.argv[2:])
wall = re.compile(r"(^|_)(wall|elapsed|hostname|timestamp)(_|$)")
ok = True

def err(msg):
    global ok
    ok = False
    print("FAIL:", msg)

def table(path, outdir):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0].keys()) if rows else []
    norm = lambda v: v.replace(outdir, "<DIR>") if v else v
    return header, [{k: norm(v) for k, v in r.items()} for r in rows]

for name in ("runs.csv", "summary.csv"):
    h_s, rows_s = table(f"{work}/slurm/{name}", f"{work}/slurm")
    h_l, rows_l = table(f"{work}/local/{name}", f"{work}/local")
    if set(h_s) != set(h_l):
        err(f"{name}: columns differ: only Slurm {sorted(set(h_s) - set(h_l))}, "
            f"only local {sorted(set(h_l) - set(h_s))}")
        continue
    cols = sorted(c for c in h_s if not wall.search(c))
    skipped = sorted(set(h_s) - set(cols))
    if skipped:
        print(f"{name}: not compared (wall-clock): {skipped}")
    key = lambda r: tuple(r[c] for c in cols)
    a, b = sorted(map(key, rows_s)), sorted(map(key, rows_l))
    if a != b:
        only_s, only_l = set(a) - set(b), set(b) - set(a)
        err(f"{name}: {len(only_s)} Slurm rows have no equal local row, {len(only_l)} the reverse")
        for row in list(only_s)[:2]:
            near = min(b, key=lambda o: sum(x != y for x, y in zip(row, o)))
            print("  e.g. differing columns:",
                  {c: (x, y) for c, x, y in zip(cols, row, near) if x != y})
    else:
        print(f"{name}: {len(a)} rows x {len(cols)} columns identical to the local sweep's")
    if name == "runs.csv":
        if len(rows_s) != runs:
            err(f"runs.csv has {len(rows_s)} rows, expected {runs} (points x policies x seeds)")
        for c in ("policy", "seed"):
            if c not in h_s:
                err(f"runs.csv has no '{c}' column")
        if "policy" in h_s and "seed" in h_s:
            if len({r["policy"] for r in rows_s}) != policies:
                err(f"runs.csv: {len({r['policy'] for r in rows_s})} policies, expected {policies}")
            if len({r["seed"] for r in rows_s}) != seeds:
                err(f"runs.csv: {len({r['seed'] for r in rows_s})} seeds, expected {seeds}")

# A second --merge: sweep.h5 with the same content (the bytes may differ only where HDF5 itself
# records object times).
def h5_content(path):
    out = {}
    def attrs(o):
        return {k: np.asarray(v).tolist() for k, v in o.attrs.items()}
    with h5py.File(path, "r") as f:
        out["/"] = ("group", attrs(f))
        def visit(name, o):
            if isinstance(o, h5py.Dataset):
                v = o[()]
                v = v.tolist() if isinstance(v, np.ndarray) else v
                out[name] = ("dataset", str(o.dtype), o.shape, repr(v), attrs(o))
            else:
                out[name] = ("group", attrs(o))
        f.visititems(visit)
    return out

first, second = h5_content(f"{work}/first.sweep.h5"), h5_content(f"{work}/slurm/sweep.h5")
if first != second:
    diff = sorted(k for k in set(first) | set(second) if first.get(k) != second.get(k))
    err(f"a second --merge changed sweep.h5 at {diff[:10]}")
else:
    same = open(f"{work}/first.sweep.h5", "rb").read() == open(f"{work}/slurm/sweep.h5", "rb").read()
    print(f"sweep.h5: a second --merge gives the same {len(first)} objects"
          + ("" if same else " (bytes differ: HDF5 object times)"))
sys.exit(0 if ok else 1)
EOF
echo "PASS: $runs runs in $tasks array tasks through the local Slurm; merged tables equal the local sweep's"
