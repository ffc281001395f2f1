"""The cases of the bad-input campaign (issue 16); run by run_campaign.py.

A case is data: the files it builds in a fresh temporary folder (from the shipped quickstart
scenario, profiles and trace fixtures, mutated here), the gpuslice command, the exit code it
must give, and the fragments its one-line error must name. The fragments are written by hand
from the input the case builds (the file's name, the JSON path, the line, the option), never
copied from the program's output.

`{tmp}` in an argument is the case's folder (also the command's working folder), `{src}` the
source tree.
"""
import copy
import gzip
import json
import lzma
import os
import shutil
import signal
import subprocess
import threading
import time

CLASS_ORDER = ["numbers", "generators", "structure", "set", "traces", "profiles", "cli", "outputs", "signals"]
CLASS_TITLES = {
    "numbers": "Numbers out of range in a scenario (every key of scenarios.md, workloads.md, policies.md)",
    "generators": "Generators and cluster sizes past their limits",
    "structure": "JSON structure of the scenario and the sweep spec",
    "set": "--set overrides",
    "traces": "Trace files (every format) and HAS-GPU stage files",
    "profiles": "Latency profiles",
    "cli": "Command-line options of every subcommand",
    "outputs": "Output paths",
    "signals": "SIGINT and SIGTERM",
}


class Skip(Exception):
    """Raised by a case's setup when this machine cannot build its input (a tool is missing)."""


class Context:
    def __init__(self, tmp, src, binary):
        self.tmp = tmp
        self.src = src
        self.binary = binary
        # further acceptable sets of fragments, found while building the input: a value that
        # is not a JSON number a double holds (1e999) may be named by its line instead
        self.alt_names = []

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, data):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        mode = "wb" if isinstance(data, (bytes, bytearray)) else "w"
        with open(p, mode) as f:
            f.write(data)

    def fixture(self, rel):
        return os.path.join(self.src, rel)


# Values too large for their key: the message must say what the limit is.
LIMIT_LABELS = ["1e300", "1e10", "1e19", "1e7", "1e8", "4294967298", "bigint", "2^31", "2^64", "2^32+2", "1e6x64",
                "1x2^32+2", "1000groups", "huge"]
LIMIT_WORDS = ["at most", "limit", "out of range", "beyond", "exceed", "too many", "too large",
               "too big", "larger than", "more than", "maximum", " in [", " in (", "past ", "above "]


class Case:
    def __init__(self, id, cls, args, files=(), expect=2, names=(), check=None, signal=None, allow_new=(),
                 timeout=None, area="", alone=False, doc_ok="valid input", signal_grace=5.0, alt_names=(),
                 forbid=(), limit=None, stdout=None):
        self.id = id
        self.cls = cls
        self.args = list(args)
        self.files = list(files)  # callables ctx -> None
        self.expect = expect
        self.names = list(names)
        self.check = check
        self.signal = signal
        self.signal_grace = signal_grace
        self.allow_new = list(allow_new)
        self.timeout = timeout
        self.area = area
        self.alone = alone
        self.doc_ok = doc_ok
        self.alt_names = [list(a) for a in alt_names]
        # text the error line must not hold (a message that contradicts the input)
        self.forbid = list(forbid)
        # a file to write stdout to instead of a pipe (/dev/full: every write fails with ENOSPC)
        self.stdout = stdout
        # the message must state the limit the value passes (one of LIMIT_WORDS); by default
        # for the values that are too large (labels in LIMIT_LABELS)
        self.limit = limit if limit is not None else any(
            ("=" + l) in id or ("/" + l) in id or ("-" + l) in id for l in LIMIT_LABELS)

    def setup(self, ctx):
        for f in self.files:
            f(ctx)


# ---------------------------------------------------------------- JSON helpers

class Raw:
    """A JSON token written verbatim (1e999, 99999999999999999999, NaN)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


DELETE = object()


def dumps(obj, indent=2, lines=None):
    """JSON text; with `lines` (a dict), records the line of each Raw token."""
    raws = []

    def walk(o):
        if isinstance(o, Raw):
            raws.append(o.text)
            return "@@RAW%d@@" % (len(raws) - 1)
        if isinstance(o, dict):
            return {k: walk(v) for k, v in o.items()}
        if isinstance(o, list):
            return [walk(v) for v in o]
        return o

    text = json.dumps(walk(obj), indent=indent)
    for i, r in enumerate(raws):
        mark = '"@@RAW%d@@"' % i
        if lines is not None:
            lines.setdefault(r, text[:text.index(mark)].count("\n") + 1)
        text = text.replace(mark, r)
    return text


def write_json(ctx, name, obj):
    lines = {}
    ctx.write(name, dumps(obj, lines=lines))
    for line in lines.values():  # a Raw token: the JSON reader may name its line instead
        ctx.alt_names.append(["%s:%d" % (name, line)])


def set_path(doc, path, value):
    keys = [int(k) if k.isdigit() else k for k in path.strip("/").split("/")]
    node = doc
    for k in keys[:-1]:
        if isinstance(node, dict) and k not in node:
            node[k] = {}
        node = node[k]
    if value is DELETE:
        del node[keys[-1]]
    elif isinstance(node, list) and keys[-1] == len(node):
        node.append(value)
    else:
        node[keys[-1]] = value


def base_scenario(src):
    with open(os.path.join(src, "scenarios", "quickstart.json")) as f:
        s = json.load(f)
    for m in s["models"].values():
        m["profile"] = os.path.join(src, "gpu", "profiles", "v100", os.path.basename(m["profile"]))
    for w in s["workload"]:
        w["file"] = os.path.join(src, "scenarios", "workloads", os.path.basename(w["file"]))
    return s


def short_scenario(src):
    """The quickstart with a short Poisson workload: quick to run where a case must run."""
    s = base_scenario(src)
    s["workload"] = [{"type": "poisson", "function": "resnet50", "rate_rps": 5, "end_s": 20}]
    s["drain_s"] = 30
    return s


def scenario_file(name="s.json", muts=(), base=base_scenario, edit=None):
    def make(ctx):
        s = base(ctx.src)
        for path, value in muts:
            set_path(s, path, value)
        if edit is not None:
            edit(s, ctx)
        write_json(ctx, name, s)
    return make


def text_file(name, data):
    def make(ctx):
        ctx.write(name, data(ctx) if callable(data) else data)
    return make


def folder(name):
    def make(ctx):
        os.makedirs(ctx.path(name), exist_ok=True)
    return make


# ------------------------------------------------------------ checks on success

def stdout_json(res):
    return json.loads(res.stdout.decode("utf-8"))


def requests_of(res):
    d = stdout_json(res)
    for k in ("requests", "total_requests", "rows"):
        if k in d:
            return d[k]
    raise KeyError("no request count in trace info --json: %s" % sorted(d)[:20])


def check_requests(n):
    def check(ctx, res):
        got = requests_of(res)
        return None if got == n else "trace info counted %s requests, expected %s" % (got, n)
    return check


def check_requests_like(plain_name, fmt_args):
    """The request count equals what trace info gives on the plain file."""
    def check(ctx, res):
        got = requests_of(res)
        ref = subprocess.run([ctx.binary, "trace", "info", ctx.path(plain_name), "--json"] + fmt_args,
                             capture_output=True, timeout=60, cwd=ctx.tmp)
        if ref.returncode != 0:
            return "the plain file failed: %s" % ref.stderr.decode()[:200]
        want = requests_of(type("R", (), {"stdout": ref.stdout})())
        return None if got == want else "counted %s requests, the plain file %s" % (got, want)
    return check


def _strict(text):
    def bad(c):
        raise ValueError("non-standard JSON constant %s" % c)
    return json.loads(text, parse_constant=bad)


def check_strict_summary(ctx, res):
    """After exit 0: the summary JSON is strict JSON (no NaN or Infinity), valid UTF-8."""
    if res.rc != 0:
        return None
    try:
        _strict(open(ctx.path("sum.json"), encoding="utf-8").read())
    except Exception as e:
        return "the summary JSON is not strict JSON: %s" % e
    return None


def check_valid_json_stdout(ctx, res):
    if res.rc != 0:
        return None
    try:
        json.loads(res.stdout.decode("utf-8", "strict"))
    except Exception as e:  # invalid UTF-8 or JSON on stdout
        return "exit 0 but stdout is not valid UTF-8 JSON: %s" % (e,)
    return None


# ==================================================================== the cases

CASES = []


def add(*a, **k):
    c = Case(*a, **k)
    CASES.append(c)
    return c


# ---- numbers out of range ------------------------------------------------------

INF = Raw("1e999")
NEG_INF = Raw("-1e999")
BIGINT = Raw("99999999999999999999")

# kinds: the bad values of each kind of number (label, value)
KINDS = {
    # a period or interval: positive, representable in int64 ns, not absurdly small
    "period_s": [("zero", 0), ("neg", -1), ("1e10", 1e10), ("1e-12", 1e-12), ("1e999", INF), ("nanstr", "NaN")],
    # a time in seconds that may be 0
    "time_s": [("neg", -1), ("1e10", 1e10), ("1e300", 1e300), ("1e999", INF), ("nanstr", "NaN")],
    # a duration in ms that must be positive
    "pos_ms": [("zero", 0), ("neg", -5), ("1e300", 1e300), ("1e999", INF), ("nanstr", "NaN")],
    # a duration in ms that may be 0
    "ms": [("neg", -1), ("1e300", 1e300), ("1e999", INF), ("nanstr", "NaN")],
    # a count that must be positive and small
    "count": [("zero", 0), ("neg", -1), ("4294967298", 4294967298), ("bigint", BIGINT), ("frac", 1.5),
              ("str", "4")],
    # a non-negative integer
    "nonneg_int": [("neg", -1), ("bigint", BIGINT), ("frac", 2.5), ("true", True)],
    # a fraction in [0, 1]
    "fraction": [("neg", -0.5), ("1.5", 1.5), ("1e999", INF), ("nanstr", "NaN")],
    # a fraction in (0, 1]
    "pos_fraction": [("zero", 0), ("neg", -0.5), ("1.5", 1.5), ("1e999", INF)],
    # a rate or other positive real
    "rate": [("neg", -1), ("1e300", 1e300), ("1e999", INF), ("nanstr", "NaN")],
    # a non-negative real (no natural upper bound)
    "nonneg": [("neg", -1), ("1e999", INF), ("-1e999", NEG_INF), ("nanstr", "NaN")],
    # a positive real
    "pos": [("zero", 0), ("neg", -1), ("1e999", INF), ("nanstr", "NaN")],
    # a percentage of SMs: (0, 100]
    "percent": [("zero", 0), ("neg", -10), ("150", 150), ("1e999", INF)],
    "bool": [("str", "yes"), ("int", 3)],
    "seed": [("neg", -4), ("frac", 1.5), ("bigint", BIGINT), ("1e300", 1e300), ("str", "seven")],
}

# (json path, kind, policy run for `run`, extra mutations)
SCENARIO_KEYS = [
    ("seed", "seed"),
    ("load_scale", "pos"),
    ("duration_s", "time_s"),
    ("drain_s", "time_s"),
    ("cluster/nodes/0/count", "count"),
    ("cluster/nodes/0/gpus_per_node", "count"),
    ("cluster/nodes/0/price_per_hour", "nonneg"),
    ("cluster/container_start_s", "time_s"),
    ("cluster/token_window_ms", "pos_ms"),
    ("cluster/interference/coefficients", [("1e999", [INF, 0.7160, 0.3549, 0.0882, 0.8954]),
                                           ("nanstr", ["NaN", 0.7160, 0.3549, 0.0882, 0.8954]),
                                           ("short", [0.1129]), ("string", "linear")]),
    ("cluster/interference/enabled", "bool"),
    ("models/resnet50/slo_ms", "pos_ms"),
    ("models/resnet50/memory_mb", [("zero", 0), ("neg", -1), ("1e19", 1e19), ("1e300", 1e300), ("1e999", INF),
                                   ("bigint", BIGINT), ("nanstr", "NaN")]),
    ("models/resnet50/load_time_s", "time_s"),
    ("models/resnet50/network_ms", "ms"),
    ("models/resnet50/preprocess_ms", "ms"),
    ("models/resnet50/postprocess_ms", "ms"),
    ("models/resnet50/pod_cpu_cores", [("neg", -1), ("0.001", 0.001), ("1e999", INF), ("nanstr", "NaN")]),
    ("models/resnet50/max_batch", "count"),
    ("models/resnet50/batch_timeout_ms", "ms"),
    ("models/resnet50/queue_timeout_s", "time_s"),
    ("executor/noise/cv", "nonneg"),
    ("output/interval_s", "period_s"),
    ("output/per_request", "bool"),
    ("output/per_model_timeseries", "bool"),
    # whole-gpu (the kserve run)
    ("policies/kserve/container_concurrency", "nonneg_int"),
    ("policies/kserve/target", [("neg", -1), ("1e999", INF)]),
    ("policies/kserve/target_utilization", "pos_fraction"),
    ("policies/kserve/tick_s", "period_s"),
    ("policies/kserve/stable_window_s", "period_s"),
    ("policies/kserve/panic_window_percent", [("zero", 0), ("neg", -1), ("1e999", INF)]),
    ("policies/kserve/panic_threshold_percent", [("neg", -1), ("1e999", INF)]),
    ("policies/kserve/max_scale_up_rate", [("zero", 0), ("neg", -1), ("1e999", INF)]),
    ("policies/kserve/max_scale_down_rate", [("zero", 0), ("neg", -1)]),
    ("policies/kserve/min_replicas", "nonneg_int"),
    ("policies/kserve/max_replicas", "nonneg_int"),
    ("policies/kserve/initial_replicas", [("neg", -1), ("bigint", BIGINT)]),
    ("policies/kserve/scale_to_zero_grace_period_s", "time_s"),
    ("policies/kserve/autoscaling", "bool"),
    ("policies/kserve/warm_start", "bool"),
    ("policies/kserve/activator_buffer_limit", "nonneg_int"),
    # static-slices
    ("policies/slices/pods/0/sm_percent", "percent"),
    ("policies/slices/pods/0/quota", "pos_fraction"),
    ("policies/slices/pods/0/rate_rps", "rate"),
    ("policies/slices/pods/0/target_utilization", "pos_fraction"),
    ("policies/slices/warm_start", "bool"),
    ("policies/slices/container_concurrency", [("neg", -1)]),
    ("policies/slices/activator_buffer_limit", [("neg", -1)]),
    # fast-gshare
    ("policies/fast-gshare/sm_percent", "percent"),
    ("policies/fast-gshare/quota", "pos_fraction"),
    ("policies/fast-gshare/batch", [("zero", 0), ("neg", -1), ("4294967298", 4294967298)]),
    ("policies/fast-gshare/interval_s", "period_s"),
    ("policies/fast-gshare/rate_window_s", [("zero", 0), ("neg", -1), ("1e10", 1e10)]),
    ("policies/fast-gshare/up_threshold", [("neg", -1), ("1e999", INF)]),
    ("policies/fast-gshare/down_threshold", [("neg", -1)]),
    ("policies/fast-gshare/backlog_drain_s", [("neg", -1), ("1e10", 1e10)]),
    ("policies/fast-gshare/min_pods", [("neg", -1), ("bigint", BIGINT)]),
    ("policies/fast-gshare/initial_pods", [("neg", -1)]),
    # gpulet
    ("policies/gpulet/partitions_percent", [("zero", [0]), ("150", [150]), ("empty", []), ("neg", [-10, 50])]),
    ("policies/gpulet/max_models_per_gpulet", [("zero", 0), ("neg", -1)]),
    ("policies/gpulet/latency_slack", [("zero", 0), ("neg", -1), ("1e999", INF)]),
    ("policies/gpulet/marginal_gain", [("neg", -1)]),
    ("policies/gpulet/leftover_slack_rps", [("neg", -1)]),
    ("policies/gpulet/sample_interval_s", "period_s"),
    ("policies/gpulet/rate_average_s", [("zero", 0), ("neg", -1), ("1e10", 1e10)]),
    ("policies/gpulet/epoch_s", "period_s"),
    ("policies/gpulet/window_s", [("zero", 0), ("neg", -1), ("1e10", 1e10)]),
    ("policies/gpulet/headroom_low", [("zero", 0), ("neg", -1)]),
    ("policies/gpulet/headroom_high", [("neg", -1)]),
    ("policies/gpulet/headroom_threshold_rps", [("neg", -1)]),
    ("policies/gpulet/reschedule_increase", [("neg", -1)]),
    ("policies/gpulet/reschedule_decrease", [("neg", -1)]),
    ("policies/gpulet/context_memory_mb", [("neg", -1), ("1e19", 1e19)]),
    ("policies/gpulet/memory_fraction", "pos_fraction"),
    ("policies/gpulet/initial_rate_rps", [("neg", -1), ("1e999", INF)]),
    ("policies/gpulet/incremental", "bool"),
    # has-gpu
    ("policies/has-gpu/interval_s", "period_s"),
    ("policies/has-gpu/rate_window_s", [("zero", 0), ("neg", -1), ("1e10", 1e10)]),
    ("policies/has-gpu/kalman_q", [("neg", -1), ("1e999", INF)]),
    ("policies/has-gpu/kalman_r", [("neg", -1), ("1e999", INF)]),
    ("policies/has-gpu/min_margin_rps", [("neg", -1)]),
    ("policies/has-gpu/up_threshold", [("zero", 0), ("neg", -1)]),
    ("policies/has-gpu/down_threshold", [("neg", -1)]),
    ("policies/has-gpu/down_cooldown_s", [("neg", -1), ("1e10", 1e10)]),
    ("policies/has-gpu/quota_step", "pos_fraction"),
    ("policies/has-gpu/occupancy_limit", "pos_fraction"),
    ("policies/has-gpu/batch", [("zero", 0), ("neg", -1), ("4294967298", 4294967298)]),
    ("policies/has-gpu/throughput_overhead_ms", [("neg", -1), ("1e300", 1e300)]),
    ("policies/has-gpu/new_gpu_sm_percent", "percent"),
    ("policies/has-gpu/new_gpu_quota", "pos_fraction"),
    ("policies/has-gpu/new_gpu_min_rps", [("neg", -1)]),
    ("policies/has-gpu/vertical", "bool"),
    ("policies/has-gpu/horizontal", "bool"),
    ("policies/has-gpu/alignment", "bool"),
    ("policies/has-gpu/kalman_per_model", "bool"),
    ("policies/has-gpu/occupancy_integer_division", "bool"),
    ("policies/has-gpu/warm_start", "bool"),
    ("policies/fast-gshare/warm_start", "bool"),
    ("policies/has-gpu/slo_gate", "bool"),
]

# policy run of a policies/<run>/... key, for the `run` variant
def _run_of(path):
    parts = path.split("/")
    return parts[1] if parts[0] == "policies" else None


def _numbers():
    n = 0
    for path, kind in SCENARIO_KEYS:
        values = KINDS[kind] if isinstance(kind, str) else kind
        for i, (label, value) in enumerate(values):
            cid = "num/%s=%s" % (path.replace("/", "."), label)
            muts = [(path, value)]
            if path == "models/resnet50/max_batch" or path.startswith("policies/"):
                pass
            # one variant in three runs the scenario (with the one policy run the key belongs to)
            n += 1
            if n % 3 == 0:
                run = _run_of(path)
                args = ["run", "s.json"] + (["--policy", run] if run else [])
            else:
                args = ["validate", "s.json"]
            forbid = ["must be 0 or"] if kind == "period_s" and label == "1e-12" else []
            add(cid, "numbers", args, [scenario_file(muts=muts)], names=["s.json", "/" + path], forbid=forbid,
                area="scenario loading (sim/scenario*.cc) or the policy's config (sim/policies/)")
    # l2_util / dram_util come as a pair
    for label, value in KINDS["fraction"]:
        add("num/models.resnet50.l2_util=%s" % label, "numbers", ["validate", "s.json"],
            [scenario_file(muts=[("models/resnet50/l2_util", value), ("models/resnet50/dram_util", 0.5)])],
            names=["s.json", "/models/resnet50/l2_util"], area="scenario loading")
    add("num/models.resnet50.dram_util=neg", "numbers", ["validate", "s.json"],
        [scenario_file(muts=[("models/resnet50/l2_util", 0.5), ("models/resnet50/dram_util", -0.5)])],
        names=["s.json", "/models/resnet50/dram_util"], area="scenario loading")
    # a model with a constant latency instead of a profile
    for label, value in [("zero", 0), ("neg", -1), ("1e300", 1e300), ("1e999", INF), ("nanstr", "NaN")]:
        add("num/models.m.latency_ms=%s" % label, "numbers", ["validate", "s.json"],
            [scenario_file(muts=[("models/resnet50/profile", DELETE), ("models/resnet50/latency_ms", value)])],
            names=["s.json", "/models/resnet50/latency_ms"], area="scenario loading")
    # roofline estimates
    roof = {"gflops_per_sample": 8.2, "weights_mb": 100, "activations_mb_per_sample": 20}
    for key, value in [("gflops_per_sample", -1), ("gflops_per_sample", INF), ("weights_mb", -5),
                       ("activations_mb_per_sample", Raw("-1e999")), ("efficiency", 0), ("efficiency", 1.5),
                       ("floor_ms", -1), ("precision", "fp3")]:
        r = dict(roof)
        r[key] = value
        add("num/models.m.roofline.%s=%s" % (key, value), "numbers", ["validate", "s.json"],
            [scenario_file(muts=[("models/resnet50/profile", DELETE), ("models/resnet50/roofline", r)])],
            names=["s.json", "/models/resnet50/roofline/" + key], area="scenario loading (roofline)")
    # fast-gshare and has-gpu string-valued keys, predictors
    for path, value in [("policies/has-gpu/new_gpu_config", "bogus"), ("policies/has-gpu/new_pod_quota", "bogus"),
                        ("policies/has-gpu/predictor", "bogus"), ("policies/slices/predictor", "bogus"),
                        ("policies/fast-gshare/predictor", 7),
                        ("policies/slices/pods/0/model", "nosuch"),
                        ("executor/noise/kind", "gaussian"),
                        ("output/refusals", "bogus"), ("output/refusals", 3),
                        ("function_mapping", {"rule": "bogus"}),
                        ("function_mapping", {"rule": "popularity", "models": ["nosuch"]}),
                        ("function_mapping", {"rule": "hash", "models": []}),
                        ("functions", {"resnet50": 5}),
                        ("cluster/nodes/0/gpu", "V100"),
                        ("cluster/nodes/0/gpu", 100)]:
        add("num/%s=%s" % (path.replace("/", "."), value), "numbers", ["validate", "s.json"],
            [scenario_file(muts=[(path, value)])], names=["s.json", "/" + path], area="scenario / policy config")
    for label, value in [("neg", -1), ("zero", 0), ("4294967298", 4294967298), ("bigint", BIGINT)]:
        add("num/policies.slices.pods.0.count=%s" % label, "numbers", ["validate", "s.json"],
            [scenario_file(muts=[("policies/slices/pods/0/rate_rps", DELETE), ("policies/slices/pods/0/count", value)])],
            names=["s.json", "/policies/slices/pods/0/count"], area="static-slices config")
    for path, stride in [("policies/slices/predictor", "sm_stride"), ("policies/gpulet/predictor", "quota_stride"),
                         ("policies/has-gpu/predictor", "sm_stride")]:
        for label, v in [("zero", 0), ("neg", -2)]:
            add("num/%s.%s=%s" % (path.replace("/", "."), stride, label), "numbers", ["validate", "s.json"],
                [scenario_file(muts=[(path, {"name": "profile", stride: v})])],
                names=["s.json", "/%s/%s" % (path, stride)], area="predictor config (gpu/)")
    # compare, capacity and sweep check every run before running any (nothing written)
    for path, value in [("policies/has-gpu/interval_s", 0), ("policies/gpulet/epoch_s", -1),
                        ("policies/slices/pods/0/quota", 2), ("policies/fast-gshare/batch", 0),
                        ("policies/kserve/tick_s", 1e10)]:
        add("num/compare:%s=%s" % (path.replace("/", "."), value), "numbers",
            ["compare", "s.json", "-j", "2", "-o", "r.h5", "--summary-json", "sum.json"],
            [scenario_file(muts=[(path, value)])], names=["s.json", "/" + path], area="policy config / cli_run.cc")
    add("num/capacity:policies.kserve.tick_s=0", "numbers", ["capacity", "s.json", "--policy", "kserve"],
        [scenario_file(muts=[("policies/kserve/tick_s", 0)])], names=["s.json", "/policies/kserve/tick_s"],
        area="whole-gpu config / capacity")
    # min above max
    add("num/kserve.min_replicas>max_replicas", "numbers", ["validate", "s.json"],
        [scenario_file(muts=[("policies/kserve/min_replicas", 3), ("policies/kserve/max_replicas", 2)])],
        names=["s.json", "/policies/kserve"], area="whole-gpu config")
    # --set variants of the same numbers (the value given on the command line)
    for setarg, path in [("models.resnet50.slo_ms=-1", "/models/resnet50/slo_ms"),
                         ("models.resnet50.load_time_s=1e10", "/models/resnet50/load_time_s"),
                         ("drain_s=1e999", "drain_s"),
                         ("cluster.container_start_s=-2", "/cluster/container_start_s"),
                         ("output.interval_s=1e-12", "/output/interval_s"),
                         ("policies.kserve.tick_s=0", "/policies/kserve/tick_s"),
                         ("seed=99999999999999999999", "seed"),
                         ("models.resnet50.memory_mb=1e19", "/models/resnet50/memory_mb")]:
        add("num/set:%s" % setarg, "numbers", ["run", "s.json", "--policy", "kserve", "--set", setarg],
            [scenario_file()], names=[path], area="scenario loading (--set values)")


_numbers()


# ---- generators bounded ----------------------------------------------------------

GEN_BASE = {
    "poisson": {"type": "poisson", "function": "resnet50", "rate_rps": 10, "end_s": 60},
    "gamma": {"type": "gamma", "function": "resnet50", "rate_rps": 10, "cv": 2, "end_s": 60},
    "mmpp": {"type": "mmpp", "function": "resnet50", "rates_rps": [1, 10], "mean_sojourn_s": [10, 5], "end_s": 60},
    "diurnal": {"type": "diurnal", "function": "resnet50", "mean_rps": 10, "amplitude": 0.5, "period_s": 3600,
                "peak_s": 0, "end_s": 60},
    "stages": {"type": "stages", "function": "resnet50", "rates_rps": [5, 10], "stage_s": 10},
    "population": {"type": "population", "functions": 20, "total_rps": 10, "end_s": 60},
}


def gen_scenario(gen, muts=(), extra=None):
    def edit(s, ctx):
        w = copy.deepcopy(GEN_BASE[gen])
        for k, v in muts:
            if v is DELETE:
                w.pop(k, None)
            else:
                w[k] = v
        s["workload"] = [w]
        if gen == "population":
            s["function_mapping"] = {"rule": "round_robin"}
        if extra:
            extra(s)
    return scenario_file(edit=edit)


def _generators():
    table = [
        ("poisson", "rate_rps", [("1e300", 1e300), ("neg", -1), ("1e999", INF), ("nanstr", "NaN"), ("1e8", 1e8)]),
        ("poisson", "end_s", [("neg", -1), ("1e10", 1e10), ("1e999", INF)]),
        ("poisson", "start_s", [("neg", -1), ("1e10", 1e10)]),
        ("gamma", "cv", [("1e-300", 1e-300), ("1e300", 1e300), ("zero", 0), ("neg", -1), ("1e999", INF)]),
        ("gamma", "rate_rps", [("1e300", 1e300), ("neg", -2)]),
        ("mmpp", "mean_sojourn_s", [("1e-300", [1e-300, 5]), ("zero", [0, 5]), ("neg", [10, -5]),
                                    ("1e10", [1e10, 5]), ("short", [10])]),
        ("mmpp", "rates_rps", [("1e300", [1, 1e300]), ("neg", [-1, 10]), ("three", [1, 2, 3])]),
        ("diurnal", "mean_rps", [("neg", -1), ("1e300", 1e300)]),
        ("diurnal", "amplitude", [("neg", -0.5), ("1.5", 1.5)]),
        ("diurnal", "period_s", [("zero", 0), ("neg", -1), ("1e-12", 1e-12), ("1e10", 1e10)]),
        ("diurnal", "peak_s", [("1e10", 1e10), ("1e999", INF)]),
        ("stages", "stage_s", [("zero", 0), ("neg", -1), ("1e-12", 1e-12), ("1e10", 1e10)]),
        ("stages", "rates_rps", [("neg", [-1, 5]), ("1e300", [5, 1e300]), ("empty", [])]),
        ("stages", "spacing", [("bogus", "bogus")]),
        ("population", "functions", [("1e7", 10000000), ("zero", 0), ("neg", -1), ("4294967298", 4294967298),
                                     ("frac", 1.5)]),
        ("population", "total_rps", [("neg", -1), ("1e300", 1e300)]),
        ("population", "zipf_s", [("neg", -1), ("1e999", INF)]),
        ("population", "burst_ratio", [("zero", 0), ("neg", -1), ("1e300", 1e300)]),
        ("population", "diurnal_amplitude", [("1.5", 1.5)]),
        ("population", "period_s", [("zero", 0), ("1e10", 1e10)]),
        ("population", "name_prefix", [("int", 5), ("list", ["fn"])]),
        ("population", "shapes", [("neg", {"poisson": -1, "diurnal": 0.5, "bursty": 0.5}),
                                  ("allzero", {"poisson": 0, "diurnal": 0, "bursty": 0}),
                                  ("unknown", {"poisson": 1, "spiky": 1})]),
    ]
    for gen, key, values in table:
        for label, value in values:
            cid = "gen/%s.%s=%s" % (gen, key, label)
            # generators are exercised by `run` (where the arrivals are made) and `validate`
            # a rate past the per-source limit may be named by the source (the limit is on
            # the source's total rate)
            alt = [["s.json", "/workload/0:"]] if key in ("rate_rps", "rates_rps", "mean_rps", "total_rps") \
                and label in ("1e300", "1e8") else []
            # zero or 1e-12 where zero is refused: the message must not offer 0 or call the key missing
            forbid = ["must be 0 or", "missing"] if label in ("zero", "1e-12") and key in ("period_s", "stage_s") else []
            for cmd in (["validate", "s.json"], ["run", "s.json", "--policy", "kserve"]):
                add(cid + ("/run" if cmd[0] == "run" else ""), "generators", cmd,
                    [gen_scenario(gen, [(key, value)])], names=["s.json", "/workload/0/" + key],
                    area="traces/generators.cc (generator limits)", timeout=20, alt_names=alt, forbid=forbid)
    # each value within its key's range, but together past what a run can hold: refused at once with the
    # limit (expected requests), never a run that does not end
    for label, gen, muts in [
        ("poisson-1e6rps-1e9s", "poisson", [("rate_rps", 1e6), ("end_s", 1e9)]),
        ("gamma-1e6rps-1e9s", "gamma", [("rate_rps", 1e6), ("end_s", 1e9)]),
        ("diurnal-1e6rps-1e9s", "diurnal", [("mean_rps", 1e6), ("end_s", 1e9)]),
        ("population-1e6rps-1e9s", "population", [("total_rps", 1e6), ("end_s", 1e9)]),
        ("stages-1e7rps-1e9s", "stages", [("rates_rps", [1e7]), ("stage_s", 1e9)]),
        ("mmpp-1e6rps-1e9s", "mmpp", [("rates_rps", [1e6, 1e6]), ("end_s", 1e9)]),
        # few requests, but 20 stages of 1e9 s end past int64 nanoseconds (2e10 s)
        ("stages-20x1e9s", "stages", [("rates_rps", [0.1] * 20), ("stage_s", 1e9)]),
    ]:
        for cmd in (["validate", "s.json"], ["run", "s.json", "--policy", "kserve"]):
            add("gen/total=%s%s" % (label, "/run" if cmd[0] == "run" else ""), "generators", cmd,
                [gen_scenario(gen, muts)], names=["s.json", "/workload"], limit=True,
                area="traces/workload.cc (expected requests limit)")
    # valid extremes of one key: a run that ends (or a clear refusal), never an internal error or a hang
    for label, muts, run in [
        ("max_batch-4096", [("models/resnet50/max_batch", 4096)], "kserve"),
        ("token_window_ms-1e7", [("cluster/token_window_ms", 1e7)], "fast-gshare"),
        ("token_window_ms-0.1", [("cluster/token_window_ms", 0.1)], "has-gpu"),
        ("queue_timeout_s-1e-9", [("models/resnet50/queue_timeout_s", 1e-9)], "kserve"),
        ("interval_s-0.001", [("output/interval_s", 0.001)], "kserve"),
        ("price-1e6", [("cluster/nodes/0/price_per_hour", 1e6)], "kserve"),
        ("noise-cv-10", [("executor/noise/cv", 10)], "has-gpu"),
    ]:
        add("gen/extreme=%s/run" % label, "generators", ["run", "s.json", "--policy", run, "--no-output"],
            [scenario_file(base=short_scenario, muts=muts)], expect=(0, 2), names=["s.json"],
            area="the simulation at a key's extreme", doc_ok="runs")
    # the function a generator names is not a model
    add("gen/poisson.function=nosuch", "generators", ["validate", "s.json"],
        [gen_scenario("poisson", [("function", "nosuch")])], names=["s.json", "nosuch"], area="workload")
    add("gen/type=bogus", "generators", ["validate", "s.json"],
        [gen_scenario("poisson", [("type", "bogus")])], names=["s.json", "/workload/0/type"], area="workload")
    # a cluster of 10^6 nodes x 64 GPUs; 4294967298 nodes
    for label, count, per in [("1e6x64", 1000000, 64), ("2^32+2", 4294967298, 1), ("1x2^32+2", 1, 4294967298)]:
        for cmd in (["validate", "s.json"], ["run", "s.json", "--policy", "kserve"]):
            add("gen/cluster=%s%s" % (label, "/run" if cmd[0] == "run" else ""), "generators", cmd,
                [scenario_file(muts=[("cluster/nodes/0/count", count), ("cluster/nodes/0/gpus_per_node", per)])],
                names=["s.json", "/cluster/nodes/0"], area="cluster size limit (sim/cluster or scenario)")
    # many node groups that together are too large
    add("gen/cluster=1000groups", "generators", ["run", "s.json", "--policy", "kserve"],
        [scenario_file(edit=lambda s, c: s["cluster"].__setitem__(
            "nodes", [{"count": 10000, "gpus_per_node": 64, "gpu": "V100-16GB"}] * 1000))],
        names=["s.json", "/cluster/nodes"], area="cluster size limit")
    # a model that fits no GPU
    add("gen/memory_mb>gpu", "generators", ["validate", "s.json"],
        [scenario_file(muts=[("models/resnet50/memory_mb", 17000)])],
        names=["s.json", "/models/resnet50/memory_mb"], area="scenario loading")


_generators()


# ---- JSON structure ---------------------------------------------------------------

def rename_model(s, new):
    """resnet50 renamed everywhere the scenario names it."""
    s["models"][new] = s["models"].pop("resnet50")
    for w in s["workload"]:
        if w.get("function") == "resnet50":
            w["function"] = new
    for pod in s["policies"].get("slices", {}).get("pods", []):
        if pod.get("model") == "resnet50":
            pod["model"] = new


def _structure():
    area = "JSON reading (sim/util/json*.cc, scenario loading)"
    deep = "[" * 100000 + "]" * 100000
    deep_obj = '{"a":' * 100000 + "1" + "}" * 100000
    raw_cases = [
        ("deep-array", deep, ["s.json"]),
        ("deep-object", deep_obj, ["s.json"]),
        ("empty", "", ["s.json"]),
        ("whitespace", "  \n\n  ", ["s.json"]),
        ("garbage", bytes(range(256)) * 64, ["s.json"]),
        ("nul-bytes", b"\x00" * 1000, ["s.json"]),
        ("top-array", "[1, 2, 3]\n", ["s.json"]),
        ("top-string", '"quickstart"\n', ["s.json"]),
        ("top-number", "42\n", ["s.json"]),
        ("top-null", "null\n", ["s.json"]),
        ("bare-nan", '{"name": "x", "seed": NaN}\n', ["s.json:1"]),
        ("bare-infinity", '{\n  "seed": Infinity\n}\n', ["s.json:2"]),
        ("trailing-comma", '{\n  "seed": 1,\n}\n', ["s.json:3"]),
        ("comment", '{\n  // a comment\n  "seed": 1\n}\n', ["s.json:2"]),
        ("two-documents", '{"seed": 1}\n{"seed": 2}\n', ["s.json:2"]),
        ("unterminated-string", '{\n  "name": "quick\n}\n', ["s.json:2"]),
        ("invalid-utf8-string", b'{\n  "name": "\xff\xfe"\n}\n', ["s.json"]),
        ("lone-surrogate", '{\n  "name": "\\ud800"\n}\n', ["s.json"]),
    ]
    for label, data, names in raw_cases:
        for cmd in (["validate", "s.json"],) + ((["run", "s.json"],) if label in ("deep-array", "garbage", "empty") else ()):
            add("json/%s%s" % (label, "/run" if cmd[0] == "run" else ""), "structure", cmd,
                [text_file("s.json", data)], names=names, area=area)

    # large objects must be read in time linear in their size (an unknown key with 200,000 members; a
    # functions map of 100,000 trace functions, as a large trace needs)
    add("json/object-200000-keys-unknown", "structure", ["validate", "s.json"],
        [scenario_file(base=short_scenario, muts=[("zzz", {"f%d" % i: 1 for i in range(200000)})])],
        names=["s.json", "/zzz"], area=area + " (time per key)", timeout=20)
    add("json/functions-map-100000", "structure", ["validate", "s.json"],
        [scenario_file(base=short_scenario, muts=[("functions", dict(
            {"f%d" % i: "resnet50" for i in range(100000)}, resnet50="resnet50",
            mobilenet_v3_large="mobilenet_v3_large"))])],
        expect=0, area=area + " (time per key)", timeout=20, doc_ok="a large functions map is read")

    def truncated(ctx):
        text = dumps(base_scenario(ctx.src))
        cut = text.index('"slo_ms"') + 5  # inside the key, line known below
        ctx.write("s.json", text[:cut])

    add("json/truncated", "structure", ["validate", "s.json"], [truncated], names=["s.json"], area=area)
    add("json/truncated/run", "structure", ["run", "s.json"], [truncated], names=["s.json"], area=area)

    def bom(ctx):
        ctx.write("s.json", b"\xef\xbb\xbf" + dumps(base_scenario(ctx.src)).encode())
    add("json/utf8-bom", "structure", ["validate", "s.json"], [bom], expect=(0, 2), names=["s.json"], area=area,
        doc_ok="a UTF-8 byte-order mark is skipped")

    def dup(ctx, where):
        text = dumps(base_scenario(ctx.src))
        if where == "top":
            text = text.replace('"seed": 1,', '"seed": 1,\n  "seed": 2,', 1)
        elif where == "model":
            text = text.replace('"slo_ms": 200,', '"slo_ms": 200,\n      "slo_ms": 100,', 1)
        elif where == "models":
            block = text[text.index('"resnet50": {'):text.index('"mobilenet_v3_large": {')]
            text = text.replace(block, block + block, 1)
        elif where == "policy":
            text = text.replace('"kserve": {', '"kserve": {"policy": "gpulet"},\n    "kserve": {', 1)
        ctx.write("s.json", text)

    for where, names in [("top", ["s.json", "seed"]), ("model", ["s.json", "slo_ms"]),
                         ("models", ["s.json", "resnet50"]), ("policy", ["s.json", "kserve"])]:
        add("json/duplicate-key-%s" % where, "structure", ["validate", "s.json"],
            [lambda ctx, w=where: dup(ctx, w)], names=names, area=area)

    add("json/folder-as-scenario", "structure", ["validate", "s.json"], [folder("s.json")], names=["s.json"], area=area)
    add("json/folder-as-scenario/run", "structure", ["run", "s.json"], [folder("s.json")], names=["s.json"], area=area)
    add("json/missing-scenario", "structure", ["run", "nosuch.json"], [], names=["nosuch.json"], area=area)
    add("json/missing-scenario/compare", "structure", ["compare", "nosuch.json"], [], names=["nosuch.json"], area=area)
    add("json/missing-scenario/capacity", "structure", ["capacity", "nosuch.json", "--policy", "kserve"], [],
        names=["nosuch.json"], area=area)
    # unknown keys at every level
    for path in ["colour", "cluster/colour", "cluster/nodes/0/colour", "models/resnet50/slo_msx",
                 "executor/noise/colour", "output/colour", "policies/kserve/tick", "policies/gpulet/epoch",
                 "policies/has-gpu/intervals", "policies/slices/pods/0/colour", "workload/0/colour",
                 "cluster/interference/colour"]:
        add("json/unknown-key:%s" % path.replace("/", "."), "structure", ["validate", "s.json"],
            [scenario_file(muts=[(path, 1)])], names=["s.json", "/" + path], area=area)
    # missing required keys
    for path in ["models", "cluster", "cluster/nodes", "models/resnet50/slo_ms", "models/resnet50/memory_mb",
                 "models/resnet50/profile", "workload/0/type", "policies/kserve/policy", "cluster/nodes/0/gpu"]:
        parent = "/" + path.rsplit("/", 1)[0] if "/" in path else ""
        names = ["s.json", path.rsplit("/", 1)[-1]] + ([parent] if parent else [])
        add("json/missing-key:%s" % path.replace("/", "."), "structure", ["validate", "s.json"],
            [scenario_file(muts=[(path, DELETE)])], names=names, area=area)
    # wrong types for containers
    for path, value in [("models", []), ("cluster", "big"), ("cluster/nodes", {}), ("workload", {}),
                        ("policies", []), ("models/resnet50", 5), ("models/resnet50/profile", 5),
                        ("name", 5), ("functions", []), ("function_mapping", "popularity"),
                        ("policies/kserve", "whole-gpu"), ("workload/0", "poisson")]:
        add("json/wrong-type:%s" % path.replace("/", "."), "structure", ["validate", "s.json"],
            [scenario_file(muts=[(path, value)])], names=["s.json", "/" + path], area=area)
    # empty containers, names
    add("json/models-empty", "structure", ["validate", "s.json"], [scenario_file(muts=[("models", {})])],
        names=["s.json", "/models"], area=area)
    add("json/nodes-empty", "structure", ["validate", "s.json"], [scenario_file(muts=[("cluster/nodes", [])])],
        names=["s.json", "/cluster/nodes"], area=area)
    add("json/policies-empty", "structure", ["run", "s.json"], [scenario_file(muts=[("policies", {})])],
        names=["s.json", "/policies"], area=area)
    add("json/model-name-empty", "structure", ["validate", "s.json"],
        [scenario_file(edit=lambda s, c: s["models"].__setitem__("", s["models"]["resnet50"]))],
        names=["s.json", "/models", "empty"], area=area)
    add("json/unknown-policy", "structure", ["validate", "s.json"],
        [scenario_file(muts=[("policies/kserve/policy", "whole-gpus")])],
        names=["s.json", "/policies/kserve/policy"], area=area)
    add("json/functions-to-missing-model", "structure", ["validate", "s.json"],
        [scenario_file(muts=[("functions", {"f": "nosuch"})])], names=["s.json", "/functions/f"], area=area)
    add("json/profile-missing", "structure", ["validate", "s.json"],
        [scenario_file(muts=[("models/resnet50/profile", "nosuch.csv")])], names=["nosuch.csv"], area=area)
    add("json/profile-is-folder", "structure", ["validate", "s.json"],
        [scenario_file(muts=[("models/resnet50/profile", "pdir")]), folder("pdir")], names=["pdir"], area=area)
    add("json/workload-file-missing", "structure", ["validate", "s.json"],
        [scenario_file(muts=[("workload/0/file", "nosuch.json")])], names=["nosuch.json"], area=area)
    add("json/run-unknown-policy-run", "structure", ["run", "s.json", "--policy", "nosuch"], [scenario_file()],
        names=["nosuch"], area="tools/cli_run.cc")
    add("json/compare-unknown-policy-run", "structure", ["compare", "s.json", "--policies", "kserve,nosuch"],
        [scenario_file()], names=["nosuch"], area="tools/cli_run.cc")
    # names that become file names or HDF5 group names: refused, or kept inside results/
    def nothing_outside(ctx, res):
        parent = os.path.dirname(ctx.tmp)
        extra = sorted(set(os.listdir(parent)) - {"w"} - {n for n in os.listdir(parent) if n.startswith("tmp")})
        return "wrote outside the working folder: %s" % extra if extra else None

    def nothing_outside_and_rerun(ctx, res):
        problem = nothing_outside(ctx, res)
        if problem or res.rc != 0:
            return problem
        found = [os.path.join(d, f) for d, _, fs in os.walk(ctx.path("results")) for f in fs if f.endswith(".h5")]
        if len(found) != 1:
            return "expected one result file under results/, found %s" % found
        try:
            _strict(open(ctx.path("sum.json"), encoding="utf-8").read())  # valid UTF-8, strict JSON
        except Exception as e:
            return "the summary JSON is not strict JSON: %s" % e
        back = subprocess.run([ctx.binary, "rerun", found[0], "--no-output"], cwd=ctx.tmp, capture_output=True,
                              timeout=60)
        if back.returncode != 0:
            return "its result does not read back: rerun exit %d: %s" % (
                back.returncode, back.stderr.decode("utf-8", "replace")[:200])
        return None

    for label, edit in [
        ("name-dotdot", lambda s, c: s.__setitem__("name", "../escaped")),
        ("name-slash", lambda s, c: s.__setitem__("name", "a/b")),
        ("name-absolute", lambda s, c: s.__setitem__("name", "/tmp/gpuslice-escaped-by-name")),
        ("name-nul", lambda s, c: s.__setitem__("name", "quick\u0000start")),
        ("model-name-slash", lambda s, c: rename_model(s, "res/net")),
        ("model-name-dot", lambda s, c: rename_model(s, ".")),
        ("model-name-dotdot", lambda s, c: rename_model(s, "..")),
        ("model-name-blank", lambda s, c: rename_model(s, "")),
        ("run-name-slash", lambda s, c: s["policies"].__setitem__("k/s", s["policies"].pop("kserve"))),
        ("run-name-dotdot", lambda s, c: s["policies"].__setitem__("..", s["policies"].pop("kserve"))),
        ("run-name-dot", lambda s, c: s["policies"].__setitem__(".", s["policies"].pop("kserve"))),
        ("run-name-empty", lambda s, c: s["policies"].__setitem__("", s["policies"].pop("kserve"))),
    ]:
        policy = {"run-name-slash": ["--policy", "k/s"], "run-name-dotdot": ["--policy", ".."],
                  "run-name-dot": ["--policy", "."], "run-name-empty": ["--policy", ""]}.get(label, [])
        add("json/%s/run" % label, "structure", ["run", "s.json", "--per-request", "--summary-json", "sum.json"] + policy,
            [scenario_file(base=short_scenario, edit=edit)], expect=(0, 2), names=["s.json"],
            allow_new=[r"results/.*\.h5", r"sum\.json"], check=nothing_outside_and_rerun, area=area,
            alt_names=[["--policy"]] if label == "run-name-empty" else [],
            doc_ok="the name is kept inside results/ and the HDF5 file")
        add("json/%s/compare" % label, "structure", ["compare", "s.json", "-o", "results/r.h5", "--per-request",
                                                     "--summary-json", "sum.json"],
            [scenario_file(base=short_scenario, edit=edit)], expect=(0, 2), names=["s.json"],
            allow_new=[r"results/r\.h5", r"sum\.json"], check=nothing_outside_and_rerun, area=area,
            doc_ok="accepted; the result reads back")

    # files that are not regular files: a pipe (as `<(cat file)` gives), a symlink loop, endless devices
    def fifo(name, content):
        """A FIFO fed by a writer thread once a reader opens it (like bash's process substitution)."""
        def make(ctx):
            os.mkfifo(ctx.path(name))
            data = content(ctx)

            def writer():
                deadline = time.monotonic() + 25
                while time.monotonic() < deadline:
                    try:
                        fd = os.open(ctx.path(name), os.O_WRONLY | os.O_NONBLOCK)
                    except OSError:  # ENXIO: no reader yet; ENOENT: the case is over
                        time.sleep(0.02)
                        continue
                    try:
                        os.set_blocking(fd, True)
                        os.write(fd, data)
                    except OSError:
                        pass
                    finally:
                        os.close(fd)
                    return
            threading.Thread(target=writer, daemon=True).start()
        return make

    def scenario_bytes(ctx):
        return dumps(short_scenario(ctx.src)).encode()

    def csv_bytes(ctx):
        return "\n".join(trace_lines("csv", ctx)).encode() + b"\n"

    def spec_bytes(ctx):
        scenario_file(base=short_scenario, name="s2.json")(ctx)
        return b'{"scenario": "s2.json", "policies": ["kserve"]}'

    def loop(name):
        def make(ctx):
            os.symlink(name, ctx.path(name))
        return make
    special = [
        ("scenario-fifo", ["validate", "s.json"], [fifo("s.json", scenario_bytes)], ["s.json"]),
        ("scenario-symlink-loop", ["validate", "s.json"], [loop("s.json")], ["s.json"]),
        ("scenario-dev-zero", ["validate", "/dev/zero"], [], ["/dev/zero"]),
        ("scenario-dev-urandom", ["run", "/dev/urandom"], [], ["/dev/urandom"]),
        ("trace-fifo", ["trace", "info", "t.csv", "-f", "csv"], [fifo("t.csv", csv_bytes)], ["t.csv"]),
        ("trace-fifo-in-scenario", ["run", "s.json", "--no-output"],
         [fifo("t.csv", csv_bytes), lambda ctx: trace_scenario("csv")(ctx)], ["t.csv"]),
        ("trace-symlink-loop", ["trace", "info", "t.csv", "-f", "csv"], [loop("t.csv")], ["t.csv"]),
        ("trace-dev-zero", ["trace", "info", "/dev/zero", "-f", "csv"], [], ["/dev/zero"]),
        ("trace-dev-urandom-2021", ["trace", "info", "/dev/urandom", "-f", "azure-functions-2021"], [],
         ["/dev/urandom"]),
        ("profile-dev-zero", ["perf", "check", "/dev/zero"], [], ["/dev/zero"]),
        ("spec-fifo", ["sweep", "spec.json", "-o", "out", "-j", "1"], [fifo("spec.json", spec_bytes)], ["spec.json"]),
        ("result-fifo", ["rerun", "r.h5", "--no-output"], [fifo("r.h5", lambda ctx: b"x" * 100)], ["r.h5"]),
    ]
    for label, args, files, names in special:
        fed = "fifo" in label  # valid content through a pipe: read it, or refuse it clearly
        add("file/%s" % label, "structure", args, files, names=names, area="sim/util/files (opening inputs)",
            timeout=20, expect=(0, 2) if fed and label != "result-fifo" else 2,
            allow_new=[r"out/.*"] if label == "spec-fifo" else [], doc_ok="read through the pipe")

    # sweep specs
    sweep_area = "tools/cli_sweep.cc / sim sweep spec"

    def spec(data, scen=True):
        def make(ctx):
            if scen:
                scenario_file(base=short_scenario)(ctx)
            ctx.write("spec.json", data if isinstance(data, (str, bytes)) else dumps(data))
        return make

    good = {"scenario": "s.json", "policies": ["kserve"], "seeds": 1}
    for label, mut, names in [
        ("no-scenario", {"scenario": DELETE}, ["spec.json", "scenario"]),
        ("scenario-missing", {"scenario": "nosuch.json"}, ["nosuch.json"]),
        ("seeds-zero", {"seeds": 0}, ["spec.json", "/seeds"]),
        ("seeds-neg", {"seeds": -3}, ["spec.json", "/seeds"]),
        ("seeds-huge", {"seeds": 1000000000}, ["spec.json", "/seeds"]),
        ("seeds-bigint", {"seeds": BIGINT}, ["spec.json", "/seeds"]),
        ("seeds-list-dup", {"seeds": [1, 1]}, ["spec.json", "/seeds"]),
        ("grid-empty-list", {"grid": {"load_scale": []}}, ["spec.json", "/grid/load_scale"]),
        ("grid-dup-values", {"grid": {"load_scale": [1, 1]}}, ["spec.json", "/grid/load_scale"]),
        ("grid-not-list", {"grid": {"load_scale": 1}}, ["spec.json", "/grid/load_scale"]),
        ("grid-bad-point", {"grid": {"models.resnet50.slo_ms": [100, -1]}}, ["spec.json", "slo_ms=-1"]),
        ("grid-bad-path", {"grid": {"workload.7.rate_rps": [1, 2]}}, ["spec.json", "workload.7"]),
        ("policies-unknown", {"policies": ["nosuch"]}, ["spec.json", "nosuch"]),
        ("unknown-key", {"colour": 1}, ["spec.json", "/colour"]),
        ("set-bad", {"set": {"drain_s": -5}}, ["spec.json", "drain_s"]),
    ]:
        d = dict(good)
        for k, v in mut.items():
            if v is DELETE:
                d.pop(k)
            else:
                d[k] = v
        add("sweep/%s" % label, "structure", ["sweep", "spec.json", "-o", "out", "-j", "1"], [spec(d)],
            names=names, area=sweep_area)
    for label, data in [("empty", ""), ("array", "[]"), ("deep", "[" * 100000 + "]" * 100000),
                        ("garbage", b"\x89PNG\r\n\x1a\n" + bytes(200))]:
        add("sweep/spec-%s" % label, "structure", ["sweep", "spec.json", "-o", "out"], [spec(data)],
            names=["spec.json"], area=sweep_area)
    add("sweep/spec-folder", "structure", ["sweep", "spec.json", "-o", "out"], [folder("spec.json")],
        names=["spec.json"], area=sweep_area)
    # rerun and plot of something that is not a result
    add("rerun/garbage-h5", "structure", ["rerun", "r.h5", "--no-output"], [text_file("r.h5", b"not hdf5" * 100)],
        names=["r.h5"], area="tools/cli_run.cc rerun / sim/hdf5")
    add("rerun/missing", "structure", ["rerun", "nosuch.h5", "--no-output"], [], names=["nosuch.h5"], area="rerun")
    add("rerun/folder", "structure", ["rerun", "r.h5", "--no-output"], [folder("r.h5")], names=["r.h5"], area="rerun",
        forbid=["no such file"])
    add("rerun/truncated-hdf5", "structure", ["rerun", "r.h5", "--no-output"],
        [text_file("r.h5", b"\x89HDF\r\n\x1a\n" + bytes(100))], names=["r.h5"], area="rerun")
    def real_result_cut(ctx):
        scenario_file(base=short_scenario)(ctx)
        subprocess.run([ctx.binary, "run", "s.json", "--policy", "kserve", "-o", "r.h5"], cwd=ctx.tmp,
                       capture_output=True, timeout=60, check=True)
        data = open(ctx.path("r.h5"), "rb").read()
        ctx.write("r.h5", data[:len(data) // 2])

    def real_result_flipped(ctx):
        scenario_file(base=short_scenario)(ctx)
        subprocess.run([ctx.binary, "run", "s.json", "--policy", "kserve", "-o", "r.h5"], cwd=ctx.tmp,
                       capture_output=True, timeout=60, check=True)
        data = bytearray(open(ctx.path("r.h5"), "rb").read())
        for i in range(2048, len(data), 997):
            data[i] ^= 0xFF
        ctx.write("r.h5", bytes(data))
    add("rerun/real-result-cut-in-half", "structure", ["rerun", "r.h5", "--no-output"], [real_result_cut],
        names=["r.h5"], area="rerun / sim/hdf5 reading")
    add("rerun/real-result-bytes-flipped", "structure", ["rerun", "r.h5", "--no-output"], [real_result_flipped],
        expect=(0, 2), names=["r.h5"], area="rerun / sim/hdf5 reading", doc_ok="the stored runs still match")
    add("sweep/merge-without-runs", "structure", ["sweep", "spec.json", "-o", "out", "--merge"],
        [spec(good)], names=["out"], area=sweep_area)
    add("sweep/task-past-end", "structure", ["sweep", "spec.json", "-o", "out", "--task", "99"],
        [spec(good)], names=["--task"], area=sweep_area)
    add("plot/garbage-result", "structure", ["plot", "r.h5", "-o", "p.png"],
        [text_file("r.h5", b"not hdf5" * 100)], names=["r.h5"], area="tools/cli_plot.cc")


_structure()


# ---- --set -----------------------------------------------------------------------------

def _sets():
    area = "--set parsing (sim/scenario overrides)"
    table = [
        ("index-past-end", "workload.5.rate_rps=1", ["workload.5"]),
        ("index-huge", "workload.99999999999999999999.rate_rps=1", ["workload.99999999999999999999"]),
        ("index-negative", "workload.-1.rate_rps=1", ["workload.-1"]),
        ("through-number", "seed.x=1", ["seed.x"]),
        ("through-string", "name.x.y=1", ["name.x"]),
        ("no-equals", "models.resnet50.slo_ms", ["--set", "models.resnet50.slo_ms"]),
        ("empty-path", "=5", ["--set"]),
        ("empty-segment", "models..slo_ms=5", ["models..slo_ms"]),
        ("trailing-dot", "models.resnet50.=5", ["models.resnet50."]),
        ("unknown-key", "models.resnet50.slo=5", ["/models/resnet50/slo"]),
        ("new-model-incomplete", "models.nosuch.slo_ms=5", ["/models/nosuch"]),
        ("value-1e999", "models.resnet50.slo_ms=1e999", ["slo_ms"]),
        ("value-deep", "models.resnet50.slo_ms=" + "[" * 50000 + "]" * 50000, ["slo_ms"]),
        ("path-deep", ".".join(["a"] * 20000) + "=1", ["--set"]),
        ("value-bad-json-obj", "cluster={\"nodes\":", ["/cluster"]),
        ("replace-models-string", "models=abc", ["/models"]),
        ("value-nan", "models.resnet50.slo_ms=NaN", ["/models/resnet50/slo_ms"]),
        ("null-source", "workload.0=null", ["/workload/0"]),
        ("null-models", "models=null", ["/models"]),
    ]
    for label, setarg, names in table:
        add("set/%s" % label, "set", ["validate", "s.json", "--set", setarg], [scenario_file()], names=names, area=area,
            limit=False)
    for label, setarg, names in table[:4] + [table[11], table[12]]:
        add("set/%s/run" % label, "set", ["run", "s.json", "--policy", "kserve", "--set", setarg], [scenario_file()],
            names=names, area=area, limit=False)
    add("set/capacity-bad", "set", ["capacity", "s.json", "--policy", "kserve", "--set", "workload.9.x=1"],
        [scenario_file()], names=["workload.9"], area=area)
    add("set/compare-bad", "set", ["compare", "s.json", "--set", "drain_s=-1"], [scenario_file()],
        names=["drain_s"], area=area)
    add("set/trace-set-unknown", "set", ["trace", "info", "t.csv", "-f", "csv", "--set", "colour=red"],
        [text_file("t.csv", "time_s,function\n0,a\n1,b\n")], names=["colour"], area="tools/cli_trace.cc")
    add("set/trace-set-bad-value", "set", ["trace", "info", "t.csv", "-f", "csv", "--set", "rate_scale=-1"],
        [text_file("t.csv", "time_s,function\n0,a\n1,b\n")], names=["rate_scale"], area="tools/cli_trace.cc")
    add("set/trace-set-no-equals", "set", ["trace", "info", "t.csv", "-f", "csv", "--set", "spread"],
        [text_file("t.csv", "time_s,function\n0,a\n1,b\n")], names=["--set"], area="tools/cli_trace.cc")


_sets()


# ---- traces ------------------------------------------------------------------------------

FIX = "tests/fixtures/traces/"
FORMATS = {
    # format: (fixture, rows kept (header excluded), info args)
    "csv": (None, 200, ["-f", "csv"]),
    "azure-functions-2019": (FIX + "azure-functions-2019-sample/invocations.csv", None, ["-f", "azure-functions-2019"]),
    "azure-functions-2021": (FIX + "azure-functions-2021-sample/Azure2021_200.csv", None, ["-f", "azure-functions-2021"]),
    "azure-llm": (FIX + "azure-llm-2023/AzureLLMInferenceTrace_code.csv", 300, ["-f", "azure-llm", "--function", "code"]),
    "alibaba-genai": (FIX + "alibaba-genai-v2026/lora_request_trace.csv", 300, ["-f", "alibaba-genai"]),
    "mooncake": (FIX + "mooncake-fast25/conversation_trace.jsonl", 300, ["-f", "mooncake", "--function", "llm"]),
}
EXT = {"mooncake": "jsonl"}


def trace_lines(fmt, ctx):
    """The format's good trace as a list of lines (without newlines)."""
    fixture, keep, _ = FORMATS[fmt]
    if fixture is None:
        lines = ["time_s,function,input_tokens,output_tokens"]
        for i in range(keep):
            lines.append("%.3f,%s,%d,%d" % (i * 0.05, ("resnet50", "mobilenet_v3_large")[i % 2], 10 + i, 5))
        return lines
    with open(ctx.fixture(fixture), encoding="utf-8") as f:
        lines = f.read().splitlines()
    if keep is not None:
        lines = lines[:keep + (0 if fmt == "mooncake" else 1)]
    return lines


def tname(fmt):
    return "t." + EXT.get(fmt, "csv")


def trace_file(fmt, mutate=None, name=None, encode=None):
    def make(ctx):
        lines = trace_lines(fmt, ctx)
        if mutate is not None:
            lines = mutate(lines)
        data = "\n".join(lines) + "\n" if isinstance(lines, list) else lines
        if encode is not None:
            data = encode(data if isinstance(data, bytes) else data.encode("utf-8"))
        ctx.write(name or tname(fmt), data)
    return make


def trace_scenario(fmt, name=None, extra=None, duration_s=120):
    def edit(s, ctx):
        src = {"type": fmt, "file": name or tname(fmt)}
        if fmt in ("azure-llm", "mooncake"):
            src["function"] = "resnet50"
        if extra:
            src.update(extra)
        s["workload"] = [src]
        s["function_mapping"] = {"rule": "round_robin"}
        s["duration_s"] = duration_s
        s["drain_s"] = 30
    return scenario_file(edit=edit)


def set_field(lineno, col, value, sep=","):
    """Lines with field `col` of line `lineno` (1-based, header = 1) replaced."""
    def m(lines):
        parts = lines[lineno - 1].split(sep)
        parts[col] = value
        lines[lineno - 1] = sep.join(parts)
        return lines
    return m


def json_line(lineno, key, value):
    def m(lines):
        d = json.loads(lines[lineno - 1])
        if value is DELETE:
            del d[key]
        else:
            d[key] = value
        lines[lineno - 1] = dumps(d, indent=None)
        return lines
    return m


def _trace_variants():
    """(format, label, mutate, names (with {f} for the file), expect)."""
    V = []
    # missing required column
    V += [("csv", "missing-column", lambda L: ["time_s,fn,input_tokens,output_tokens"] + L[1:], ["{f}:1", "function"]),
          ("azure-functions-2019", "missing-column", lambda L: [L[0].replace("HashFunction", "Function")] + L[1:],
           ["{f}:1", "HashFunction"]),
          ("azure-functions-2021", "missing-column", lambda L: ["app,func,end_timestamp,dur"] + L[1:],
           ["{f}:1", "duration"]),
          ("azure-llm", "missing-column", lambda L: ["TIMESTAMP,ContextTokens,Generated"] + L[1:],
           ["{f}:1", "GeneratedTokens"]),
          ("alibaba-genai", "missing-column", lambda L: [L[0].replace("gmt_create", "created")] + L[1:],
           ["{f}:1", "gmt_create"]),
          ("mooncake", "missing-key", json_line(3, "timestamp", DELETE), ["{f}:3", "timestamp"])]
    # short rows: the file cut mid-row (no final newline)
    def cut(n):
        def m(L):
            last = L[n - 1]
            L = L[:n - 1] + [last[:max(1, len(last) // 3)]]
            return "\n".join(L)  # no newline at the end
        return m
    V += [("csv", "cut-mid-row", cut(51), ["{f}:51"]),
          ("azure-functions-2019", "cut-mid-row", cut(5), ["{f}:5"]),
          ("azure-functions-2021", "cut-mid-row", cut(80), ["{f}:80"]),
          ("azure-llm", "cut-mid-row", cut(120), ["{f}:120"]),
          ("alibaba-genai", "cut-mid-row", cut(101), ["{f}:101"]),
          ("mooncake", "cut-mid-row", cut(150), ["{f}:150"])]
    # too few fields in a row in the middle
    V += [("csv", "short-row", lambda L: L[:9] + ["0.45"] + L[10:], ["{f}:10"]),
          ("azure-functions-2019", "short-row", lambda L: L[:3] + [",".join(L[3].split(",")[:20])] + L[4:], ["{f}:4"]),
          ("azure-functions-2021", "short-row", lambda L: L[:9] + ["a,b"] + L[10:], ["{f}:10"]),
          ("azure-llm", "short-row", lambda L: L[:9] + [L[9].split(",")[0]] + L[10:], ["{f}:10"]),
          ("alibaba-genai", "short-row", lambda L: L[:9] + [",".join(L[9].split(",")[:3])] + L[10:], ["{f}:10"])]
    # non-numeric fields
    V += [("csv", "nonnumeric-time", set_field(3, 0, "abc"), ["{f}:3"]),
          ("csv", "nonnumeric-tokens", set_field(4, 2, "many"), ["{f}:4"]),
          ("csv", "nan-time", set_field(3, 0, "nan"), ["{f}:3"]),
          ("csv", "inf-time", set_field(3, 0, "inf"), ["{f}:3"]),
          ("csv", "huge-time", set_field(3, 0, "1e300"), ["{f}:3"]),
          ("csv", "time-1e10", set_field(200, 0, "1e10"), ["{f}:200"]),
          ("azure-functions-2019", "nonnumeric-count", set_field(3, 10, "x"), ["{f}:3"]),
          ("azure-functions-2019", "fraction-count", set_field(3, 10, "2.5"), ["{f}:3"]),
          ("azure-functions-2021", "nonnumeric-end", set_field(3, 2, "soon"), ["{f}:3"]),
          ("azure-functions-2021", "nan-duration", set_field(3, 3, "nan"), ["{f}:3"]),
          ("azure-functions-2021", "huge-end", set_field(3, 2, "1e300"), ["{f}:3"]),
          ("azure-llm", "bad-timestamp", set_field(3, 0, "2023-13-45 99:99:99.0000000"), ["{f}:3"]),
          ("azure-llm", "nonnumeric-tokens", set_field(3, 1, "lots"), ["{f}:3"]),
          ("alibaba-genai", "bad-timestamp", set_field(3, 0, "yesterday"), ["{f}:3"]),
          ("alibaba-genai", "empty-function", set_field(3, 9, ""), ["{f}:3"]),
          ("mooncake", "nonnumeric-timestamp", json_line(3, "timestamp", "soon"), ["{f}:3"]),
          ("mooncake", "malformed-json", lambda L: L[:4] + ['{"timestamp": 5, "input_length":'] + L[5:], ["{f}:5"]),
          ("mooncake", "not-object", lambda L: L[:4] + ["[1, 2]"] + L[5:], ["{f}:5"]),
          ("mooncake", "huge-timestamp", json_line(3, "timestamp", 1e300), ["{f}:3"])]
    # negative counts, tokens, durations
    V += [("azure-functions-2019", "negative-count", set_field(3, 10, "-5"), ["{f}:3"]),
          ("azure-functions-2021", "negative-duration", set_field(3, 3, "-1"), ["{f}:3"]),
          ("azure-llm", "negative-tokens", set_field(3, 2, "-10"), ["{f}:3"]),
          ("csv", "negative-tokens", set_field(3, 3, "-1"), ["{f}:3"]),
          ("mooncake", "negative-length", json_line(3, "input_length", -5), ["{f}:3"]),
          ("azure-functions-2019", "count-2^31", set_field(3, 10, "2147483648"), ["{f}:3"]),
          ("azure-functions-2019", "count-2^64", set_field(3, 10, "18446744073709551617"), ["{f}:3"]),
          ("azure-functions-2019", "huge-day", lambda L: L[:2] + [",".join(L[2].split(",")[:4] + ["49999999"] * 1440)]
           + L[3:], ["{f}"]),
          ("azure-llm", "tokens-2^64", set_field(3, 1, "18446744073709551617"), ["{f}:3"])]
    # time going back
    V += [("csv", "time-goes-back", lambda L: L[:4] + ["0.01,resnet50,1,1"] + L[5:], ["{f}:5"]),
          ("azure-llm", "time-goes-back", set_field(6, 0, "2023-11-16 18:17:01.0000000"), ["{f}:6"]),
          ("alibaba-genai", "time-goes-back", set_field(6, 0, "2024-11-15 00:00:00"), ["{f}:6"]),
          ("mooncake", "time-goes-back", lambda L: L[:199] + [dumps(dict(json.loads(L[199]), timestamp=json.loads(
              L[198])["timestamp"] // 2), indent=None)] + L[200:], ["{f}:200"])]
    # empty file
    V += [(fmt, "empty-file", lambda L: "", ["{f}"]) for fmt in FORMATS if fmt != "mooncake"]
    V += [("mooncake", "empty-file", lambda L: "", ["{f}"], (0, 2))]  # no header needed: an empty trace
    # header only: nothing to replay -- a clear error or an empty trace, never a crash
    V += [(fmt, "header-only", (lambda L: L[:1]), ["{f}"], (0, 2)) for fmt in FORMATS if fmt != "mooncake"]
    # invalid UTF-8 in a function name: an error, or valid output
    V += [("csv", "invalid-utf8-name", lambda L: "\n".join(L[:3] + ["0.2,\udcff\udcfebad,1,1"] + L[4:]).encode(
        "utf-8", "surrogateescape"), ["{f}:4"], (0, 2)),
          ("alibaba-genai", "invalid-utf8-name", lambda L: "\n".join(
              L[:3] + [L[3].replace(L[3].split(",")[9], "M\udcc3(bad")] + L[4:]).encode("utf-8", "surrogateescape"),
           ["{f}:4"], (0, 2)),
          ("azure-functions-2019", "invalid-utf8-name", lambda L: "\n".join(
              L[:3] + [L[3].replace(L[3].split(",")[2], "\udcff\udcfe" + L[3].split(",")[2][2:])] + L[4:]).encode(
              "utf-8", "surrogateescape"), ["{f}:4"], (0, 2)),
          ("azure-functions-2021", "invalid-utf8-name", lambda L: "\n".join(
              L[:3] + [L[3].replace(L[3].split(",")[1], "\udce9t\udce9" + L[3].split(",")[1][3:])] + L[4:]).encode(
              "utf-8", "surrogateescape"), ["{f}:4"], (0, 2))]
    return V


def _traces():
    area_of = {
        "csv": "traces/csv reader", "azure-functions-2019": "traces/azure_functions*.cc",
        "azure-functions-2021": "traces/azure_functions_2021 (external sort)", "azure-llm": "traces/llm_traces.cc",
        "alibaba-genai": "traces/alibaba reader", "mooncake": "traces/llm_traces.cc (mooncake)",
    }
    for v in _trace_variants():
        fmt, label, mutate, names = v[:4]
        expect = v[4] if len(v) > 4 else 2
        f = tname(fmt)
        nm = [n.format(f=f) for n in names]
        info_args = FORMATS[fmt][2]
        chk = check_valid_json_stdout if "utf8" in label else None
        add("trace/%s/%s/info" % (fmt, label), "traces", ["trace", "info", f, "--json"] + info_args,
            [trace_file(fmt, mutate)], expect=expect, names=nm, area=area_of[fmt], check=chk,
            doc_ok="an empty trace, or the name kept as bytes")
        add("trace/%s/%s/validate" % (fmt, label), "traces", ["validate", "s.json"],
            [trace_file(fmt, mutate), trace_scenario(fmt)], expect=expect, names=nm, area=area_of[fmt])
        if label in ("cut-mid-row", "nonnumeric-time", "negative-count", "count-2^31", "time-goes-back",
                     "missing-column", "missing-key", "short-row", "invalid-utf8-name"):
            allow = [r"results", r"results/.*\.h5", r"s\.summary\.json"] if expect != 2 else []
            add("trace/%s/%s/run" % (fmt, label), "traces",
                ["run", "s.json"] + (["--summary-json", "s.summary.json", "--no-output"] if expect != 2 else []),
                [trace_file(fmt, mutate), trace_scenario(fmt)], expect=expect, names=nm, area=area_of[fmt],
                allow_new=allow)
        if label in ("header-only", "empty-file") and expect != 2:
            add("trace/%s/%s/run" % (fmt, label), "traces", ["run", "s.json", "--summary-json", "sum.json", "-o", "r.h5"],
                [trace_file(fmt, mutate), trace_scenario(fmt)], expect=expect, names=nm, area=area_of[fmt],
                allow_new=[r"sum\.json", r"r\.h5"], check=check_strict_summary,
                doc_ok="an empty trace: a run of no requests")
        if label in ("cut-mid-row", "nonnumeric-time", "time-goes-back", "missing-column", "short-row", "empty-file"):
            add("trace/%s/%s/convert" % (fmt, label), "traces", ["trace", "convert", f, "-o", "out.csv"] + info_args,
                [trace_file(fmt, mutate)], expect=expect, names=nm, area=area_of[fmt] + " / tools/cli_trace.cc",
                allow_new=[r"out\.csv"] if expect != 2 else [])
    # skip_bad_rows: the same bad row is skipped and counted
    add("trace/csv/nonnumeric-time/skip", "traces", ["trace", "info", "t.csv", "--json", "-f", "csv", "--skip-bad-rows"],
        [trace_file("csv", set_field(3, 0, "abc"))], expect=0, check=check_requests(199), area="traces/csv reader",
        doc_ok="the bad row skipped and counted")

    # timestamps before 1970 must work
    def llm_1969(L):
        out = [L[0]]
        for i, line in enumerate(L[1:]):
            parts = line.split(",")
            parts[0] = "1969-12-31 23:%02d:%02d.%07d" % (i // 60 % 60, i % 60, 0)
            out.append(",".join(parts))
        return out

    def alibaba_1960(L):
        out = [L[0]]
        for i, line in enumerate(L[1:]):
            parts = line.split(",")
            parts[0] = "1960-01-01 00:%02d:%02d" % (i // 60 % 60, i % 60)
            out.append(",".join(parts))
        return out

    add("trace/azure-llm/before-1970/info", "traces", ["trace", "info", "t.csv", "--json", "-f", "azure-llm",
                                                       "--function", "code"],
        [trace_file("azure-llm", llm_1969)], expect=0, check=check_requests(300), area="traces/llm_traces.cc",
        doc_ok="timestamps before 1970 are read (time 0 is the first row)")
    add("trace/alibaba-genai/before-1970/info", "traces", ["trace", "info", "t.csv", "--json", "-f", "alibaba-genai"],
        [trace_file("alibaba-genai", alibaba_1960)], expect=0, check=check_requests(300), area="traces/alibaba reader",
        doc_ok="timestamps before 1970 are read")
    add("trace/azure-llm/before-1970/run", "traces", ["run", "s.json", "--no-output", "--summary-json", "sum.json"],
        [trace_file("azure-llm", llm_1969), trace_scenario("azure-llm", duration_s=0)], expect=0,
        allow_new=[r"sum\.json"],
        check=lambda ctx, res: _summary_arrived(ctx, 300), area="traces/llm_traces.cc",
        doc_ok="timestamps before 1970 replay")
    # azure-llm without --function must work
    add("trace/azure-llm/no-function/info", "traces", ["trace", "info", "t.csv", "-f", "azure-llm"],
        [trace_file("azure-llm")], expect=0, area="tools/cli_trace.cc", doc_ok="the function defaults to the file's")
    add("trace/mooncake/no-function/info", "traces", ["trace", "info", "t.jsonl", "-f", "mooncake"],
        [trace_file("mooncake")], expect=0, area="tools/cli_trace.cc", doc_ok="the function defaults to the file's")
    # BOM + CRLF accepted; compressed copies read; same request count as the plain file
    for fmt in FORMATS:
        f = tname(fmt)
        info = FORMATS[fmt][2]

        def bomcrlf(b):
            return b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n")
        add("trace/%s/bom-crlf/info" % fmt, "traces", ["trace", "info", "b_" + f, "--json"] + info,
            [trace_file(fmt), trace_file(fmt, name="b_" + f, encode=bomcrlf)], expect=0,
            check=check_requests_like(f, info), area="traces readers (BOM, CRLF)", doc_ok="BOM and CRLF accepted")
        for ext, enc in [("gz", gzip.compress), ("xz", lzma.compress), ("zst", None)]:
            def make_comp(ctx, fmt=fmt, f=f, ext=ext, enc=enc):
                trace_file(fmt)(ctx)
                data = open(ctx.path(f), "rb").read()
                if enc is None:
                    if shutil.which("zstd") is None:
                        raise Skip("zstd is not installed")
                    data = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout
                else:
                    data = enc(data)
                ctx.write(f + "." + ext, data)
            add("trace/%s/%s/info" % (fmt, ext), "traces", ["trace", "info", f + "." + ext, "--json"] + info,
                [make_comp], expect=0, check=check_requests_like(f, info), area="sim/util/files (decompression)",
                doc_ok="read through the decompressor")
        # a corrupt and a truncated gzip
        def corrupt(ctx, fmt=fmt, f=f):
            trace_file(fmt)(ctx)
            data = bytearray(gzip.compress(open(ctx.path(f), "rb").read()))
            for i in range(20, len(data) - 20, 7):
                data[i] ^= 0x5A
            ctx.write(f + ".gz", bytes(data))

        def truncgz(ctx, fmt=fmt, f=f):
            trace_file(fmt)(ctx)
            data = gzip.compress(open(ctx.path(f), "rb").read())
            ctx.write(f + ".gz", data[:len(data) // 2])
        add("trace/%s/corrupt-gzip/info" % fmt, "traces", ["trace", "info", f + ".gz"] + info, [corrupt],
            names=[f + ".gz"], area="sim/util/files (decompression)")
        add("trace/%s/truncated-gzip/validate" % fmt, "traces", ["validate", "s.json"],
            [truncgz, trace_scenario(fmt, name=f + ".gz")], names=[f + ".gz"], area="sim/util/files (decompression)")
        # a folder, a missing file
        add("trace/%s/folder/info" % fmt, "traces", ["trace", "info", f] + info, [folder(f)], names=[f],
            area="traces readers / sim/util/files")
        add("trace/%s/missing/validate" % fmt, "traces", ["validate", "s.json"], [trace_scenario(fmt)], names=[f],
            area="traces readers")
    add("trace/xz-corrupt/info", "traces", ["trace", "info", "t.csv.xz", "-f", "csv"],
        [text_file("t.csv.xz", b"\xfd7zXZ\x00" + bytes(range(200)))], names=["t.csv.xz"], area="sim/util/files")
    add("trace/zst-corrupt/info", "traces", ["trace", "info", "t.csv.zst", "-f", "csv"],
        [text_file("t.csv.zst", b"\x28\xb5\x2f\xfd" + bytes(range(200)))], names=["t.csv.zst"], area="sim/util/files")
    add("trace/unknown-format", "traces", ["trace", "info", "t.csv", "-f", "parquet"],
        [trace_file("csv")], names=["--format", "parquet"], area="tools/cli_trace.cc")

    # a 300 MB line must be refused by a line-length limit, quickly
    def long_line(name, header, prefix):
        def make(ctx):
            with open(ctx.path(name), "wb") as fh:
                fh.write(header)
                fh.write(prefix)
                chunk = b"x" * (1 << 20)
                for _ in range(300):
                    fh.write(chunk)
                fh.write(b"\n")
        return make
    add("trace/csv/300MB-line/info", "traces", ["trace", "info", "t.csv", "-f", "csv"],
        [long_line("t.csv", b"time_s,function\n0,a\n", b"1,")], names=["t.csv:3"], area="line reader limit",
        timeout=20, alone=True)
    add("trace/mooncake/300MB-line/validate", "traces", ["validate", "s.json"],
        [long_line("t.jsonl", b'{"timestamp": 0, "input_length": 1, "output_length": 1}\n', b'{"x": "'),
         trace_scenario("mooncake")], names=["t.jsonl:2"], area="line reader limit", timeout=20, alone=True)
    add("trace/csv/300MB-header/info", "traces", ["trace", "info", "t.csv", "-f", "csv"],
        [long_line("t.csv", b"", b"time_s,function,")], names=["t.csv:1"], area="line reader limit",
        timeout=20, alone=True)

    # azure-functions-2019 durations and memory files
    def f2019(extra_name, mutate):
        def make(ctx):
            trace_file("azure-functions-2019")(ctx)
            for n in ("durations", "memory"):
                src = ctx.fixture(FIX + "azure-functions-2019-sample/%s.csv" % n)
                lines = open(src).read().splitlines()
                if n == extra_name:
                    lines = mutate(lines)
                ctx.write(n + ".csv", "\n".join(lines) + "\n" if isinstance(lines, list) else lines)
        return make
    sc2019 = trace_scenario("azure-functions-2019", extra={"durations": "durations.csv", "memory": "memory.csv"})
    for which, label, mut, names in [
        ("durations", "missing-column", lambda L: [L[0].replace("Average", "Mean", 1)] + L[1:], ["durations.csv:1"]),
        ("durations", "nonnumeric", set_field(3, 3, "slow"), ["durations.csv:3"]),
        ("durations", "negative", set_field(3, 3, "-306"), ["durations.csv:3"]),
        ("durations", "cut-mid-row", lambda L: "\n".join(L[:4] + [L[4][:50]]), ["durations.csv:5"]),
        ("memory", "missing-column", lambda L: [L[0].replace("AverageAllocatedMb", "Avg", 1)] + L[1:], ["memory.csv:1"]),
        ("memory", "nonnumeric", set_field(3, 4, "big"), ["memory.csv:3"]),
        ("memory", "negative", set_field(3, 4, "-5"), ["memory.csv:3"]),
        ("memory", "empty", lambda L: "", ["memory.csv"]),
    ]:
        add("trace/azure-functions-2019/%s-%s/validate" % (which, label), "traces", ["validate", "s.json"],
            [f2019(which, mut), sc2019], names=names, area="traces/azure_functions (durations/memory)")
    add("trace/azure-functions-2019/durations-missing/validate", "traces", ["validate", "s.json"],
        [trace_file("azure-functions-2019"), sc2019], names=["durations.csv"], area="traces/azure_functions")

    # trace source keys (numbers)
    for key, label, value in [("start_s", "neg", -1), ("start_s", "1e10", 1e10), ("start_s", "1e999", INF),
                              ("top_functions", "neg", -1), ("top_functions", "frac", 1.5),
                              ("window_s", "reversed", [10, 5]), ("window_s", "neg", [-1, 10]),
                              ("window_s", "1e10", [0, 1e10]), ("window_s", "1e999", [0, INF]),
                              ("window_s", "one", [0]), ("window_s", "string", "0-10"),
                              ("rate_scale", "zero", 0), ("rate_scale", "neg", -1), ("rate_scale", "1e300", 1e300),
                              ("rate_scale", "1e999", INF), ("rate_scale", "1e7", 1e7),
                              ("time_scale", "zero", 0), ("time_scale", "neg", -1), ("time_scale", "1e-300", 1e-300),
                              ("time_scale", "1e999", INF),
                              ("spread_s", "neg", -1), ("spread_s", "1e10", 1e10), ("spread_s", "zero", 0),
                              ("copy_shift_s", "neg", -1), ("copy_shift_s", "1e10", 1e10),
                              ("spread", "bogus", "bogus"), ("skip_bad_rows", "str", "yes"),
                              ("functions", "absent", ["nosuch"]), ("functions", "string", "resnet50"),
                              ("spacing", "bogus", "bogus")]:
        fmt = "azure-functions-2019" if key == "spacing" else "csv"
        extra = {key: value}
        if key in ("spread_s",):
            extra["spread"] = "uniform"
        if key == "copy_shift_s":
            extra["rate_scale"] = 2.5
        if key == "time_scale" and label == "1e-300":
            pass
        nm = ["s.json", "/workload/0/" + key] if key != "functions" or label != "absent" else ["nosuch"]
        for cmd in (["validate", "s.json"], ["run", "s.json", "--policy", "kserve"]):
            if cmd[0] == "run" and key not in ("start_s", "rate_scale", "time_scale", "window_s"):
                continue
            add("trace/source.%s=%s%s" % (key, label, "/run" if cmd[0] == "run" else ""), "traces", cmd,
                [trace_file(fmt), trace_scenario(fmt, extra=extra)], names=nm, area="trace source keys (traces/)")
    # each key in range, but the transformed times past int64 nanoseconds: refused (naming the source or
    # the row), never wrapped around
    def late_trace(ctx):
        ctx.write("t.csv", "time_s,function\n0,resnet50\n100,mobilenet_v3_large\n9000000000,resnet50\n")

    def long_trace(ctx):
        ctx.write("t.csv", "time_s,function\n" + "".join("%d,resnet50\n" % (i * 100) for i in range(101)))
    for label, files, extra in [
        ("row-9e9-plus-start_s-1e9", [late_trace], {"start_s": 1e9}),
        ("time_scale-1e-6-over-1e4s", [long_trace], {"time_scale": 1e-6}),
        ("copies-1000-shift-1e9", [long_trace], {"rate_scale": 1000, "copy_shift_s": 1e9}),
    ]:
        for cmd in (["validate", "s.json"], ["run", "s.json", "--policy", "kserve", "--no-output",
                                             "--summary-json", "sum.json"]):
            add("trace/overflow=%s%s" % (label, "/run" if cmd[0] == "run" else ""), "traces", cmd,
                files + [trace_scenario("csv", extra=extra, duration_s=0)], names=["s.json", "/workload/0"],
                limit=True, area="traces/transform (time arithmetic)", alt_names=[["t.csv:"]])
    # the same keys through trace info --set
    for setarg, names in [("window_s=[10,5]", ["window_s"]), ("time_scale=0", ["time_scale"]),
                          ("rate_scale=1e300", ["rate_scale"]), ("start_s=1e10", ["start_s"])]:
        add("trace/info-set:%s" % setarg, "traces", ["trace", "info", "t.csv", "-f", "csv", "--set", setarg],
            [trace_file("csv")], names=names, area="tools/cli_trace.cc")

    # stage files (HAS-GPU load JSON)
    def stagefile(mut):
        def make(ctx):
            with open(ctx.fixture("scenarios/workloads/has-gpu-normal.json")) as f:
                d = json.load(f)
            mut(d)
            write_json(ctx, "load.json", d)
        return make

    def stage_sc(ctx):
        scenario_file(muts=[("workload", [{"type": "stages", "function": "resnet50", "file": "load.json"}])])(ctx)
    for label, mut, names, *alt in [
        ("negative-count", lambda d: d["processed_request_counts"].__setitem__(3, -5),
         ["load.json", "/processed_request_counts/3"]),
        ("string-count", lambda d: d["processed_request_counts"].__setitem__(3, "many"),
         ["load.json", "/processed_request_counts/3"]),
        ("huge-count", lambda d: d["processed_request_counts"].__setitem__(3, 1e300),
         ["load.json", "/processed_request_counts/3"], ["s.json", "/workload/0:"]),
        ("inf-count", lambda d: d["processed_request_counts"].__setitem__(3, INF),
         ["load.json", "/processed_request_counts/3"]),
        ("missing-counts", lambda d: d.pop("processed_request_counts"), ["load.json", "processed_request_counts"]),
        ("counts-not-array", lambda d: d.__setitem__("processed_request_counts", 5),
         ["load.json", "/processed_request_counts"]),
        ("empty-counts", lambda d: d.__setitem__("processed_request_counts", []),
         ["load.json", "/processed_request_counts"]),
    ]:
        add("trace/stages/%s/validate" % label, "traces", ["validate", "s.json"], [stagefile(mut), stage_sc],
            names=names, area="traces/stages.cc", alt_names=alt)
    add("trace/stages/garbage/validate", "traces", ["validate", "s.json"],
        [text_file("load.json", b"\x00\x01garbage"), stage_sc], names=["load.json"], area="traces/stages.cc")
    add("trace/stages/truncated/validate", "traces", ["validate", "s.json"],
        [text_file("load.json", '{"processed_request_counts": [5, 6,'), stage_sc], names=["load.json"],
        area="traces/stages.cc")
    add("trace/stages/folder/validate", "traces", ["validate", "s.json"], [folder("load.json"), stage_sc],
        names=["load.json"], area="traces/stages.cc")
    add("trace/stages/both-rates-and-file", "traces", ["validate", "s.json"],
        [stagefile(lambda d: None), scenario_file(muts=[("workload", [
            {"type": "stages", "function": "resnet50", "file": "load.json", "rates_rps": [1, 2]}])])],
        names=["s.json", "/workload/0"], area="traces/stages.cc")


def _summary_arrived(ctx, n):
    with open(ctx.path("sum.json"), encoding="utf-8") as f:
        d = _strict(f.read())
    text = json.dumps(d)
    # the summary's overall arrived count (docs/summary.md)
    arrived = None
    for path in (("runs", 0, "overall", "arrived"), ("overall", "arrived")):
        node = d
        try:
            for p in path:
                node = node[p]
            arrived = node
            break
        except (KeyError, TypeError):
            continue
    if arrived is None:
        return "no arrived count in the summary: %s" % text[:200]
    return None if arrived == n else "arrived %s, expected %s" % (arrived, n)


_traces()


# ---- profiles ------------------------------------------------------------------------------

def _profiles():
    area = "gpu/profile.cc"

    def prof(mutate=None, encode=None):
        def make(ctx):
            with open(ctx.fixture("gpu/profiles/v100/resnet50.csv")) as f:
                lines = f.read().splitlines()
            if mutate:
                lines = mutate(lines)
            data = ("\n".join(lines) + "\n" if isinstance(lines, list) else lines).encode("utf-8") \
                if not isinstance(lines, bytes) else lines
            if encode:
                data = encode(data)
            ctx.write("p.csv", data)
        return make

    # column order: model,gpu,batch,sm_percent,quota_percent,latency_ms
    variants = [
        ("batch-4294967298", set_field(5, 2, "4294967298"), ["p.csv:5"]),
        ("batch-zero", set_field(5, 2, "0"), ["p.csv:5"]),
        ("batch-neg", set_field(5, 2, "-1"), ["p.csv:5"]),
        ("batch-frac", set_field(5, 2, "1.5"), ["p.csv:5"]),
        ("latency-neg", set_field(5, 5, "-3.5"), ["p.csv:5"]),
        ("latency-zero", set_field(5, 5, "0"), ["p.csv:5"]),
        ("latency-nan", set_field(5, 5, "nan"), ["p.csv:5"]),
        ("latency-inf", set_field(5, 5, "inf"), ["p.csv:5"]),
        ("latency-1e300", set_field(5, 5, "1e300"), ["p.csv:5"]),
        ("latency-text", set_field(5, 5, "fast"), ["p.csv:5"]),
        ("sm-zero", set_field(5, 3, "0"), ["p.csv:5"]),
        ("sm-150", set_field(5, 3, "150"), ["p.csv:5"]),
        ("quota-zero", set_field(5, 4, "0"), ["p.csv:5"]),
        ("quota-150", set_field(5, 4, "150"), ["p.csv:5"]),
        ("unknown-gpu", set_field(5, 1, "V200"), ["p.csv:5"]),
        ("missing-latency-column", lambda L: [L[0].replace("latency_ms", "latency")] + L[1:], ["p.csv:1", "latency_ms"]),
        ("missing-batch-column", lambda L: [L[0].replace("batch", "bs")] + L[1:], ["p.csv:1", "batch"]),
        ("short-row", lambda L: L[:4] + ["resnet50,V100-16GB,1"] + L[5:], ["p.csv:5"]),
        ("cut-mid-row", lambda L: "\n".join(L[:99] + [L[99][:15]]), ["p.csv:100"]),
        ("empty", lambda L: "", ["p.csv"]),
        ("header-only", lambda L: L[:1], ["p.csv"]),
        ("incomplete-grid", lambda L: [L[0]] + [l for l in L[1:] if not l.endswith(",100," + l.split(",")[-1])
                                                 or ",1,50,100," not in l], ["p.csv"]),
        ("garbage", lambda L: bytes(range(256)) * 20, ["p.csv"]),
        ("duplicate-row", lambda L: L[:5] + [L[4]] + L[5:], ["p.csv:6"]),
    ]
    for label, mut, names in variants:
        add("profile/%s/validate" % label, "profiles", ["validate", "s.json"],
            [prof(mut), scenario_file(muts=[("models/resnet50/profile", "p.csv")])], names=names, area=area)
        add("profile/%s/perf-check" % label, "profiles", ["perf", "check", "p.csv"], [prof(mut)], names=names,
            area=area + " / tools/cli_perf.cc")
        if label in ("batch-4294967298", "latency-neg", "missing-latency-column", "cut-mid-row", "garbage", "empty"):
            add("profile/%s/perf-predict" % label, "profiles",
                ["perf", "predict", "--profiles", "p.csv", "--model", "resnet50", "--batch", "1", "--sm-percent", "50",
                 "--quota-percent", "100"], [prof(mut)], names=names, area=area + " / tools/cli_perf.cc")
            add("profile/%s/fit" % label, "profiles", ["fit", "p.csv", "-o", "out.csv"], [prof(mut)], names=names,
                area=area + " / fit")
    add("profile/bom/validate", "profiles", ["validate", "s.json"],
        [prof(encode=lambda b: b"\xef\xbb\xbf" + b), scenario_file(muts=[("models/resnet50/profile", "p.csv")])],
        expect=(0, 2), names=["p.csv:1"], area=area, doc_ok="a BOM is skipped")
    add("profile/bom-crlf/perf-check", "profiles", ["perf", "check", "p.csv"],
        [prof(encode=lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n"))], expect=(0, 2), names=["p.csv:1"],
        area=area, doc_ok="a BOM and CRLF are accepted")
    add("profile/folder/perf-check", "profiles", ["perf", "check", "p.csv"], [folder("p.csv")], names=["p.csv"],
        area=area)
    add("profile/missing/perf-predict", "profiles",
        ["perf", "predict", "--profiles", "nosuch.csv", "--model", "resnet50", "--batch", "1", "--sm-percent", "50", "--quota-percent", "100"], [],
        names=["nosuch.csv"], area=area)
    add("profile/model-not-in-profile/perf-predict", "profiles",
        ["perf", "predict", "--profiles", "p.csv", "--model", "vgg99", "--batch", "1", "--sm-percent", "50", "--quota-percent", "100"], [prof()],
        names=["vgg99"],
        area="tools/cli_perf.cc")
    add("profile/model-mismatch/validate", "profiles", ["validate", "s.json"],
        [prof(), scenario_file(muts=[("models/mobilenet_v3_large/profile", "p.csv")])],
        expect=(0, 2), names=["p.csv"], area=area, doc_ok="a profile is read whatever its model column says")
    add("profile/gpu-mismatch/validate", "profiles", ["validate", "s.json"],
        [prof(lambda L: [L[0]] + [l.replace("V100-16GB", "T4") for l in L[1:]]),
         scenario_file(muts=[("models/resnet50/profile", "p.csv")])],
        names=["s.json", "/models/resnet50/profile"], area=area)


_profiles()


# ---- CLI options --------------------------------------------------------------------------

def _cli():
    area = "tools/ (CLI11 option checks)"
    sc = [scenario_file(base=short_scenario)]
    t = [trace_file("csv")]
    table = [
        # (label, args, files, names)
        ("capacity-max-runs-0", ["capacity", "s.json", "--policy", "kserve", "--max-runs", "0"], sc, ["--max-runs"]),
        ("capacity-max-runs-neg", ["capacity", "s.json", "--policy", "kserve", "--max-runs", "-5"], sc, ["--max-runs"]),
        ("capacity-seeds-0", ["capacity", "s.json", "--policy", "kserve", "--seeds", "0"], sc, ["--seeds"]),
        ("capacity-attainment-1.5", ["capacity", "s.json", "--policy", "kserve", "--attainment", "1.5"], sc,
         ["--attainment"]),
        ("capacity-attainment-nan", ["capacity", "s.json", "--policy", "kserve", "--attainment", "nan"], sc,
         ["--attainment"]),
        ("capacity-tolerance-0", ["capacity", "s.json", "--policy", "kserve", "--tolerance", "0"], sc, ["--tolerance"]),
        ("capacity-seed-neg", ["capacity", "s.json", "--policy", "kserve", "--seed", "-4"], sc, ["--seed"]),
        ("capacity-load-scale-0", ["capacity", "s.json", "--policy", "kserve", "--load-scale", "0"], sc,
         ["--load-scale"]),
        ("capacity-no-policy", ["capacity", "s.json"], sc, ["--policy"]),
        ("capacity-unknown-policy", ["capacity", "s.json", "--policy", "nosuch"], sc, ["nosuch"]),
        ("run-seed-neg", ["run", "s.json", "--seed", "-4"], sc, ["--seed"]),
        ("run-seed-bigint", ["run", "s.json", "--seed", "99999999999999999999"], sc, ["--seed"]),
        ("run-seed-frac", ["run", "s.json", "--seed", "1.5"], sc, ["--seed"]),
        ("run-seed-hex", ["run", "s.json", "--seed", "0x10"], sc, ["--seed"]),
        ("capacity-seed-bigint", ["capacity", "s.json", "--policy", "kserve", "--seed", "99999999999999999999"], sc,
         ["--seed"]),
        ("compare-seed-bigint", ["compare", "s.json", "--seed", "99999999999999999999"], sc, ["--seed"]),
        ("fit-seed-bigint", ["fit", "{src}/gpu/profiles/v100/resnet50.csv", "--seed", "99999999999999999999"], [],
         ["--seed"]),
        ("calibrate-seed-bigint", ["calibrate", "--plan", "--seed", "99999999999999999999"], [], ["--seed"]),
        ("capacity-seeds-huge", ["capacity", "s.json", "--policy", "kserve", "--seeds", "1000000000"], sc, ["--seeds"]),
        ("capacity-load-scale-inf", ["capacity", "s.json", "--policy", "kserve", "--load-scale", "inf"], sc,
         ["--load-scale"]),
        ("capacity-load-scale-neg", ["capacity", "s.json", "--policy", "kserve", "--load-scale", "-1"], sc,
         ["--load-scale"]),
        ("trace-info-top-zero-ok", ["trace", "info", "t.csv", "-f", "csv", "--top", "abc"], t, ["--top"]),
        ("run-seed-empty", ["run", "s.json", "--seed", ""], sc, ["--seed"]),
        ("run-load-scale-0", ["run", "s.json", "--load-scale", "0"], sc, ["--load-scale"]),
        ("run-load-scale-neg", ["run", "s.json", "--load-scale", "-1"], sc, ["--load-scale"]),
        ("run-load-scale-inf", ["run", "s.json", "--load-scale", "inf"], sc, ["--load-scale"]),
        ("run-load-scale-nan", ["run", "s.json", "--load-scale", "nan"], sc, ["--load-scale"]),
        ("run-load-scale-1e300", ["run", "s.json", "--load-scale", "1e300"], sc, ["--load-scale"]),
        ("run-format-bogus", ["run", "s.json", "--format", "xml"], sc, ["--format"]),
        ("run-unknown-option", ["run", "s.json", "--sed", "4"], sc, ["--sed"]),
        ("run-no-scenario", ["run"], [], ["scenario"]),
        ("run-two-scenarios", ["run", "s.json", "s.json"], sc, ["s.json"]),
        ("compare-jobs-0", ["compare", "s.json", "-j", "0"], sc, ["--jobs"]),
        ("compare-jobs-neg", ["compare", "s.json", "-j", "-3"], sc, ["--jobs"]),
        ("compare-jobs-huge", ["compare", "s.json", "-j", "100000"], sc, ["--jobs"]),
        ("compare-load-scale-inf", ["compare", "s.json", "--load-scale", "inf"], sc, ["--load-scale"]),
        ("compare-seed-neg", ["compare", "s.json", "--seed", "-1"], sc, ["--seed"]),
        ("compare-policies-empty", ["compare", "s.json", "--policies", ""], sc, ["--policies"]),
        ("sweep-jobs-0", ["sweep", "spec.json", "-o", "out", "-j", "0"], [], ["--jobs"]),
        ("sweep-task-neg", ["sweep", "spec.json", "-o", "out", "--task", "-1"], [], ["--task"]),
        ("sweep-chunk-0", ["sweep", "spec.json", "-o", "out", "--slurm", "--chunk-size", "0"], [], ["--chunk-size"]),
        ("sweep-no-output", ["sweep", "spec.json"], [], ["--output"]),
        ("trace-info-top-neg", ["trace", "info", "t.csv", "-f", "csv", "--top", "-1"], t, ["--top"]),
        ("trace-info-top-bigint", ["trace", "info", "t.csv", "-f", "csv", "--top", "99999999999999999999"], t, ["--top"]),
        ("trace-info-no-format", ["trace", "info", "t.csv", "-f", ""], t, ["--format"]),
        ("trace-convert-no-output", ["trace", "convert", "t.csv", "-f", "csv"], t, ["--output"]),
        ("perf-predict-batch-0", ["perf", "predict", "--profiles", "{src}/gpu/profiles/v100", "--model", "resnet50",
                                  "--batch", "0"], [], ["--batch"]),
        ("perf-predict-batch-2^32", ["perf", "predict", "--profiles", "{src}/gpu/profiles/v100", "--model",
                                     "resnet50", "--batch", "4294967298", "--sm-percent", "50", "--quota-percent", "100"], [], ["--batch"]),
        ("perf-predict-sm-stride-0", ["perf", "predict", "--profiles", "{src}/gpu/profiles/v100", "--model",
                                      "resnet50", "--batch", "1", "--sm-percent", "50", "--quota-percent", "100", "--predictor", "profile", "--sm-stride", "0"], [],
         ["--sm-stride"]),
        ("perf-predict-quota-stride-0", ["perf", "predict", "--profiles", "{src}/gpu/profiles/v100", "--model",
                                         "resnet50", "--batch", "1", "--sm-percent", "50", "--quota-percent", "100", "--predictor", "profile", "--quota-stride", "0"],
         [], ["--quota-stride"]),
        ("perf-predict-token-window-0", ["perf", "predict", "--profiles", "{src}/gpu/profiles/v100", "--model",
                                         "resnet50", "--batch", "1", "--sm-percent", "50", "--quota-percent", "100", "--token-window-ms", "0"], [],
         ["--token-window-ms"]),
        ("perf-predict-token-window-neg", ["perf", "predict", "--profiles", "{src}/gpu/profiles/v100", "--model",
                                           "resnet50", "--batch", "1", "--sm-percent", "50", "--quota-percent", "100", "--token-window-ms", "-40"], [],
         ["--token-window-ms"]),
        ("perf-predict-quota-1e-300", ["perf", "predict", "--profiles", "{src}/gpu/profiles/v100", "--model",
                                       "resnet50", "--batch", "1", "--sm-percent", "50", "--quota-percent", "1e-300"], [],
         ["--quota-percent"]),
        ("perf-predict-sm-percent-0", ["perf", "predict", "--profiles", "{src}/gpu/profiles/v100", "--model",
                                       "resnet50", "--batch", "1", "--sm-percent", "0"], [], ["--sm-percent"]),
        ("perf-predict-sm-percent-150", ["perf", "predict", "--profiles", "{src}/gpu/profiles/v100", "--model",
                                         "resnet50", "--batch", "1", "--sm-percent", "150"], [], ["--sm-percent"]),
        ("perf-predict-predictor-bogus", ["perf", "predict", "--profiles", "{src}/gpu/profiles/v100", "--model",
                                          "resnet50", "--batch", "1", "--sm-percent", "50", "--quota-percent", "100", "--predictor", "bogus"], [], ["bogus"]),
        ("perf-check-token-window-0", ["perf", "check", "{src}/gpu/profiles/v100/resnet50.csv", "--token-window-ms",
                                       "0"], [], ["--token-window-ms"]),
        ("perf-check-token-window-1e-300", ["perf", "check", "{src}/gpu/profiles/v100/resnet50.csv",
                                            "--token-window-ms", "1e-300"], [], ["--token-window-ms"]),
        ("fit-holdout-1", ["fit", "{src}/gpu/profiles/v100/resnet50.csv", "--holdout", "1"], [], ["--holdout"]),
        ("fit-holdout-neg", ["fit", "{src}/gpu/profiles/v100/resnet50.csv", "--holdout", "-0.2"], [], ["--holdout"]),
        ("fit-seed-neg", ["fit", "{src}/gpu/profiles/v100/resnet50.csv", "--seed", "-4"], [], ["--seed"]),
        ("calibrate-batches-neg", ["calibrate", "--plan", "--batches", "-1"], [], ["--batches"]),
        ("calibrate-batches-0", ["calibrate", "--plan", "--batches", "0"], [], ["--batches"]),
        ("calibrate-batches-2^32", ["calibrate", "--plan", "--batches", "4294967298"], [], ["--batches"]),
        ("calibrate-quotas-0", ["calibrate", "--plan", "--quotas", "0"], [], ["--quotas"]),
        ("calibrate-quotas-150", ["calibrate", "--plan", "--quotas", "150"], [], ["--quotas"]),
        ("calibrate-sm-steps-neg", ["calibrate", "--plan", "--sm-steps", "-4"], [], ["--sm-steps"]),
        ("calibrate-repetitions-0", ["calibrate", "--plan", "--repetitions", "0"], [], ["--repetitions"]),
        ("calibrate-window-0", ["calibrate", "--plan", "--window-ms", "0"], [], ["--window-ms"]),
        ("calibrate-seed-neg", ["calibrate", "--plan", "--seed", "-4"], [], ["--seed"]),
        ("calibrate-budget-neg", ["calibrate", "--plan", "--time-budget-s", "-1"], [], ["--time-budget-s"]),
        ("calibrate-models-unknown", ["calibrate", "--plan", "--models", "nosuchnet"], [], ["nosuchnet"]),
        ("plot-dpi-0", ["plot", "r.h5", "-o", "p.png", "--dpi", "0"], [], ["--dpi"]),
        ("plot-size-bad", ["plot", "r.h5", "-o", "p.png", "--size", "0x-3"], [], ["--size"]),
        ("plot-missing-result", ["plot", "nosuch.h5", "-o", "p.png"], [], ["nosuch.h5"]),
        ("rerun-run-unknown", ["rerun", "nosuch.h5", "--run", ""], [], ["nosuch.h5"]),
        ("unknown-subcommand", ["simulate", "s.json"], [], ["simulate"]),
        ("no-subcommand", [], [], ["subcommand"]),
        ("validate-gpu-missing", ["validate-gpu", "nosuch.json"], [], ["nosuch.json"]),
    ]
    for label, args, files, names in table:
        add("cli/%s" % label, "cli", args, files, names=names, area=area)

    def real_result(ctx):
        scenario_file(base=short_scenario)(ctx)
        subprocess.run([ctx.binary, "run", "s.json", "--policy", "kserve", "-o", "r.h5"], cwd=ctx.tmp,
                       capture_output=True, timeout=60, check=True)
    for label, args, names in [
        ("plot-kind-bogus", ["plot", "r.h5", "-o", "p.png", "--kind", "pie"], ["--kind"]),
        ("plot-metric-bogus", ["plot", "r.h5", "-o", "p.png", "--metric", "happiness"], ["happiness"]),
        ("plot-runs-unknown", ["plot", "r.h5", "-o", "p.png", "--runs", "nosuch"], ["nosuch"]),
        ("rerun-run-unknown-real", ["rerun", "r.h5", "--run", "nosuch", "--no-output"], ["nosuch"]),
        ("run-backend-bogus", ["run", "s.json", "--backend", "tpu"], ["--backend"]),
    ]:
        add("cli/%s" % label, "cli", args, [real_result], names=names, area=area)

    # --load-scale within its range, but the scaled sources past theirs: refused naming the source
    add("cli/load-scale-2000-trace-copies", "cli", ["run", "s.json", "--load-scale", "2000"],
        [trace_file("csv"), lambda ctx: trace_scenario("csv")(ctx)], names=["s.json", "/workload/0"], limit=True,
        area="traces/workload.cc (limits after load_scale)")
    add("cli/load-scale-1e6-generator-rate", "cli",
        ["run", "s.json", "--load-scale", "1e6", "--set", "workload.0.rate_rps=100"], sc,
        names=["s.json", "/workload/0"], limit=True, area="traces/workload.cc (limits after load_scale)")
    add("cli/capacity-load-scale-1e6-generator-rate", "cli",
        ["capacity", "s.json", "--policy", "kserve", "--load-scale", "1e6", "--set", "workload.0.rate_rps=100"], sc,
        names=["s.json", "/workload/0"], limit=True, area="sim/capacity.cc (limits after load_scale)")

    def profile_dir(ctx, bad):
        os.makedirs(ctx.path("profs"))
        shutil.copy(ctx.fixture("gpu/profiles/v100/resnet50.csv"), ctx.path("profs/resnet50.csv"))
        if bad:
            ctx.write("profs/broken.csv", "model,gpu,batch\nx,y\n")
    add("cli/perf-predict-folder-with-broken-profile", "cli",
        ["perf", "predict", "--profiles", "profs", "--model", "resnet50", "--batch", "1", "--sm-percent", "50",
         "--quota-percent", "100"], [lambda ctx: profile_dir(ctx, True)], names=["broken.csv"], area="tools/cli_perf.cc")
    add("cli/perf-predict-empty-folder", "cli",
        ["perf", "predict", "--profiles", "profs", "--model", "resnet50", "--batch", "1", "--sm-percent", "50",
         "--quota-percent", "100"], [folder("profs")], names=["profs"], area="tools/cli_perf.cc")


_cli()


# ---- outputs ----------------------------------------------------------------------------

def _outputs():
    area = "tools/cli_util.h (output paths)"
    sc = [scenario_file(base=short_scenario)]
    t = [trace_file("csv")]
    # a place nobody may write, root included (sysfs refuses new files with EACCES)
    noperm = "/sys/gpuslice-bad-input.json"
    table = [
        ("run-o-folder", ["run", "s.json", "-o", "outdir"], sc + [folder("outdir")], ["outdir"]),
        ("run-o-under-file", ["run", "s.json", "-o", "f.txt/r.h5"], sc + [text_file("f.txt", "x")], ["f.txt/r.h5"]),
        ("run-o-exists", ["run", "s.json", "-o", "r.h5"], sc + [text_file("r.h5", "old")], ["r.h5"]),
        ("run-summary-json-folder", ["run", "s.json", "--no-output", "--summary-json", "outdir"],
         sc + [folder("outdir")], ["outdir"]),
        ("run-summary-json-under-file", ["run", "s.json", "--no-output", "--summary-json", "f.txt/s.json"],
         sc + [text_file("f.txt", "x")], ["f.txt/s.json"]),
        ("run-summary-json-no-permission", ["run", "s.json", "--no-output", "--summary-json", noperm], sc, [noperm]),
        ("run-summary-json-and-o-bad", ["run", "s.json", "-o", "f.txt/r.h5", "--summary-json", "sum.json"],
         sc + [text_file("f.txt", "x")], ["f.txt/r.h5"]),
        ("compare-o-folder", ["compare", "s.json", "-o", "outdir"], sc + [folder("outdir")], ["outdir"]),
        ("compare-o-under-file", ["compare", "s.json", "-o", "f.txt/r.h5"], sc + [text_file("f.txt", "x")],
         ["f.txt/r.h5"]),
        ("compare-summary-json-no-permission", ["compare", "s.json", "--no-output", "--summary-json", noperm], sc,
         [noperm]),
        ("trace-convert-o-folder", ["trace", "convert", "t.csv", "-f", "csv", "-o", "outdir"], t + [folder("outdir")],
         ["outdir"]),
        ("trace-convert-o-under-file", ["trace", "convert", "t.csv", "-f", "csv", "-o", "f.txt/o.csv"],
         t + [text_file("f.txt", "x")], ["f.txt/o.csv"]),
        ("trace-convert-o-same-as-input", ["trace", "convert", "t.csv", "-f", "csv", "-o", "t.csv"], t, ["t.csv"]),
        ("trace-convert-o-no-permission", ["trace", "convert", "t.csv", "-f", "csv", "-o", noperm], t, [noperm]),
        ("fit-o-under-file", ["fit", "{src}/gpu/profiles/v100/resnet50.csv", "-o", "f.txt/p.csv"],
         [text_file("f.txt", "x")], ["f.txt/p.csv"]),
        ("sweep-o-is-file", ["sweep", "spec.json", "-o", "f.txt"],
         sc + [text_file("f.txt", "x"), text_file("spec.json", '{"scenario": "s.json"}')], ["f.txt"]),
        ("capacity-no-output-needed", ["capacity", "s.json", "--policy", "kserve", "--max-runs", "-1"], sc,
         ["--max-runs"]),
        ("plot-o-under-file", ["plot", "r.h5", "-o", "f.txt/p.png"], [text_file("f.txt", "x")], ["f.txt/p.png"]),
        ("plot-o-bad-extension", ["plot", "r.h5", "-o", "p.bmp"], [], ["p.bmp"]),
        ("trace-convert-o-exists", ["trace", "convert", "t.csv", "-f", "csv", "-o", "o.csv"],
         t + [text_file("o.csv", "precious\n")], ["o.csv"]),
        ("run-summary-json-same-as-o", ["run", "s.json", "-o", "r.h5", "--summary-json", "r.h5"], sc, ["r.h5"]),
        ("run-o-is-scenario", ["run", "s.json", "-o", "s.json"], sc, ["s.json"]),
        ("fit-o-exists", ["fit", "{src}/gpu/profiles/v100/resnet50.csv", "-o", "p.csv"],
         [text_file("p.csv", "precious\n")], ["p.csv"]),
    ]
    for label, args, files, names in table:
        add("out/%s" % label, "outputs", args, files, names=names, area=area)
    # a full disk: every write fails (ENOSPC); the command must say so and not exit 0
    if os.path.exists("/dev/full"):
        for label, args, files, stdout in [
            ("validate-stdout-full", ["validate", "s.json"], sc, "/dev/full"),
            ("trace-info-stdout-full", ["trace", "info", "t.csv", "-f", "csv", "--json"], t, "/dev/full"),
            ("compare-stdout-full", ["compare", "s.json", "--no-output", "--format", "csv"], sc, "/dev/full"),
            ("perf-check-stdout-full", ["perf", "check", "{src}/gpu/profiles/v100/resnet50.csv", "--json"], [],
             "/dev/full"),
            ("trace-convert-o-full", ["trace", "convert", "t.csv", "-f", "csv", "-o", "/dev/full", "--force"], t, None),
            ("run-summary-json-full", ["run", "s.json", "--no-output", "--summary-json", "/dev/full", "--force"], sc,
             None),
        ]:
            add("out/%s" % label, "outputs", args, files, expect=(1, 2), stdout=stdout, area=area + " (write errors)",
                doc_ok="")
    # a missing parent folder may be made, or refused; a plan writes nothing
    add("out/run-o-missing-dir", "outputs", ["run", "s.json", "-o", "nodir/sub/r.h5"], sc, expect=(0, 2),
        names=["nodir/sub/r.h5"], allow_new=[r"nodir", r"nodir/sub", r"nodir/sub/r\.h5"], area=area,
        doc_ok="the folders are made")
    add("out/calibrate-plan-o-exists", "outputs", ["calibrate", "--plan", "-o", "outdir"], [folder("outdir")],
        expect=(0, 2), names=["outdir"], area=area, doc_ok="--plan writes nothing")


_outputs()


# ---- signals -------------------------------------------------------------------------------

def big_csv(name="big.csv", rows=6_000_000):
    def make(ctx):
        with open(ctx.path(name), "w") as f:
            f.write("time_s,function\n")
            step = 1000
            for start in range(0, rows, step):
                f.write("".join("%d.%03d,fn%d\n" % (i // 1000, i % 1000, i % 7) for i in range(start, start + step)))
    return make


def big_2021(name="big2021.csv", rows=5_000_000):
    """An unsorted Azure Functions 2021 file: the reader sorts it (external merge sort)."""
    def make(ctx):
        with open(ctx.path(name), "w") as f:
            f.write("app,func,end_timestamp,duration\n")
            step = 1000
            for start in range(0, rows, step):
                f.write("".join("a%d,f%d,%d.%03d,0.5\n" % (i % 5, i % 11, (i * 7919) % rows // 100, i % 1000)
                                for i in range(start, start + step)))
    return make


def big_scenario(ctx):
    s = short_scenario(ctx.src)
    s["workload"] = [{"type": "poisson", "function": "resnet50", "rate_rps": 400, "end_s": 36000},
                     {"type": "poisson", "function": "mobilenet_v3_large", "rate_rps": 400, "end_s": 36000}]
    s["cluster"]["nodes"][0]["count"] = 16
    ctx.write("s.json", dumps(s))


def big_trace_scenario(ctx):
    s = short_scenario(ctx.src)
    s["workload"] = [{"type": "csv", "file": "big.csv"}]
    s["function_mapping"] = {"rule": "round_robin"}
    ctx.write("s.json", dumps(s))


def _signals():
    area = "sim/util/interrupt + the command's loops"
    sweep_spec = text_file("spec.json", dumps({"scenario": "s.json", "policies": ["kserve", "has-gpu"], "seeds": 4}))
    table = [
        ("validate", ["validate", "s.json"], [big_csv(), big_trace_scenario]),
        ("trace-info", ["trace", "info", "big.csv", "-f", "csv"], [big_csv()]),
        ("trace-convert", ["trace", "convert", "big.csv", "-f", "csv", "-o", "out.csv"], [big_csv()]),
        ("run", ["run", "s.json", "--policy", "kserve", "-o", "r.h5", "--summary-json", "sum.json"], [big_scenario]),
        ("compare", ["compare", "s.json", "--policies", "kserve,has-gpu", "-o", "r.h5", "-j", "2"], [big_scenario]),
        ("sweep", ["sweep", "spec.json", "-o", "out", "-j", "2"], [big_scenario, sweep_spec]),
        ("capacity", ["capacity", "s.json", "--policy", "kserve"], [big_scenario]),
    ]
    table += [
        ("trace-info-2021-sort", ["trace", "info", "big2021.csv", "-f", "azure-functions-2021"], [big_2021()]),
        ("run-trace-load", ["run", "s.json", "--policy", "kserve"], [big_csv(), big_trace_scenario]),
        ("compare-trace-load", ["compare", "s.json", "-o", "r.h5"], [big_csv(), big_trace_scenario]),
    ]
    for label, args, files in table:
        # validate reads the 6 M rows in about 0.35 s on a fast core (2026-12): signalled sooner,
        # but not before the sanitized build (slower to start) has its handlers: 0.5 s there.
        delay = (0.15, 0.5) if label == "validate" else (0.5,)
        for sig in (signal.SIGINT, signal.SIGTERM):
            allow = [r"out", r"out/spec\.json", r"out/runs"] if label == "sweep" else []
            add("sig/%s/%s" % (label, sig.name), "signals", args, files, expect=130, signal=(sig,) + delay,
                allow_new=allow, area=area, timeout=30)
        if label in ("run", "compare", "sweep"):  # well into the simulation
            add("sig/%s/SIGINT-at-2s" % label, "signals", args, files, expect=130, signal=(signal.SIGINT, 2.0),
                allow_new=allow + ([r"out/runs/[0-9a-f]+\.json"] if label == "sweep" else []), area=area, timeout=30)


_signals()


def all_cases(source):
    return CASES
