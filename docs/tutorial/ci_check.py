import math

import pandas as pd
from gpuslice.stats import t_quantile  # Student t, in Python; summary.csv's comes from Boost.Math

runs = pd.read_csv("study/runs.csv")
summary = pd.read_csv("study/summary.csv")


def point(df):  # gpulet at half the load, MobileNet's SLO 150 ms
    return df[(df.load_scale == 0.5) & (df["models.mobilenet_v3_large.slo_ms"] == 150) & (df.policy == "gpulet")]


x = point(runs).set_index("seed")
print(x[["violation_rate", "latency_max_ms"]].to_string())
v = x.violation_rate
n, mean = len(v), v.mean()
half = t_quantile(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n)
print(f"by hand:     mean {mean:.6f}  95% CI [{mean - half:.6f}, {mean + half:.6f}]  (t = {t_quantile(0.975, n - 1):.4f})")
row = point(summary).iloc[0]
print(f"summary.csv: mean {row.violation_rate_mean:.6f}  95% CI [{row.violation_rate_ci95_low:.6f}, {row.violation_rate_ci95_high:.6f}]")
