"""Fills docs/tutorial/week-one.md.in from a study run by regenerate.sh.

Placeholders:
  @@block:STEP[,STEP...]@@  a console block: each step's command ("$ " before each line), its
                            stdout, its stderr and, when not 0, its exit code (echo $?)
  @@stderr:STEP[,STEP...]@@ the same without stdout (shown elsewhere, e.g. as markdown)
  @@out:STEP@@              a step's stdout alone (for markdown it printed)
  @@file:NAME@@             a file of the study folder, as it is
  @@fact:NAME@@             a number or word read from the study's results (facts() below)
Absolute paths of the study folder and of the checkout are shown as $WORK and $REPO. A
placeholder with nothing to fill it, or a claim of the prose the results no longer support
(check() below), stops the script.
"""
import argparse
import json
import os
import re
import sys

import h5py
import pandas as pd


def main():
    ap = argparse.ArgumentParser()
    for name in ("template", "output", "work", "repo", "binary"):
        ap.add_argument("--" + name, required=True)
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(args.repo, "tools", "python"))
    capture = os.path.join(args.work, ".capture")

    def read(path):
        with open(path) as f:
            return f.read()

    def shown(text):
        for path, name in sorted([(args.work, "$WORK"), (args.repo, "$REPO")], key=lambda p: -len(p[0])):
            text = text.replace(os.path.realpath(path), name).replace(path, name)
        return text

    def step(name, part):
        path = os.path.join(capture, f"{name}.{part}")
        if not os.path.exists(path):
            raise SystemExit(f"render.py: no step {name!r} was run")
        return read(path)

    def block(names, stdout=True):
        lines = []
        for name in names.split(","):
            lines += ["$ " + line for line in step(name, "cmd").rstrip("\n").split("\n")]
            texts = (step(name, "out"), step(name, "err")) if stdout else (step(name, "err"),)
            lines += [t.rstrip("\n") for t in texts if t.strip()]
            rc = step(name, "rc").strip()
            if rc != "0":
                lines += ["$ echo $?", rc]
        return "```console\n" + shown("\n".join(lines)) + "\n```"

    known = facts(args.work)
    check(known)

    def fill(match):
        kind, name = match.group(1), match.group(2)
        if kind == "block":
            return block(name)
        if kind == "stderr":
            return block(name, stdout=False)
        if kind == "out":
            return shown(step(name, "out").rstrip("\n"))
        if kind == "file":
            return shown(read(os.path.join(args.work, name)).rstrip("\n"))
        if kind == "fact":
            if name not in known:
                raise SystemExit(f"render.py: no fact {name!r}")
            return str(known[name])
        raise SystemExit(f"render.py: unknown placeholder kind {kind!r}")

    page = re.sub(r"@@(block|stderr|out|file|fact):([A-Za-z0-9_.,-]+)@@", fill, read(args.template))
    left = re.findall(r"@@[^@\n]*@@", page)
    if left:
        raise SystemExit(f"render.py: placeholders left unfilled: {', '.join(left)}")
    tmp = args.output + ".tmp"
    with open(tmp, "w") as f:
        f.write(page)
    os.replace(tmp, args.output)


def pct(x, digits=1):
    return f"{100 * x:.{digits}f}%"


def ci(row, metric, digits=1):
    m, lo, hi = (row[f"{metric}_{k}"] for k in ("mean", "ci95_low", "ci95_high"))
    return f"{100 * m:.{digits}f}% (95% CI {100 * lo:.{digits}f} to {100 * hi:.{digits}f})"


SLO = "models.mobilenet_v3_large.slo_ms"
EARLY_S = 10  # kserve's violations are counted in the run's first EARLY_S seconds


def read_capture(work, name):
    with open(os.path.join(work, ".capture", f"{name}.out")) as f:
        return f.read().strip().split("\n")[0]


def facts(work):
    import gpuslice

    f = {}
    r = gpuslice.load(os.path.join(work, "results/quickstart-compare-seed1.h5"))
    with h5py.File(os.path.join(work, "results/quickstart-compare-seed1.h5")) as h:
        f["version"] = str(h.attrs["gpuslice_version"])
        f["commit"] = str(h.attrs["git_commit"])
    f["commit_short"] = f["commit"][:12] + ("-dirty" if f["commit"].endswith("-dirty") else "")
    f["dirty"] = ("It ends in `-dirty`: the binary that made this page was built from a working tree with "
                  "uncommitted changes, so the hash alone does not name the code that ran. Results for a "
                  "paper should come from a binary built at a clean commit."
                  if f["commit"].endswith("-dirty") else
                  "It has no `-dirty` suffix: the binary was built at that commit with no uncommitted changes.")

    s = r.summary
    all_ = s[s.model == "all"].set_index("run")
    f["runs"] = len(r.runs)
    with open(os.path.join(work, "resolved.json")) as j:
        scenario = json.load(j)
    mobilenet, resnet = scenario["models"]["mobilenet_v3_large"], scenario["models"]["resnet50"]
    f["outside_ms_mobilenet"] = f"{mobilenet['preprocess_ms'] + mobilenet['postprocess_ms'] + mobilenet['network_ms']:g}"
    f["slo_mobilenet"], f["slo_resnet"] = f"{mobilenet['slo_ms']:g}", f"{resnet['slo_ms']:g}"
    rates = [x for src in scenario["workload"] for x in src["rates_rps"]]
    f["stage_s"] = f"{scenario['workload'][0]['stage_s']:g}"
    f["rate_min"], f["rate_max"] = f"{min(rates):g}", f"{max(rates):g}"
    f["gpus"] = sum(n["count"] * n["gpus_per_node"] for n in scenario["cluster"]["nodes"])
    f["noise_cv"] = f"{scenario['executor']['noise']['cv']:g}"
    with open(os.path.join(work, "spec.json")) as j:
        spec = json.load(j)
    f["sweep_policies"] = len(spec["policies"])
    f["sweep_lost"] = json.loads(read_capture(work, "sweep_lost"))["ran"]
    with open(os.path.join(work, ".capture", "slurm.out")) as o, open(os.path.join(work, ".capture", "slurm.err")) as e:
        tasks = re.search(r"(\d+) array tasks", o.read() + e.read())
    f["slurm_other_tasks"] = int(tasks.group(1)) - 1
    f["early_s"] = EARLY_S
    f["requests"] = int(all_.arrived.iloc[0])
    f["simulated_s"] = f"{r.run_attrs(r.runs[0])['simulated_s']:.0f}"
    for run in r.runs:
        key = run.replace("-", "_")
        f[f"viol_{key}"] = pct(all_.violation_rate[run])
        f[f"fusd_{key}"] = f"{all_.fractional_usd[run]:.3f}"
        f[f"wusd_{key}"] = f"{all_.whole_usd[run]:.3f}"
        f[f"p99_{key}"] = f"{all_.latency_p99_ms[run]:.0f}"
        f[f"coldstarts_{key}"] = int(all_.cold_starts[run])
    f["cost_ratio_kserve_gpulet"] = f"{all_.whole_usd['kserve'] / all_.whole_usd['gpulet']:.1f}"

    t = r.timeseries
    k = t[t.run == "kserve"]
    f["kserve_violations"] = int(k.violations.sum())
    f["kserve_violations_early"] = int(k[k.t_s < EARLY_S].violations.sum())
    a = r.actions
    ready = a[(a.run == "kserve") & (a.kind == "ready")].t_s
    f["kserve_first_ready_s"] = f"{ready.min():g}"
    f["kserve_queue_peak"] = int(k.queue_length.max())
    f["kserve_queue_peak_s"] = f"{k.t_s[k.queue_length.idxmax()]:g}"

    sweep = gpuslice.load(os.path.join(work, "study"))
    sm = sweep.summary
    runs = sweep.runs

    def at(df, load, slo, policy):
        return df[(df.load_scale == load) & (df[SLO] == slo) & (df.policy == policy)]

    f["sweep_runs"] = len(runs)
    f["sweep_points"] = len(sm[sm.policy == sm.policy.iloc[0]])
    f["seeds"] = ", ".join(str(x) for x in sorted(runs.seed.unique()))
    f["n_seeds"] = runs.seed.nunique()
    f["t_df"] = f["n_seeds"] - 1
    loads, slos = spec["grid"]["load_scale"], spec["grid"][SLO]
    first = min(runs.seed)
    f["seed_first"] = first
    for i, load in enumerate(loads):
        f[f"load{i}"] = f"{load:g}"
    for j, slo in enumerate(slos):
        f[f"slo{j}"] = f"{slo:g}"
    for i, load in enumerate(loads):
        for j, slo in enumerate(slos):
            row = at(sm, load, slo, "has-gpu").iloc[0]
            f[f"hg_{i}_{j}"] = ci(row, "violation_rate")
            f[f"hg_{i}_{j}_mean"] = pct(row.violation_rate_mean)
    # gpulet at the lowest load and the tightest SLO: one seed against all of them.
    g = at(runs, loads[0], slos[0], "gpulet").set_index("seed")
    gl = at(sm, loads[0], slos[0], "gpulet").iloc[0]
    f["gl"] = ci(gl, "violation_rate", 2)
    f["gl_first_seed"] = pct(g.violation_rate[first], 2)
    f["gl_zero_seeds"] = int((g.violation_rate == 0).sum())
    bad = g[g.violation_rate > 0]
    f["gl_bad_seeds"] = " and ".join(str(s) for s in bad.index)
    f["gl_bad_rates"] = " and ".join(pct(v, 1) for v in bad.violation_rate)
    f["gl_bad_max_s"] = " and ".join(f"{v / 1000:.0f} s" for v in bad.latency_max_ms)
    kv = sm[sm.policy == "kserve"].violation_rate_mean
    f["kserve_sweep_min"], f["kserve_sweep_max"] = pct(kv.min(), 2), pct(kv.max(), 2)
    f["gpu_s_kserve_1"] = f"{at(sm, loads[1], slos[0], 'kserve').iloc[0].fractional_gpu_s_mean:.0f}"
    f["gpu_s_gpulet_1"] = f"{at(sm, loads[1], slos[0], 'gpulet').iloc[0].fractional_gpu_s_mean:.0f}"
    hg = [at(sm, load, slos[0], "has-gpu").iloc[0] for load in loads]
    f["_check"] = dict(
        grid=(len(loads) == 3 and loads[0] < loads[1] == 1 < loads[2] and len(slos) == 3 and slos[0] == mobilenet["slo_ms"]),
        hg=[row.violation_rate_mean for row in hg],
        hg_ci=[(row.violation_rate_ci95_low, row.violation_rate_ci95_high) for row in hg],
        gl_first=g.violation_rate[first], gl_bad=len(bad), gl_ci_low=gl.violation_rate_ci95_low,
        kserve_violations=(f["kserve_violations"], f["kserve_violations_early"]),
        viol={run: all_.violation_rate[run] for run in r.runs},
        whole_gpu_s={run: all_.whole_gpu_s[run] for run in r.runs}, simulated_s=r.run_attrs(r.runs[0])["simulated_s"],
    )
    return f


def check(f):
    """The prose's claims, as the template makes them; a failure means the template needs
    editing, not the results."""
    c = f.pop("_check")
    claims = [
        ("the spec's loads are low, nominal (1) and high, and its first SLO the scenario's",  c["grid"]),
        ("has-gpu's violations at the first SLO fall from the low to the nominal load and rise again at the high one",
         c["hg"][1] < c["hg"][0] and c["hg"][1] < c["hg"][2]),
        ("has-gpu's low-load and nominal-load intervals at the first SLO do not overlap", c["hg_ci"][1][1] < c["hg_ci"][0][0]),
        ("gpulet has no violation at the low load, first SLO and first seed, and some at other seeds",
         c["gl_first"] == 0 and c["gl_bad"] >= 1),
        ("the gpulet interval at the low load and first SLO reaches below zero", c["gl_ci_low"] < 0),
        ("all of kserve's violations in the compare are in its first EARLY_S s",
         c["kserve_violations"][0] == c["kserve_violations"][1] > 0),
        ("in the compare, gpulet has no violation and fast-gshare the most",
         c["viol"]["gpulet"] == 0 and max(c["viol"], key=c["viol"].get) == "fast-gshare"),
        ("the fractional policies hold one whole GPU for the whole run",
         all(abs(c["whole_gpu_s"][r] - c["simulated_s"]) < 1 for r in ("has-gpu", "gpulet", "slices", "fast-gshare"))),
    ]
    wrong = [text for text, ok in claims if not ok]
    if wrong:
        raise SystemExit("render.py: the results no longer show what the page says; edit week-one.md.in:\n  "
                         + "\n  ".join(wrong))


if __name__ == "__main__":
    main()
