#!/usr/bin/python3
"""End-to-end tests of the research workflow (issue 14): sweep, compare, rerun, validate and
--load-scale, driven through the gpuslice binary.

Usage: workflow_test.py GPUSLICE SOURCE_DIR

Every expected value is computed here, independently of the program: confidence intervals
from runs.csv with a Student-t table written below, arrival counts against Poisson bounds,
file names from the documented pattern, policy defaults from a table in this file (checked
against docs/policies.md), run orders from the scenario file read with Python's json.
"""
import csv
import glob
import hashlib
import io
import itertools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import h5py
import numpy as np

BINARY = None
SOURCE = None

# Two-sided 95% Student-t quantiles t_{0.975, df}, to 6 decimals (printed tables); the test
# uses t975(df), which solves P(|T| < t) = 0.95 exactly with the closed-form CDF and is checked
# against this table.
T975_TABLE = {1: 12.706205, 2: 4.302653, 3: 3.182446, 4: 2.776445, 5: 2.570582,
              6: 2.446912, 7: 2.364624, 8: 2.306004, 9: 2.262157}


def t_abs_cdf(t, df):
    """P(|T| < t) for Student's t with an integer df (Abramowitz & Stegun 26.7.3-4)."""
    theta = math.atan(t / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for k in range(1, df // 2):
            term *= c2 * (2 * k - 1) / (2 * k)
            total += term
        return math.sin(theta) * total
    total = theta
    if df > 1:
        term, series = 1.0, 1.0
        for k in range(1, (df - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            series += term
        total += math.sin(theta) * math.cos(theta) * series
    return 2 / math.pi * total


def t975(df):
    lo, hi = 0.0, 100.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_abs_cdf(mid, df) < 0.95:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# docs/policies.md: whole-gpu defaults that do not depend on other keys.
WHOLE_GPU_DEFAULTS = {
    "target_utilization": 0.7,
    "tick_s": 2,
    "stable_window_s": 60,
    "panic_window_percent": 10,
    "panic_threshold_percent": 200,
    "max_scale_up_rate": 1000,
    "max_scale_down_rate": 2,
    "scale_to_zero_grace_period_s": 30,
    "autoscaling": True,
    "warm_start": False,
    "activator_buffer_limit": 0,
}

GRID_LOAD = [0.5, 1, 1.5]
GRID_SLO = [150, 200, 250]
POLICIES = ["kserve", "has-gpu", "slices"]
SEEDS = [1, 2, 3, 4, 5]  # "seeds": 5 from the quickstart's seed 1
PARAMS = ["load_scale", "models.resnet50.slo_ms"]


def quickstart():
    return os.path.join(SOURCE, "scenarios", "quickstart.json")


def gpuslice(args, cwd=None, timeout=240):
    return subprocess.run([BINARY] + [str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
    return path


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def stored_files(folder):
    """{name: (inode, mtime_ns, sha256)} of every file in folder/runs."""
    out = {}
    for p in sorted(glob.glob(os.path.join(folder, "runs", "*"))):
        st = os.stat(p)
        out[os.path.basename(p)] = (st.st_ino, st.st_mtime_ns, hashlib.sha256(read_bytes(p)).hexdigest())
    return out


def close(a, b, scale):
    """a == b to 1e-9 relative to `scale` (exactly when scale is 0)."""
    return abs(a - b) <= 1e-9 * abs(scale)


def mean_ci(values):
    n = len(values)
    m = sum(values) / n
    if n < 2:
        return m, m, m, 0.0
    s = math.sqrt(sum((x - m) ** 2 for x in values) / (n - 1))
    half = t975(n - 1) * s / math.sqrt(n)
    return m, m - half, m + half, half


def spec_obj(scenario, extra_set=None, slo=GRID_SLO, load=GRID_LOAD):
    spec = {"scenario": scenario, "policies": POLICIES, "seeds": len(SEEDS),
            "grid": {"load_scale": load, "models.resnet50.slo_ms": slo}}
    if extra_set:
        spec["set"] = extra_set
    return spec


# A slower version of the same sweep (the quickstart's stages 4x longer: ~1000 s simulated),
# so that it can be interrupted while it runs.
SLOW_SET = {"workload.0.stage_s": 20, "workload.1.stage_s": 20}


class Base(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="gpuslice-wf-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def assert_error(self, proc, code, *needles):
        self.assertEqual(proc.returncode, code, proc.stdout + proc.stderr)
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].startswith("gpuslice: error: "), lines[0])
        for n in needles:
            self.assertIn(n, lines[0])
        return lines[0]

    def sweep_json(self, proc):
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads(proc.stdout.strip().splitlines()[-1])


class StudentT(unittest.TestCase):
    def test_quantiles_match_the_table(self):
        for df, t in T975_TABLE.items():
            self.assertAlmostEqual(t975(df), t, delta=6e-7, msg=df)
            self.assertAlmostEqual(t_abs_cdf(t975(df), df), 0.95, delta=1e-15)


class SweepAcceptance(unittest.TestCase):
    """Issue 14's acceptance sweep: 2 parameters x 3 values x 5 seeds x 3 policies on 2 cores."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="gpuslice-wf-sweep-")
        cls.tmp = cls._tmp.name
        # The scenario relative to the spec file.
        cls.spec = write_json(os.path.join(cls.tmp, "study.json"),
                              spec_obj(os.path.relpath(quickstart(), cls.tmp)))
        cls.dir = os.path.join(cls.tmp, "study")
        cls.proc = gpuslice(["sweep", cls.spec, "-o", cls.dir, "-j", "2", "--json"])
        if cls.proc.returncode == 0:
            cls.runs_header, cls.runs_rows = read_csv(os.path.join(cls.dir, "runs.csv"))
            cls.summary_header, cls.summary_rows = read_csv(os.path.join(cls.dir, "summary.csv"))

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def setUp(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)

    def metric_columns(self):
        return self.runs_header[5:]

    def test_json_counts(self):
        out = json.loads(self.proc.stdout.strip().splitlines()[-1])
        self.assertEqual(out["points"], 9)
        self.assertEqual(out["runs"], 135)
        files = glob.glob(os.path.join(self.dir, "runs", "*.json"))
        distinct = len({r[4] for r in self.runs_rows})
        self.assertEqual(distinct, 135)  # every (point, policy, seed) is a different scenario
        self.assertEqual(len(files), distinct)
        self.assertEqual(out["ran"] + out["skipped"], distinct)
        self.assertEqual(out["ran"], distinct)  # a fresh folder

    def test_runs_csv(self):
        self.assertEqual(self.runs_header[:5], PARAMS + ["policy", "seed", "key"])
        metrics = self.metric_columns()
        for m in ["arrived", "completed", "violations", "violation_rate", "slo_attainment", "throughput_rps",
                  "latency_p50_ms", "latency_p99_ms", "cold_starts", "whole_gpu_s", "fractional_gpu_s"]:
            self.assertIn(m, metrics)
        self.assertEqual(len(metrics), len(set(metrics)))
        self.assertEqual(len(self.runs_rows), 135)
        got = [(float(r[0]), float(r[1]), r[2], int(r[3])) for r in self.runs_rows]
        # The grid's product, the last parameter fastest, then policies, then seeds.
        want = [(float(l), float(s), p, seed) for l, s, p, seed in itertools.product(GRID_LOAD, GRID_SLO, POLICIES, SEEDS)]
        self.assertEqual(got, want)
        for r in self.runs_rows:
            self.assertEqual(len(r), len(self.runs_header))
            self.assertRegex(r[4], r"^[0-9a-f]{16}$")
            for v in r[5:]:
                self.assertTrue(math.isfinite(float(v)), r)
            row = dict(zip(self.runs_header, r))
            arrived, completed = float(row["arrived"]), float(row["completed"])
            self.assertGreater(arrived, 0)
            self.assertLessEqual(completed, arrived)
            self.assertLessEqual(float(row["violations"]), arrived)
            self.assertTrue(0 <= float(row["violation_rate"]) <= 1)
            self.assertTrue(os.path.isfile(os.path.join(self.dir, "runs", r[4] + ".json")))

    def test_runs_agree_with_single_runs(self):
        # A few rows against `gpuslice run` of the same point, policy and seed: another path
        # through the program (--load-scale, --set, --seed) to the same simulation.
        name = {"arrived": ("arrived",), "completed": ("completed",), "violations": ("violations",),
                "latency_p99_ms": ("latency_ms", "p99"), "whole_gpu_s": ("cost", "whole_gpu_s"),
                "throughput_rps": ("throughput_rps",)}
        for index in (0, 67, 134):
            row = dict(zip(self.runs_header, self.runs_rows[index]))
            out = os.path.join(self.tmp, "single-%d.json" % index)
            p = gpuslice(["run", quickstart(), "--policy", row["policy"], "--seed", row["seed"],
                          "--load-scale", row["load_scale"], "--set", "models.resnet50.slo_ms=" + row["models.resnet50.slo_ms"],
                          "--no-output", "--quiet", "--summary-json", out])
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(out) as f:
                overall = json.load(f)["runs"][0]["overall"]
            for metric, path in name.items():
                v = overall
                for k in path:
                    v = v[k]
                self.assertEqual(float(row[metric]), float(v), (index, metric))

    def test_summary_ci(self):
        metrics = self.metric_columns()
        want_header = PARAMS + ["policy", "seeds"] + [
            "%s_%s" % (m, s) for m in metrics for s in ("mean", "ci95_low", "ci95_high")]
        self.assertEqual(self.summary_header, want_header)
        self.assertEqual(len(self.summary_rows), 27)
        groups = {}
        for r in self.runs_rows:
            groups.setdefault((r[0], r[1], r[2]), []).append(r)
        self.assertEqual(len(groups), 27)
        checked = 0
        nonzero_width = 0
        for s in self.summary_rows:
            key = (s[0], s[1], s[2])
            self.assertIn(key, groups)
            runs = groups.pop(key)
            self.assertEqual(int(s[3]), len(runs))
            self.assertEqual(len(runs), 5)
            row = dict(zip(self.summary_header, s))
            for j, m in enumerate(metrics):
                values = [float(r[5 + j]) for r in runs]
                mean, low, high, half = mean_ci(values)
                scale = max(abs(mean), half)
                got_mean, got_low, got_high = (float(row[m + "_mean"]), float(row[m + "_ci95_low"]),
                                               float(row[m + "_ci95_high"]))
                self.assertTrue(close(got_mean, mean, scale), (key, m, got_mean, mean))
                self.assertTrue(close(got_low, low, scale), (key, m, got_low, low))
                self.assertTrue(close(got_high, high, scale), (key, m, got_high, high))
                checked += 1
                if half > 0:
                    nonzero_width += 1
        self.assertEqual(groups, {})
        self.assertEqual(checked, 27 * len(metrics))
        self.assertGreater(nonzero_width, 27)  # the seeds do differ: the t quantile is exercised

    def test_sweep_h5(self):
        with h5py.File(os.path.join(self.dir, "sweep.h5"), "r") as f:
            self.assertEqual(json.loads(f.attrs["parameters"]), PARAMS)
            for group, header, rows in (("runs", self.runs_header, self.runs_rows),
                                        ("summary", self.summary_header, self.summary_rows)):
                g = f[group]
                self.assertEqual(set(g.keys()), set(header))
                for j, col in enumerate(header):
                    data = g[col][()]
                    self.assertEqual(len(data), len(rows), (group, col))
                    for i, r in enumerate(rows):
                        v = data[i]
                        if isinstance(v, bytes):
                            v = v.decode()
                        if col in ("policy", "key"):
                            self.assertEqual(v, r[j], (group, col, i))
                        else:
                            self.assertEqual(float(v), float(r[j]), (group, col, i))

    def test_arrivals_scale_with_load(self):
        col = self.runs_header.index("arrived")
        arrived = {}
        for r in self.runs_rows:
            arrived.setdefault((float(r[0]), r[2], r[3]), []).append(float(r[col]))
        for policy in POLICIES:
            for seed in SEEDS:
                base = sum(arrived[(0.5, policy, str(seed))]) / 3
                for scale in (1.0, 1.5):
                    ratio = sum(arrived[(scale, policy, str(seed))]) / 3 / base
                    self.assertTrue(abs(ratio - scale / 0.5) <= 0.1 * scale / 0.5, (policy, seed, scale, ratio))


class SweepResume(Base):
    """Ctrl-C, resume with nothing recomputed, and a changed grid value."""

    def start_and_interrupt(self, spec, folder):
        p = subprocess.Popen([BINARY, "sweep", spec, "-o", folder, "-j", "2", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while p.poll() is None and time.time() < deadline:
            if glob.glob(os.path.join(folder, "runs", "*.json")):
                break
            time.sleep(0.002)
        self.assertIsNone(p.poll(), "the sweep ended before any run was stored and it could be interrupted")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=120)
        return p.returncode, out, err

    def test_interrupt_resume_and_change(self):
        spec_obj_ = spec_obj(quickstart(), SLOW_SET)
        spec = write_json(os.path.join(self.tmp, "slow.json"), spec_obj_)
        folder = os.path.join(self.tmp, "a")
        rc, out, err = self.start_and_interrupt(spec, folder)
        self.assertEqual(rc, 130, out + err)
        self.assertIn("interrupted", err)
        self.assertEqual(out.strip(), "")
        for table in ("runs.csv", "summary.csv", "sweep.h5"):
            self.assertFalse(os.path.exists(os.path.join(folder, table)), table)
        before = stored_files(folder)
        self.assertGreater(len(before), 0)
        self.assertLess(len(before), 135, "every run was stored: the interrupt came too late to test resuming")
        for name in before:  # only whole records: no temporaries left, each file its key's
            self.assertTrue(name.endswith(".json"), name)
            with open(os.path.join(folder, "runs", name)) as f:
                record = json.load(f)
            self.assertEqual(record["key"] + ".json", name)
            self.assertIn(record["policy"], POLICIES)

        p = gpuslice(["sweep", spec, "-o", folder, "-j", "2", "--json"])
        res = self.sweep_json(p)
        self.assertEqual(res["skipped"], len(before))
        self.assertEqual(res["ran"], 135 - len(before))
        after = stored_files(folder)
        self.assertEqual(len(after), 135)
        for name, st in before.items():
            self.assertEqual(after[name], st, "a stored run was recomputed or rewritten: " + name)

        # The same spec, uninterrupted, in another folder: the same tables byte for byte.
        ref = os.path.join(self.tmp, "ref")
        spec2 = write_json(os.path.join(self.tmp, "slow-copy.json"), spec_obj_)
        res2 = self.sweep_json(gpuslice(["sweep", spec2, "-o", ref, "-j", "2", "--json"]))
        self.assertEqual((res2["ran"], res2["skipped"]), (135, 0))
        for table in ("runs.csv", "summary.csv"):
            self.assertEqual(read_bytes(os.path.join(folder, table)), read_bytes(os.path.join(ref, table)), table)
        self.assertEqual(sorted(os.listdir(os.path.join(ref, "runs"))), sorted(after))

        # Change one grid value: only the points with the new value run; nothing is overwritten.
        changed = spec_obj(quickstart(), SLOW_SET, slo=[150, 200, 300])
        spec3 = write_json(os.path.join(self.tmp, "slow-changed.json"), changed)
        res3 = self.sweep_json(gpuslice(["sweep", spec3, "-o", folder, "-j", "2", "--json"]))
        new_runs = len(GRID_LOAD) * 1 * len(POLICIES) * len(SEEDS)
        self.assertEqual(res3["ran"], new_runs)
        self.assertEqual(res3["skipped"], 135 - new_runs)
        final = stored_files(folder)
        self.assertEqual(len(final), 135 + new_runs)
        for name, st in after.items():
            self.assertEqual(final[name], st, "a stored run was rewritten: " + name)
        header, rows = read_csv(os.path.join(folder, "runs.csv"))
        self.assertEqual(sorted({float(r[1]) for r in rows}), [150.0, 200.0, 300.0])
        # The 250 runs are still stored; the 150 and 200 rows are the reference's rows.
        _, ref_rows = read_csv(os.path.join(ref, "runs.csv"))
        self.assertEqual([r for r in rows if float(r[1]) != 300], [r for r in ref_rows if float(r[1]) != 250])

        # A value written differently that resolves to the same scenario (1.0 for 1) runs nothing.
        same = spec_obj(quickstart(), SLOW_SET, load=[0.5, 1.0, 1.5])
        spec4 = write_json(os.path.join(self.tmp, "slow-float.json"), same)
        res4 = self.sweep_json(gpuslice(["sweep", spec4, "-o", folder, "-j", "2", "--json"]))
        self.assertEqual((res4["ran"], res4["skipped"]), (0, 135))
        self.assertEqual(stored_files(folder), final)


class SweepErrors(Base):
    def spec_error(self, spec, *needles):
        path = write_json(os.path.join(self.tmp, "bad.json"), spec)
        folder = os.path.join(self.tmp, "out")
        p = gpuslice(["sweep", path, "-o", folder, "-j", "2"])
        line = self.assert_error(p, 2, path, *needles)
        self.assertFalse(os.path.exists(folder), "an invalid spec left a folder: " + line)
        return line

    def test_spec_errors(self):
        q = quickstart()
        self.spec_error({"scenario": q, "grid": {"load_scale": [1]}, "bogus": 1}, "bogus")
        self.spec_error({"scenario": q, "grid": {"load_scale": []}}, "load_scale")
        self.spec_error({"scenario": q, "grid": {"load_scale": [1, 2, 1]}}, "load_scale")
        self.spec_error({"scenario": q, "grid": {"seed": [1, 2]}}, "seed")
        self.spec_error({"scenario": q, "set": {"seed": 3}}, "seed")
        self.spec_error({"scenario": os.path.join(self.tmp, "missing.json")}, "missing.json")
        self.spec_error({"scenario": "missing.json"}, "missing.json")
        self.spec_error({"scenario": q, "policies": ["no-such-run"]}, "no-such-run")
        self.spec_error({"scenario": q, "seeds": 0}, "seeds")
        line = self.spec_error({"scenario": q, "grid": {"load_scale": [0.5], "models.resnet50.slo_ms": [200, -1]}},
                               "models.resnet50.slo_ms=-1")
        self.assertIn("load_scale=0.5", line)
        self.assertNotIn("slo_ms=200", line)
        self.spec_error({"scenario": q, "grid": {"load_scale": [1, 0]}}, "load_scale=0")
        # Not JSON at all.
        path = os.path.join(self.tmp, "broken.json")
        with open(path, "w") as f:
            f.write('{"scenario": ')
        self.assert_error(gpuslice(["sweep", path, "-o", os.path.join(self.tmp, "o2")]), 2, path)

    def test_submit_needs_slurm(self):
        spec = write_json(os.path.join(self.tmp, "s.json"), {"scenario": quickstart()})
        self.assert_error(gpuslice(["sweep", spec, "-o", os.path.join(self.tmp, "o"), "--submit"]), 2, "--slurm")

    def test_merge_slurm_and_task(self):
        spec_path = write_json(os.path.join(self.tmp, "study.json"), spec_obj(quickstart()))
        full = os.path.join(self.tmp, "full")
        self.sweep_json(gpuslice(["sweep", spec_path, "-o", full, "-j", "2", "--json"]))
        _, rows = read_csv(os.path.join(full, "runs.csv"))
        keys = [r[4] for r in rows]

        # --merge with runs missing: exit 1, naming the count and the first missing run.
        part = os.path.join(self.tmp, "part")
        shutil.copytree(os.path.join(full, "runs"), os.path.join(part, "runs"))
        for k in (keys[100], keys[10]):
            os.remove(os.path.join(part, "runs", k + ".json"))
        p = gpuslice(["sweep", spec_path, "-o", part, "--merge", "--json"])
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("2 of 135", p.stderr)
        self.assertIn(keys[10], p.stderr)
        self.assertFalse(os.path.exists(os.path.join(part, "runs.csv")))
        self.assertEqual(len(glob.glob(os.path.join(part, "runs", "*.json"))), 133)  # --merge runs nothing
        # With every run back, --merge builds the same tables and runs nothing.
        for k in (keys[100], keys[10]):
            shutil.copy(os.path.join(full, "runs", k + ".json"), os.path.join(part, "runs"))
        res = self.sweep_json(gpuslice(["sweep", spec_path, "-o", part, "--merge", "--json"]))
        self.assertEqual((res["ran"], res["skipped"]), (0, 135))
        for table in ("runs.csv", "summary.csv"):
            self.assertEqual(read_bytes(os.path.join(full, table)), read_bytes(os.path.join(part, table)), table)

        # A stored run edited by hand, or cut off, is refused with its path; nothing replaces it.
        victim = os.path.join(part, "runs", keys[5] + ".json")
        with open(victim) as f:
            record = json.load(f)
        record["scenario"]["models"]["resnet50"]["slo_ms"] = 999
        write_json(victim, record)
        edited = read_bytes(victim)
        self.assert_error(gpuslice(["sweep", spec_path, "-o", part, "--merge"]), 2, victim)
        self.assert_error(gpuslice(["sweep", spec_path, "-o", part, "-j", "2"]), 2, victim)
        self.assertEqual(read_bytes(victim), edited)
        with open(victim, "wb") as f:
            f.write(read_bytes(os.path.join(full, "runs", keys[5] + ".json"))[:100])
        self.assert_error(gpuslice(["sweep", spec_path, "-o", part, "-j", "2"]), 2, victim)

        # --slurm: a job array with ceil(distinct runs / chunk size) tasks; nothing runs.
        for chunk in (None, 7, 135, 200):
            folder = os.path.join(self.tmp, "slurm-%s" % chunk)
            args = ["sweep", spec_path, "-o", folder, "--slurm"] + (["--chunk-size", chunk] if chunk else [])
            p = gpuslice(args)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(folder, "sweep.sbatch")) as f:
                script = f.read()
            m = re.search(r"^#SBATCH\s+(?:--array=|-a\s*)0-(\d+)\s*$", script, re.M)
            self.assertIsNotNone(m, script)
            self.assertEqual(int(m.group(1)) + 1, math.ceil(135 / (chunk or 10)), chunk)
            self.assertEqual(glob.glob(os.path.join(folder, "runs", "*.json")), [])
            self.assertFalse(os.path.exists(os.path.join(folder, "runs.csv")))

        # --task K runs chunk K of the distinct runs in plan order: the last chunk of 10 is 5 runs.
        folder = os.path.join(self.tmp, "task")
        p = gpuslice(["sweep", spec_path, "-o", folder, "--task", "13"])
        self.assertEqual(p.returncode, 0, p.stderr)
        got = sorted(os.path.basename(x)[:-5] for x in glob.glob(os.path.join(folder, "runs", "*.json")))
        self.assertEqual(got, sorted(keys[130:]))
        for k in got:
            self.assertEqual(json.loads(read_bytes(os.path.join(folder, "runs", k + ".json")))["summary"],
                             json.loads(read_bytes(os.path.join(full, "runs", k + ".json")))["summary"])
        self.assert_error(gpuslice(["sweep", spec_path, "-o", folder, "--task", "14"]), 2, "--task 14")


class Compare(Base):
    def scenario_runs(self):
        with open(quickstart()) as f:
            return list(json.load(f)["policies"].keys())

    def test_jobs_do_not_change_results(self):
        a, b = os.path.join(self.tmp, "j1.json"), os.path.join(self.tmp, "j2.json")
        for jobs, out in (("1", a), ("2", b)):
            p = gpuslice(["compare", quickstart(), "-j", jobs, "--no-output", "--quiet", "--summary-json", out])
            self.assertEqual(p.returncode, 0, p.stderr)
        ta = read_bytes(a)
        self.assertEqual(ta, read_bytes(b))
        names = [r["name"] for r in json.loads(ta)["runs"]]
        self.assertEqual(names, self.scenario_runs())

    def test_default_names_and_force(self):
        cwd = os.path.join(self.tmp, "cwd")
        os.mkdir(cwd)
        q = quickstart()
        base = ["compare", q, "--quiet", "--format", "csv"]
        p = gpuslice(base, cwd=cwd)
        self.assertEqual(p.returncode, 0, p.stderr)
        first = os.path.join(cwd, "results", "quickstart-compare-seed1.h5")
        self.assertTrue(os.path.isfile(first), os.listdir(cwd))
        st = os.stat(first)
        digest = hashlib.sha256(read_bytes(first)).hexdigest()
        time.sleep(0.02)
        p = gpuslice(base, cwd=cwd)
        self.assert_error(p, 2, "quickstart-compare-seed1.h5", "--force")
        st2 = os.stat(first)
        self.assertEqual((st2.st_ino, st2.st_mtime_ns), (st.st_ino, st.st_mtime_ns))
        self.assertEqual(hashlib.sha256(read_bytes(first)).hexdigest(), digest)
        p = gpuslice(base + ["--force"], cwd=cwd)
        self.assertEqual(p.returncode, 0, p.stderr)
        st3 = os.stat(first)
        self.assertNotEqual((st3.st_ino, st3.st_mtime_ns), (st.st_ino, st.st_mtime_ns))

        before = set(os.listdir(os.path.join(cwd, "results")))
        self.assertEqual(gpuslice(base + ["--seed", "7"], cwd=cwd).returncode, 0)
        self.assertEqual(set(os.listdir(os.path.join(cwd, "results"))) - before, {"quickstart-compare-seed7.h5"})
        made = {}
        for extra in (["--set", "models.resnet50.slo_ms=150"], ["--set", "models.resnet50.slo_ms=160"],
                      ["--load-scale", "2"], ["--policies", "kserve"]):
            before = set(os.listdir(os.path.join(cwd, "results")))
            p = gpuslice(base + extra, cwd=cwd)
            self.assertEqual(p.returncode, 0, p.stderr)
            new = set(os.listdir(os.path.join(cwd, "results"))) - before
            self.assertEqual(len(new), 1, (extra, new))
            name = new.pop()
            self.assertRegex(name, r"^quickstart-compare-seed1-[0-9a-f]{4,}\.h5$")
            made[tuple(extra)] = name
        self.assertEqual(len(set(made.values())), 4)  # a subset of the runs is named apart too
        # The same --set again is the same name: refused.
        self.assert_error(gpuslice(base + ["--set", "models.resnet50.slo_ms=150"], cwd=cwd), 2,
                          made[("--set", "models.resnet50.slo_ms=150")])

        # `run`: the run's name in place of "compare".
        p = gpuslice(["run", q, "--policy", "slices", "--quiet", "--format", "csv"], cwd=cwd)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.isfile(os.path.join(cwd, "results", "quickstart-slices-seed1.h5")))

    def test_formats(self):
        names = self.scenario_runs()
        q = quickstart()
        ref = os.path.join(self.tmp, "ref.json")
        p = gpuslice(["compare", q, "--no-output", "--quiet", "--format", "csv", "--summary-json", ref])
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(ref) as f:
            ref_runs = json.load(f)["runs"]
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        self.assertEqual([r["run"] for r in rows], names)
        for r, s in zip(rows, ref_runs):
            self.assertEqual(int(float(r["arrived"])), s["overall"]["arrived"])
            self.assertEqual(int(float(r["violations"])), s["overall"]["violations"])
            self.assertEqual(r["policy"], s["policy"])

        p = gpuslice(["compare", q, "--no-output", "--quiet", "--format", "json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        self.assertEqual([r["name"] for r in doc["runs"]], names)
        self.assertEqual([r["overall"] for r in doc["runs"]], [r["overall"] for r in ref_runs])

        p = gpuslice(["compare", q, "--no-output", "--quiet", "--format", "markdown"])
        self.assertEqual(p.returncode, 0, p.stderr)
        table = [l for l in p.stdout.splitlines() if l.startswith("|")]
        self.assertEqual(len(table), 2 + len(names), p.stdout)
        self.assertRegex(table[1], r"^\|(\s*:?-+:?\s*\|)+$")
        widths = {l.count("|") for l in table}
        self.assertEqual(len(widths), 1, p.stdout)
        self.assertEqual([l.split("|")[1].strip() for l in table[2:]], names)

        p = gpuslice(["compare", q, "--no-output", "--quiet", "--format", "nope"])
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("nope", p.stderr)

    def test_interrupt_keeps_finished_runs(self):
        # Three runs one at a time, each about 1 s; Ctrl-C once the first has finished.
        out = os.path.join(self.tmp, "int.h5")
        runs = ["kserve", "has-gpu", "slices"]
        p = subprocess.Popen([BINARY, "compare", quickstart(), "--policies", ",".join(runs), "-j", "1",
                              "--set", "workload.0.stage_s=600", "--set", "workload.1.stage_s=600",
                              "-o", out, "--format", "csv"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        finished = []
        err_lines = []
        while True:
            line = p.stderr.readline()
            if not line:
                break
            err_lines.append(line)
            m = re.match(r"^\s+([\w-]+): \d+ requests", line)
            if m:
                finished.append(m.group(1))
                p.send_signal(signal.SIGINT)
                break
        rest_out, rest_err = p.communicate(timeout=120)
        err = "".join(err_lines) + rest_err
        self.assertEqual(len(finished), 1, err)
        self.assertEqual(p.returncode, 130, err)
        # The finished runs are those reported on stderr (a run may end while the signal arrives).
        finished += re.findall(r"^\s+([\w-]+): \d+ requests", rest_err, re.M)
        self.assertLess(len(finished), len(runs), "every run finished before the interrupt")
        with h5py.File(out, "r") as f:
            self.assertEqual(sorted(f["runs"].keys()), sorted(finished))
            self.assertEqual(float(f.attrs["interrupted"]), 1.0)
            order = json.loads(f.attrs["run_order"])
            self.assertEqual(order, [r for r in runs if r in finished])
        rows = list(csv.DictReader(io.StringIO(rest_out)))
        self.assertEqual([r["run"] for r in rows], [r for r in runs if r in finished])
        # What was kept is a whole result: its runs repeat exactly.
        p = gpuslice(["rerun", out, "--no-output"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(re.findall(r"(?m)^([\w-]+): reproduced", p.stdout), [r for r in runs if r in finished])


def stored_text(group, key):
    """A run's stored text (scenario_json, summary_json): a dataset of UTF-8 bytes (docs/hdf5.md)."""
    return group[key][()].tobytes().decode("utf-8")


def whole_gpu_doc_defaults():
    """The whole-gpu table of docs/policies.md: {key: default text}."""
    with open(os.path.join(SOURCE, "docs", "policies.md")) as f:
        text = f.read()
    section = text.split("## `whole-gpu`", 1)[1].split("\n## ", 1)[0]
    out = {}
    for m in re.finditer(r"^\| `(\w+)` \| ([^|]+?) \|", section, re.M):
        out[m.group(1)] = m.group(2).strip()
    return out


class Provenance(Base):
    def test_rerun_defaults_and_tamper(self):
        cwd = os.path.join(self.tmp, "cwd")
        os.mkdir(cwd)
        result = os.path.join(cwd, "r.h5")
        argv = [BINARY, "compare", quickstart(), "-o", result, "--quiet", "--format", "csv"]
        p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(quickstart()) as f:
            source = json.load(f)
        names = list(source["policies"].keys())

        # A different cwd for the rerun: the stored scenario stands alone.
        other = os.path.join(self.tmp, "elsewhere")
        os.mkdir(other)
        p = gpuslice(["rerun", result, "--no-output"], cwd=other)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for n in names:
            self.assertRegex(p.stdout, r"(?m)^%s: reproduced" % re.escape(n))
        self.assertNotIn("DIFFERS", p.stdout)
        self.assertEqual(os.listdir(other), [])  # --no-output

        doc = whole_gpu_doc_defaults()
        for key, value in WHOLE_GPU_DEFAULTS.items():  # this file's table is the documented one
            self.assertIn(key, doc)
            text = doc[key].split(" (")[0].strip()  # "0 (none)"
            documented = text == "true" if text in ("true", "false") else float(text)
            self.assertEqual(documented, value, key)
        with h5py.File(result, "r") as f:
            self.assertRegex(f.attrs["git_commit"], r"^([0-9a-f]{7,40}(-dirty)?|unknown)$")
            self.assertEqual(float(f.attrs["schema_version"]), 3.0)
            self.assertEqual(f.attrs["command"], " ".join(argv))
            self.assertEqual(json.loads(f.attrs["run_order"]), names)
            self.assertEqual(float(f.attrs["interrupted"]), 0.0)
            for n in names:
                sj = json.loads(stored_text(f["runs"][n], "scenario_json"))
                self.assertEqual(list(sj["policies"].keys()), [n])
                cfg = sj["policies"][n]
                for k, v in source["policies"][n].items():  # what the file gave is kept
                    self.assertEqual(cfg[k], v, (n, k))
                self.assertEqual(sj["seed"], source["seed"])
                if cfg["policy"] == "whole-gpu":
                    for k, v in WHOLE_GPU_DEFAULTS.items():
                        if k not in source["policies"][n]:
                            self.assertIn(k, cfg, (n, k))
                            self.assertEqual(cfg[k], v, (n, k))
                for m in sj["models"].values():
                    self.assertTrue(os.path.isabs(m["profile"]), m["profile"])
                self.assertEqual(json.loads(stored_text(f["runs"][n], "summary_json"))["name"], n)
            kd = json.loads(stored_text(f["runs"]["knative-defaults"], "scenario_json"))["policies"]["knative-defaults"]
            self.assertEqual(kd["container_concurrency"], 0)
            self.assertIn("target", kd)  # documented as "cc or 100"; stored as the 0 that stands for it
            self.assertEqual(kd["initial_replicas"], 1)  # max(1, min_replicas = 0)

        # Tamper: one run's stored summary with a number changed.
        tampered = os.path.join(self.tmp, "tampered.h5")
        shutil.copy(result, tampered)
        with h5py.File(tampered, "r+") as f:
            g = f["runs"]["kserve"]
            text = stored_text(g, "summary_json")
            arrived = json.loads(text)["overall"]["arrived"]
            new = text.replace('"arrived":%d' % arrived, '"arrived":%d' % (arrived + 1), 1)
            self.assertNotEqual(new, text)
            del g["summary_json"]
            g.create_dataset("summary_json", data=np.frombuffer(new.encode(), dtype=np.uint8))
        p = gpuslice(["rerun", tampered, "--no-output"], cwd=other)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"(?m)^kserve: .*DIFFERS")
        self.assertEqual(p.stdout.count("DIFFERS"), 1, p.stdout)

        # Schema 2 kept the texts as string attributes: such a file still reruns.
        schema2 = os.path.join(self.tmp, "schema2.h5")
        shutil.copy(result, schema2)
        with h5py.File(schema2, "r+") as f:
            for n in names:
                g = f["runs"][n]
                for key in ("scenario_json", "summary_json"):
                    text = stored_text(g, key)
                    del g[key]
                    g.attrs[key] = text
        p = gpuslice(["rerun", schema2, "--no-output"], cwd=other)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for n in names:
            self.assertRegex(p.stdout, r"(?m)^%s: reproduced" % re.escape(n))
        p = gpuslice(["rerun", tampered, "--run", "slices", "--no-output"], cwd=other)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = gpuslice(["rerun", tampered, "--run", "kserve", "--no-output"], cwd=other)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assert_error(gpuslice(["rerun", tampered, "--run", "nope", "--no-output"], cwd=other), 2, "nope")

    def test_validate_output_reruns(self):
        cwd = os.path.join(self.tmp, "cwd")
        os.mkdir(cwd)
        p = gpuslice(["validate", quickstart()], cwd=cwd)
        self.assertEqual(p.returncode, 0, p.stderr)
        resolved = json.loads(p.stdout)  # stdout is the scenario alone
        with open(quickstart()) as f:
            source = json.load(f)
        self.assertEqual(list(resolved["policies"].keys()), list(source["policies"].keys()))
        for k, v in WHOLE_GPU_DEFAULTS.items():
            self.assertEqual(resolved["policies"]["knative-defaults"][k], v, k)
        path = os.path.join(cwd, "resolved.json")
        with open(path, "w") as f:
            f.write(p.stdout)
        for policy in ("kserve", "has-gpu"):
            a, b = os.path.join(cwd, policy + "-a.json"), os.path.join(cwd, policy + "-b.json")
            for scen, out in ((path, a), (quickstart(), b)):
                p = gpuslice(["run", scen, "--policy", policy, "--no-output", "--quiet", "--summary-json", out], cwd=cwd)
                self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(read_bytes(a), read_bytes(b), policy)


class LoadScale(Base):
    def poisson_scenario(self):
        with open(quickstart()) as f:
            s = json.load(f)
        for m in s["models"].values():
            m["profile"] = os.path.normpath(os.path.join(SOURCE, "scenarios", m["profile"]))
        s["name"] = "poisson"
        s["workload"] = [{"type": "poisson", "function": "resnet50", "rate_rps": 10, "end_s": 400},
                         {"type": "poisson", "function": "mobilenet_v3_large", "rate_rps": 10, "end_s": 400}]
        return write_json(os.path.join(self.tmp, "poisson.json"), s)

    def arrived(self, scenario, *extra):
        out = os.path.join(self.tmp, "s-%d.json" % len(os.listdir(self.tmp)))
        p = gpuslice(["run", scenario, "--policy", "kserve", "--no-output", "--quiet", "--summary-json", out] + list(extra))
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            text = f.read()
        return json.loads(text)["runs"][0]["overall"]["arrived"], text

    def test_load_scale(self):
        scenario = self.poisson_scenario()
        base, _ = self.arrived(scenario)
        self.assertTrue(abs(base - 8000) <= 5 * math.sqrt(8000), base)  # 2 x 10 rps x 400 s
        for factor in (2, 0.5):
            scaled, text = self.arrived(scenario, "--load-scale", str(factor))
            ratio = scaled / base
            sigma = ratio * math.sqrt(1 / scaled + 1 / base)
            self.assertLessEqual(abs(ratio - factor), 5 * sigma, (factor, scaled, base))
            self.assertNotEqual(scaled, base)
            # --load-scale is the scenario's load_scale.
            _, via_set = self.arrived(scenario, "--set", "load_scale=%s" % factor)
            self.assertEqual(text, via_set)
        for bad in ("0", "-1"):
            out = os.path.join(self.tmp, "bad.h5")
            p = gpuslice(["run", scenario, "--policy", "kserve", "--load-scale", bad, "-o", out])
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: workflow_test.py GPUSLICE SOURCE_DIR")
    BINARY = os.path.abspath(sys.argv[1])
    SOURCE = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
