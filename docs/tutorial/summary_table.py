"""A sweep's summary.csv as a markdown table: mean [95% CI] per point and policy.

Usage: python3 summary_table.py SWEEP_FOLDER
"""
import sys

import gpuslice

sweep = gpuslice.load(sys.argv[1])
s = sweep.summary


def cell(metric, scale=1.0, digits=1):
    def text(row):
        mean, low, high = (row[f"{metric}_{k}"] * scale for k in ("mean", "ci95_low", "ci95_high"))
        return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"
    return text


columns = [(p, lambda row, p=p: f"{row[p]:g}") for p in sweep.parameters]
columns += [
    ("policy", lambda row: f"`{row['policy']}`"),
    ("SLO violations % [95% CI]", cell("violation_rate", 100, 2)),
    ("p99 latency ms [95% CI]", cell("latency_p99_ms")),
    ("fractional GPU-s [95% CI]", cell("fractional_gpu_s")),
]
print("| " + " | ".join(name for name, _ in columns) + " |")
print("|" + "---|" * len(columns))
for _, row in s.iterrows():
    print("| " + " | ".join(f(row) for _, f in columns) + " |")
