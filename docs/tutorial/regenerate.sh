#!/bin/bash
# Runs the week-one study in a temporary folder and writes docs/week-one.md from
# docs/tutorial/week-one.md.in, with every command's real output, and the figures
# docs/tutorial/*.png.
#
# Usage: docs/tutorial/regenerate.sh [GPUSLICE_BINARY]   (default build/release/gpuslice)
#
# Each step is a shell command as the page shows it, run with bash -c in the study folder
# ($WORK) where `gpuslice` is the binary and $REPO the checkout; its stdout, stderr and exit
# code go to $WORK/.capture/<step>.{cmd,out,err,rc}. A step that exits with another code
# than the one expected stops the script. render.py then fills the template's placeholders
# from the captures and from numbers it reads in the study's files.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
GPUSLICE_BIN=$(realpath "${1:-$REPO/build/release/gpuslice}")
PYTHON=/usr/bin/python3
[[ -x $GPUSLICE_BIN ]] || { echo "regenerate.sh: no gpuslice binary at $GPUSLICE_BIN (build it, or pass its path)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpuslice-week-one.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CAPTURE=$WORK/.capture
mkdir -p "$CAPTURE" "$WORK/figures"
cd "$WORK"
start=$SECONDS

gpuslice() { "$GPUSLICE_BIN" "$@"; }
export -f gpuslice
export REPO GPUSLICE_BIN

# step NAME EXPECTED_EXIT_CODE 'COMMAND'
step() {
  local name=$1 want=$2 cmd=$3 rc=0
  printf '%s\n' "$cmd" > "$CAPTURE/$name.cmd"
  bash -c "set -o pipefail; $cmd" > "$CAPTURE/$name.out" 2> "$CAPTURE/$name.err" || rc=$?
  echo "$rc" > "$CAPTURE/$name.rc"
  if [[ $rc != "$want" ]]; then
    echo "regenerate.sh: step $name exited $rc, expected $want: $cmd" >&2
    cat "$CAPTURE/$name.out" "$CAPTURE/$name.err" >&2
    exit 1
  fi
  echo "  $name ($((SECONDS - start)) s)" >&2
}

echo "week-one study in $WORK with $GPUSLICE_BIN" >&2

# 1. The resolved scenario.
step validate 0 'gpuslice validate "$REPO"/scenarios/quickstart.json > resolved.json'
step resolved_cluster 0 "sed -n '/\"cluster\"/,/\"models\"/p' resolved.json"
step resolved_policies 0 "sed -n '/\"policies\"/,/\"gpulet\"/p' resolved.json"
step resolved_keys 0 "grep -E '^  \"(load_scale|duration_s|drain_s)\"' resolved.json"
step resolved_reloads 0 'gpuslice compare "$REPO"/scenarios/quickstart.json --no-output --format csv --quiet > a.csv
gpuslice compare resolved.json --no-output --format csv --quiet > b.csv
cmp a.csv b.csv && echo identical'

# 2. A first comparison, its output name, and what protects it.
step compare 0 'gpuslice compare "$REPO"/scenarios/quickstart.json --format markdown --quiet'
step compare_again 2 'gpuslice compare "$REPO"/scenarios/quickstart.json --format markdown --quiet'
step compare_set 0 'gpuslice compare "$REPO"/scenarios/quickstart.json --set models.resnet50.slo_ms=150 --format csv --quiet > slo150.csv'
step compare_set_seed 0 'gpuslice compare "$REPO"/scenarios/quickstart.json --set models.resnet50.slo_ms=150 --seed 2 --format csv --quiet > slo150-seed2.csv'
step ls_results 0 'ls results'

# 3. Figures of that result.
R=results/quickstart-compare-seed1.h5
step plot_compare 0 "gpuslice plot $R -o figures/compare.png --size 10x4.2 --dpi 110"
step plot_cdf 0 "gpuslice plot $R -o figures/cdf.png --kind cdf --size 11x4.2 --dpi 110"
step plot_timeseries 0 "gpuslice plot $R -o figures/timeseries.png --kind timeseries --size 9x8.5 --dpi 100"

# 4. The result in pandas.
cp "$HERE/load_result.py" "$HERE/spec.json" "$HERE/ci_check.py" .
step pandas 0 'PYTHONPATH="$REPO"/tools/python /usr/bin/python3 load_result.py'

# 5. A sweep: 3 x 3 points x 3 policy runs x 5 seeds, run, run again, partly lost and resumed.
step sweep 0 'gpuslice sweep spec.json -o study -j 2 --json'
step sweep_again 0 'gpuslice sweep spec.json -o study -j 2 --json'
step sweep_folder 0 'ls study; ls study/runs | wc -l; ls study/runs | head -3'
step sweep_lost 0 'ls study/runs/*.json | head -10 | xargs rm
gpuslice sweep spec.json -o study -j 2 --json'
step runs_csv 0 'head -4 study/runs.csv | cut -d, -f1-5,9,10,16'
step summary_table 0 'PYTHONPATH="$REPO"/tools/python /usr/bin/python3 "$REPO"/docs/tutorial/summary_table.py study'
step ci_check 0 'PYTHONPATH="$REPO"/tools/python /usr/bin/python3 ci_check.py'
step plot_sweep 0 'gpuslice plot study -o figures/sweep.png --kind sweep --metric violation_rate --size 12x3.8 --dpi 100'

# 6. The same spec as a Slurm job array: the script, one task run here, the merge.
step slurm 0 'gpuslice sweep spec.json -o study-slurm --slurm --partition batch --time 0:20:00 --chunk-size 30'
step sbatch 0 'cat study-slurm/sweep.sbatch'
step slurm_task 0 'gpuslice sweep spec.json -o study-slurm --task 0 --chunk-size 30 -j 1'
step slurm_task_count 0 'ls study-slurm/runs | wc -l'
step slurm_merge_early 1 'gpuslice sweep spec.json -o study-slurm --merge'
step slurm_merge 0 'for k in 1 2 3 4; do gpuslice sweep spec.json -o study-slurm --task $k --chunk-size 30 -j 1 --quiet; done
gpuslice sweep spec.json -o study-slurm --merge --json'
step slurm_cmp 0 'cmp study/runs.csv study-slurm/runs.csv && cmp study/summary.csv study-slurm/summary.csv && echo identical'

# 7. Reproducing, and what to cite.
step rerun 0 "gpuslice rerun $R --no-output"
step provenance 0 "/usr/bin/python3 -c 'import h5py; a = h5py.File(\"$R\").attrs; [print(k, \"=\", a[k]) for k in (\"gpuslice_version\", \"git_commit\", \"schema_version\", \"command\")]'"

# The page and its figures.
# install -m 644: gpuslice plot leaves its figures readable by their owner only (mode 0600).
for f in compare cdf timeseries sweep; do install -m 644 "figures/$f.png" "$HERE/$f.png"; done
"$PYTHON" "$HERE/render.py" --template "$HERE/week-one.md.in" --output "$REPO/docs/week-one.md" \
  --work "$WORK" --repo "$REPO" --binary "$GPUSLICE_BIN"
echo "wrote docs/week-one.md and docs/tutorial/{compare,cdf,timeseries,sweep}.png in $((SECONDS - start)) s" >&2
