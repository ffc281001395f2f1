"""Draws a gpuslice result: `python3 -m gpuslice.plot RESULT -o FIG.png|pdf|svg [--kind K]`.

Kinds: `compare` (violation rate and cost per run as bars; a sweep's means with 95% CI
error bars), `cdf` (latency CDF and tail per run, from the stored histograms), `timeseries`
(GPUs and GPU fraction held, arrival rate, queue length, stacked), `sweep` (a metric against a
swept parameter, a line per policy with its CI band). The default is `compare` for a
run/compare file and `sweep` for a sweep. `gpuslice plot` runs this module.

Guarantees: the figure is written through a temporary file in the output's folder and a
rename, so FIG is either the complete new figure or untouched; an existing FIG is replaced
only with --force. Bad input prints one line, `gpuslice: error: <file>: <problem>`, and
exits 2 with nothing written; a bug exits 3. Matplotlib runs on the Agg backend.
"""
import argparse
import os
import sys
import tempfile

KINDS = ("compare", "cdf", "timeseries", "sweep")
FORMATS = ("png", "pdf", "svg")
DEFAULT_SIZE = {"compare": (10.0, 4.2), "cdf": (11.0, 4.2), "timeseries": (9.0, 8.5), "sweep": (7.0, 4.5)}
DEFAULT_DPI = 150


class InputError(Exception):
    """Bad input; str() is '<file>: <problem>'."""


def _fail(message, code=2):
    print(f"gpuslice: {'error' if code == 2 else 'internal error'}: {message}", file=sys.stderr)
    sys.exit(code)


try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.lines
    import matplotlib.ticker
    import numpy as np
    from .results import ResultError, Sweep, load
except ImportError as e:  # a Debian package missing: say which, in one line
    _fail(f"python3: {e.name or e} is missing (install python3-h5py, python3-pandas and python3-matplotlib: "
          "tools/install-deps.sh)")


# ---------------------------------------------------------------- labels

_LABELS = {
    "violation_rate": ("SLO violation rate", "%", 100.0),
    "slo_attainment": ("SLO attainment", "%", 100.0),
    "throughput_rps": ("throughput", "req/s", 1.0),
    "fractional_usd": ("cost, fractional GPUs", "USD", 1.0),
    "whole_usd": ("cost, whole GPUs", "USD", 1.0),
    "fractional_gpu_s": ("fractional GPU time", "GPU s", 1.0),
    "whole_gpu_s": ("whole-GPU time", "GPU s", 1.0),
    "sm_seconds_held": ("SM time held", "SM s", 1.0),
    "sm_seconds_busy": ("SM time busy", "SM s", 1.0),
    "fragmentation": ("fragmentation", "%", 100.0),
    "gpus_held": ("whole GPUs held", "GPUs", 1.0),
    "gpu_fraction_held": ("GPU fraction held", "Σ SM share × quota", 1.0),
    "arrival_rate": ("arrival rate", "req/s", 1.0),
    "queue_length": ("queue length", "requests", 1.0),
}


def metric_label(name):
    """(axis label with unit, factor to multiply values by) for a summary or time-series column."""
    if name in _LABELS:
        text, unit, factor = _LABELS[name]
        return f"{text} ({unit})", factor
    for suffix, unit in (("_ms", "ms"), ("_usd", "USD"), ("_rps", "req/s"), ("_s", "s")):
        if name.endswith(suffix):
            return f"{name[:-len(suffix)].replace('_', ' ')} ({unit})", 1.0
    return name.replace("_", " "), 1.0


def _colors(names):
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {n: cycle[i % len(cycle)] for i, n in enumerate(names)}


def _pick(available, wanted, what, source):
    """The names of `wanted` (comma-separated, or all when empty) that are in `available`."""
    if not wanted:
        return list(available)
    names = [w.strip() for w in wanted.split(",") if w.strip()]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise InputError(f"{source}: no {what} {', '.join(unknown)} (there are: {', '.join(map(str, available))})")
    return names


# ---------------------------------------------------------------- compare

def _bars(ax, groups, series, mean, low=None, high=None, colors=None, fmt="{:.3g}"):
    """Grouped bars: one group per x category, one bar per series; `mean[s][g]` etc."""
    width = 0.8 / len(series)
    x = np.arange(len(groups))
    for i, s in enumerate(series):
        m = np.asarray(mean[s], dtype=float)
        yerr = None
        if low is not None:
            yerr = np.vstack([m - np.asarray(low[s], dtype=float), np.asarray(high[s], dtype=float) - m])
        bars = ax.bar(x + (i - (len(series) - 1) / 2) * width, m, width, yerr=yerr, capsize=3,
                      label=str(s), color=colors[s] if colors else None)
        if yerr is None:  # with error bars, the value labels would sit on them
            ax.bar_label(bars, labels=[fmt.format(v) for v in m], fontsize=7, padding=2,
                         rotation=90 if len(series) > 1 else 0)
    ax.set_xticks(x, [str(g) for g in groups])
    if max((len(str(g)) for g in groups), default=0) * len(groups) > 40:
        ax.tick_params(axis="x", rotation=25)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    ax.margins(y=0.25 if len(series) > 1 else 0.12)
    ax.grid(axis="y", alpha=0.3)


def _compare_result(fig, result, args):
    s = result.summary
    s = s[s["model"] == "all"].set_index("run")
    runs = _pick(result.runs, args.runs, "run", result.path)
    metrics = [args.metric] if args.metric else ["violation_rate", "cost"]
    for m in metrics:
        if m != "cost" and m not in s.columns:
            raise InputError(f"{result.path}: unknown metric '{m}' (summary columns: {', '.join(s.columns[3:])})")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, m in zip(axes, metrics):
        if m == "cost":
            series = {"fractional": "fractional_usd", "whole GPUs": "whole_usd"}
            _bars(ax, runs, list(series), {k: s.loc[runs, c] for k, c in series.items()}, fmt="{:.3g}")
            ax.set_ylabel("cost (USD)")
            ax.legend(fontsize=8, ncol=2, loc="upper left")
        else:
            label, factor = metric_label(m)
            _bars(ax, runs, [m], {m: s.loc[runs, m] * factor}, colors={m: "C3" if "violation" in m else "C0"})
            ax.set_ylabel(label)
    scenario = result.attrs.get("scenario", "")
    seconds = result.run_attrs(runs[0]).get("simulated_s")
    fig.suptitle(f"{scenario}: one seed per run" + (f", {seconds:.0f} s simulated" if seconds else ""))


def _point_labels(summary, parameters):
    if not parameters:
        return [""] * len(summary)
    return [", ".join(_value_text(v) for v in row) for row in summary[parameters].itertuples(index=False)]


def _value_text(value):
    """A parameter value as the spec wrote it: 150, not 150.0 (HDF5 stores numbers as doubles)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _seeds_text(summary, what):
    seeds = sorted(set(int(n) for n in summary["seeds"]))
    if seeds == [1]:
        return "one seed per point (no confidence interval)"
    count = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}"
    return f"means over {count} seeds; {what}: 95% confidence interval (Student t)"


def _compare_sweep(fig, sweep, args):
    s = sweep.summary.copy()
    policies = _pick(sweep.policies, args.runs, "policy", sweep.path)
    s = s[s["policy"].isin(policies)]
    metrics = [args.metric] if args.metric else ["violation_rate", "fractional_usd", "whole_usd"]
    for m in metrics:
        if m not in sweep.metrics:
            raise InputError(f"{sweep.path}: unknown metric '{m}' (metrics: {', '.join(sweep.metrics)})")
    s["point"] = _point_labels(s, sweep.parameters)
    points = list(dict.fromkeys(s["point"]))
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    colors = _colors(sweep.policies)
    with_ci = (s["seeds"] > 1).any()
    for ax, m in zip(axes, metrics):
        label, factor = metric_label(m)
        table = {c: s.pivot(index="point", columns="policy", values=f"{m}{c}").loc[points] * factor
                 for c in ("_mean", "_ci95_low", "_ci95_high")}
        if len(points) == 1:  # one point: a bar per policy
            groups, series = policies, [points[0]]
            mean, low, high = ({points[0]: t.loc[points[0], policies].to_numpy()} for t in table.values())
            _bars(ax, groups, series, mean, *((low, high) if with_ci else ()), colors=None)
        else:
            mean, low, high = ({p: t[p].to_numpy() for p in policies} for t in table.values())
            _bars(ax, points, policies, mean, *((low, high) if with_ci else ()), colors=colors)
            ax.set_xlabel(", ".join(sweep.parameters))
        ax.set_ylabel(label)
    if len(points) > 1:
        axes[0].legend(fontsize=8, ncol=len(policies), loc="lower left", bbox_to_anchor=(0, 1.01), frameon=False)
    fig.suptitle(_seeds_text(s, "bars"), fontsize=10)


# ---------------------------------------------------------------- cdf

def _slos(result, run):
    models = result.scenario(run).get("models", {})
    values = models.values() if isinstance(models, dict) else models
    return sorted({float(m["slo_ms"]) for m in values if isinstance(m, dict) and "slo_ms" in m})


def _cdf(fig, result, args):
    if args.metric:
        raise InputError(f"{result.path}: --metric does not apply to --kind cdf")
    runs = _pick(result.runs, args.runs, "run", result.path)
    if "model" not in result.latency_histogram.columns:
        raise InputError(f"{result.path}: no latency_histogram in this file (written by an older gpuslice)")
    ax_cdf, ax_tail = fig.subplots(1, 2)
    colors = _colors(result.runs)
    lowest = np.inf
    for run in runs:
        c = result.latency_cdf(run)
        if c.empty:
            continue
        ax_cdf.plot(c["latency_ms"], c["cdf"], color=colors[run], label=run)
        tail = 1.0 - c["cdf"].to_numpy()
        keep = tail > 0
        ax_tail.plot(c["latency_ms"][keep], tail[keep], color=colors[run], label=run)
        if keep.any():
            lowest = min(lowest, tail[keep].min())
    for slo in _slos(result, runs[0]):
        for ax in (ax_cdf, ax_tail):
            ax.axvline(slo, color="0.4", linestyle=":", linewidth=1)
        ax_cdf.annotate(f"SLO {slo:g} ms", (slo, 0.02), rotation=90, fontsize=7, color="0.3",
                        xytext=(2, 0), textcoords="offset points")
    ax_cdf.set_xscale("log")
    ax_cdf.set_ylim(0, 1.01)
    ax_cdf.set_ylabel("share of completed requests ≤ latency")
    ax_tail.set_xscale("log")
    ax_tail.set_yscale("log")
    if np.isfinite(lowest):
        ax_tail.set_ylim(max(lowest / 2, 1e-7), 1.1)
    for q in (0.1, 0.01, 0.001):
        ax_tail.axhline(q, color="0.85", linewidth=0.8, zorder=0)
    ax_tail.set_ylabel("share of completed requests > latency")
    for ax in (ax_cdf, ax_tail):
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("end-to-end latency (ms, log scale)")
        ax.grid(alpha=0.3, which="both")
    ax_cdf.legend(fontsize=8, loc="lower right")
    ax_cdf.set_title("latency CDF, all models", fontsize=10)
    ax_tail.set_title("tail (1 − CDF)", fontsize=10)


# ---------------------------------------------------------------- timeseries

def _time_axis(seconds):
    span = float(np.nanmax(seconds)) if len(seconds) else 0.0
    if span > 3 * 3600:
        return 3600.0, "h"
    if span > 600:
        return 60.0, "min"
    return 1.0, "s"


def _timeseries(fig, result, args):
    runs = _pick(result.runs, args.runs, "run", result.path)
    ts = result.timeseries
    ts = ts[ts["run"].isin(runs)].copy()
    if ts.empty:
        raise InputError(f"{result.path}: no time series in the selected runs")
    # The arrival rate: arrivals over each interval's length (the last one may be shorter).
    ts["arrival_rate"] = np.nan
    for run in runs:
        rows = ts["run"] == run
        interval = result.interval_s(run)
        end = float(result.run_attrs(run).get("simulated_s", np.inf))
        length = np.clip(np.minimum(interval, end - ts.loc[rows, "t_s"]), 1e-9, None)
        ts.loc[rows, "arrival_rate"] = ts.loc[rows, "arrivals"] / length
    panels = [args.metric] if args.metric else ["gpus_held", "gpu_fraction_held", "arrival_rate", "queue_length"]
    for p in panels:
        if p not in ts.columns or p == "run":
            columns = [c for c in ts.columns if c not in ("run", "t_s")]
            raise InputError(f"{result.path}: unknown metric '{p}' (time-series columns: {', '.join(columns)})")
    scale, unit = _time_axis(ts["t_s"].to_numpy())
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    colors = _colors(result.runs)
    for ax, p in zip(axes, panels):
        label, factor = metric_label(p)
        series = {run: ts[ts["run"] == run] for run in runs}
        source = "arrivals" if p == "arrival_rate" else p  # runs' ends, hence last intervals, differ
        values = [series[run][source].to_numpy() for run in runs]
        if len(runs) > 1 and all(np.array_equal(values[0], v) for v in values[1:]):
            # Every run saw the same values (the arrivals of one seed): one line, said so.
            rows = series[runs[0]]
            ax.plot(rows["t_s"] / scale, rows[p] * factor, drawstyle="steps-post", color="0.2", linewidth=1.1,
                    label="every run")
            ax.legend(fontsize=8, loc="upper right")
        else:
            for run in runs:
                rows = series[run]
                ax.plot(rows["t_s"] / scale, rows[p] * factor, drawstyle="steps-post", color=colors[run],
                        label=run, linewidth=1.1)
        ax.set_ylabel(label.replace(" (", "\n("), fontsize=9)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    axes[-1].set_xlabel(f"simulated time ({unit})")
    handles = [matplotlib.lines.Line2D([], [], color=colors[run], label=run) for run in runs]
    axes[0].legend(handles=handles, fontsize=8, ncol=min(len(runs), 6), loc="lower left", bbox_to_anchor=(0, 1.02),
                   frameon=False)


# ---------------------------------------------------------------- sweep

def _is_numeric(values):
    try:
        [float(v) for v in values]
        return True
    except (TypeError, ValueError):
        return False


def _sweep(fig, sweep, args):
    metric = args.metric or "violation_rate"
    if metric not in sweep.metrics:
        raise InputError(f"{sweep.path}: unknown metric '{metric}' (metrics: {', '.join(sweep.metrics)})")
    if not sweep.parameters:
        raise InputError(f"{sweep.path}: the sweep has no swept parameter to plot against")
    x = args.x or sweep.parameters[0]
    if x not in sweep.parameters:
        raise InputError(f"{sweep.path}: unknown parameter '{x}' (swept: {', '.join(sweep.parameters)})")
    policies = _pick(sweep.policies, args.runs, "policy", sweep.path)
    s = sweep.summary[sweep.summary["policy"].isin(policies)]
    others = [p for p in sweep.parameters if p != x]
    panels = list(dict.fromkeys(_point_labels(s, others))) if others else [""]
    s = s.assign(panel=_point_labels(s, others) if others else "")
    cols = min(len(panels), 3)
    rows = (len(panels) + cols - 1) // cols
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True).reshape(-1)
    label, factor = metric_label(metric)
    colors = _colors(sweep.policies)
    numeric = _is_numeric(s[x])
    categories = list(dict.fromkeys(s[x]))
    for ax, panel in zip(axes, panels):
        for policy in policies:
            d = s[(s["panel"] == panel) & (s["policy"] == policy)]
            if numeric:
                d = d.assign(_x=d[x].astype(float)).sort_values("_x")
                xs = d["_x"].to_numpy()
            else:
                xs = np.array([categories.index(v) for v in d[x]], dtype=float)
            mean = d[f"{metric}_mean"].to_numpy(dtype=float) * factor
            ax.plot(xs, mean, marker="o", markersize=4, color=colors[policy], label=policy)
            ax.fill_between(xs, d[f"{metric}_ci95_low"].to_numpy(dtype=float) * factor,
                            d[f"{metric}_ci95_high"].to_numpy(dtype=float) * factor,
                            color=colors[policy], alpha=0.2, linewidth=0)
        if not numeric:
            ax.set_xticks(range(len(categories)), [str(c) for c in categories])
        if panel:
            ax.set_title(f"{', '.join(others)} = {panel}", fontsize=9)
        ax.set_xlabel(x)
        ax.grid(alpha=0.3)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel(label)
    axes[0].legend(fontsize=8, title="policy", title_fontsize=8)
    fig.suptitle(_seeds_text(s, "bands"), fontsize=10)


# ---------------------------------------------------------------- command line

def _parse_size(text, source):
    try:
        w, h = (float(v) for v in text.lower().split("x"))
        if w > 0 and h > 0 and w * h <= 2500:
            return w, h
    except ValueError:
        pass
    raise InputError(f"{source}: --size must be WIDTHxHEIGHT in inches, e.g. 8x5 (got '{text}')")


def _check_output(path, force):
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise InputError(f"{path}: unknown extension '{os.path.splitext(path)[1]}' (use .png, .pdf or .svg)")
    if os.path.isdir(path):
        raise InputError(f"{path}: is a folder")
    if os.path.exists(path) and not force:
        raise InputError(f"{path}: exists (use --force to overwrite)")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"{path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"{path}: cannot write in {folder}")
    return ext


def _save(fig, path, ext, dpi):
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.tmp-", suffix=f".{ext}")
    try:
        with os.fdopen(fd, "wb") as out:
            fig.savefig(out, format=ext, dpi=dpi)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes it 0600; a figure is as any new file
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def draw(result, kind, args):
    """A matplotlib figure of `result` (a Result or a Sweep) for `kind`."""
    size = _parse_size(args.size, result.path) if args.size else DEFAULT_SIZE[kind]
    if kind == "sweep" and not args.size and isinstance(result, Sweep) and result.parameters:
        panels = len(set(_point_labels(result.summary, [p for p in result.parameters if p != (args.x or result.parameters[0])])))
        if panels > 1:  # a grid of at most 3 columns, each a little narrower than one panel alone
            size = (size[0] * 0.75 * min(panels, 3), size[1] * ((panels + 2) // 3))
    fig = plt.figure(figsize=size, layout="constrained")
    try:
        if args.x and kind != "sweep":
            raise InputError(f"{result.path}: --x applies only to --kind sweep")
        if isinstance(result, Sweep):
            if kind in ("cdf", "timeseries"):
                raise InputError(f"{result.path}: --kind {kind} needs a run/compare result (.h5), not a sweep")
            (_sweep if kind == "sweep" else _compare_sweep)(fig, result, args)
        else:
            if kind == "sweep":
                raise InputError(f"{result.path}: --kind sweep needs a sweep folder or its sweep.h5")
            {"compare": _compare_result, "cdf": _cdf, "timeseries": _timeseries}[kind](fig, result, args)
    except BaseException:
        plt.close(fig)
        raise
    return fig


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        _fail(f"plot: {message}")


def parse_args(argv):
    p = _Parser(prog="gpuslice plot", description="Draw a gpuslice result (run/compare .h5, or a sweep).")
    p.add_argument("result", help="a run/compare HDF5 file, a sweep folder or its sweep.h5")
    p.add_argument("-o", "--output", required=True, help="figure file: .png, .pdf or .svg")
    p.add_argument("--kind", help=f"one of {', '.join(KINDS)} (default: compare, or sweep for a sweep)")
    p.add_argument("--metric", help="summary metric (compare, sweep) or time-series column (timeseries)")
    p.add_argument("--x", help="sweep: the swept parameter on the x axis (default: the first)")
    p.add_argument("--runs", help="comma-separated runs (a sweep: policies) to draw (default: all)")
    p.add_argument("--size", help="figure size in inches, WIDTHxHEIGHT (default per kind)")
    p.add_argument("--dpi", type=float, default=DEFAULT_DPI, help=f"PNG resolution (default {DEFAULT_DPI})")
    p.add_argument("--force", action="store_true", help="overwrite an existing figure")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.dpi <= 0 or args.dpi > 1200:
            raise InputError(f"{args.output}: --dpi must be in (0, 1200] (got {args.dpi:g})")
        ext = _check_output(args.output, args.force)
        result = load(args.result)
        kind = args.kind or ("sweep" if isinstance(result, Sweep) else "compare")
        if kind not in KINDS:
            raise InputError(f"{args.result}: unknown kind '{kind}' ({', '.join(KINDS)})")
        fig = draw(result, kind, args)
        _save(fig, args.output, ext, args.dpi)
        plt.close(fig)
    except (InputError, ResultError) as e:
        _fail(str(e))
    except OSError as e:
        _fail(f"{e.filename or args.output}: {e.strerror or e}")
    except KeyboardInterrupt:
        print("gpuslice: interrupted; no figure written", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # a bug: say so in one line, with the kind of error
        _fail(f"{type(e).__name__}: {e}", code=3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
