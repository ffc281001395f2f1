#!/usr/bin/python3
"""Exactness of the trace readers on the public samples in tests/fixtures/traces.

Every expected number is computed here, independently of gpuslice, with Python's csv and json
modules, from the files as published; then compared with `gpuslice trace info --json`.

Usage: trace_samples_test.py GPUSLICE_BINARY SOURCE_DIR
"""
import collections
import csv
import datetime
import json
import os
import subprocess
import sys

BINARY, SOURCE = sys.argv[1], sys.argv[2]
FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "traces")
failures = []
passed = 0


def info(path, fmt, *extra):
    out = subprocess.run([BINARY, "trace", "info", path, "-f", fmt, "--json", "--top", "1000", *extra],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def check(name, got, expected, tolerance=0.0):
    global passed
    ok = abs(got - expected) <= tolerance if isinstance(expected, float) else got == expected
    if ok:
        passed += 1
    else:
        failures.append(f"{name}: got {got!r}, expected {expected!r}")


def check_counts(name, stats, counts):
    """counts: an ordered dict name -> count, in order of first appearance."""
    check(name + " requests", stats["requests"], sum(counts.values()))
    check(name + " functions", stats["functions"], len([c for c in counts.values() if c > 0]))
    ranked = sorted(((n, c) for n, c in counts.items() if c > 0), key=lambda x: -x[1])  # stable
    got = [(f["function"], f["requests"]) for f in stats["top_functions"]]
    check(name + " per-function counts", got, ranked)


def seconds(text):
    whole, _, frac = text.partition(".")
    t = datetime.datetime.strptime(whole, "%Y-%m-%d %H:%M:%S")
    return (t - datetime.datetime(1970, 1, 1)).total_seconds(), int((frac + "000000000")[:9]) if frac else 0


def span_ns(first, last):
    (a, an), (b, bn) = seconds(first), seconds(last)
    return (int(b) - int(a)) * 10**9 + (bn - an)


# Azure Functions 2019: per-minute counts; with even spacing the first arrival of minute m is
# at 60 m s and the last of a minute with c invocations at 60 m + 60 (c-1)/c s.
path = os.path.join(FIXTURES, "azure-functions-2019-sample", "invocations.csv")
rows = list(csv.reader(open(path)))
counts = collections.OrderedDict()
per_minute = [0] * (len(rows[0]) - 4)
for r in rows[1:]:
    counts[r[2]] = sum(int(x) for x in r[4:])
    for m, x in enumerate(r[4:]):
        per_minute[m] += int(x)
stats = info(path, "azure-functions-2019", "--set", "spacing=even")
check_counts("azure-2019", stats, counts)
active = [m for m, c in enumerate(per_minute) if c > 0]
last_minute = active[-1]
last_offsets = [(60 * 10**9 * (int(r[4 + last_minute]) - 1)) // int(r[4 + last_minute])
                for r in rows[1:] if int(r[4 + last_minute]) > 0]
check("azure-2019 first_s", stats["first_s"], 60.0 * active[0], 1e-9)
check("azure-2019 last_s", stats["last_s"], 60.0 * last_minute + max(last_offsets) / 1e9, 1e-9)
check("azure-2019 peak per minute", stats["rate_per_minute"]["peak"], float(max(per_minute)))

# Azure Functions 2021: one row per invocation, arrival = end - duration, unsorted.
path = os.path.join(FIXTURES, "azure-functions-2021-sample", "Azure2021_200.csv")
rows = list(csv.DictReader(open(path)))
arrivals = sorted((float(r["end_timestamp"]) - float(r["duration"]), i) for i, r in enumerate(rows))
counts = collections.OrderedDict()
for _, i in arrivals:
    key = rows[i]["app"] + "/" + rows[i]["func"]
    counts[key] = counts.get(key, 0) + 1
stats = info(path, "azure-functions-2021")
check_counts("azure-2021", stats, counts)
check("azure-2021 requests", stats["requests"], 199)
check("azure-2021 functions", stats["functions"], 31)
shift = -min(0.0, arrivals[0][0])
check("azure-2021 first_s", stats["first_s"], arrivals[0][0] + shift, 1e-6)
check("azure-2021 span_s", stats["span_s"], arrivals[-1][0] - arrivals[0][0], 1e-6)

# Azure LLM 2023: CRLF, no final newline, 7-digit fractions.
for service, expected_rows in (("code", 8819), ("conv", 19366)):
    path = os.path.join(FIXTURES, "azure-llm-2023", f"AzureLLMInferenceTrace_{service}.csv")
    rows = list(csv.DictReader(open(path, newline="")))
    stats = info(path, "azure-llm", "--function", service)
    check(f"azure-llm {service} requests", stats["requests"], expected_rows)
    check(f"azure-llm {service} rows", len(rows), expected_rows)
    check(f"azure-llm {service} span_s", stats["span_s"],
          span_ns(rows[0]["TIMESTAMP"], rows[-1]["TIMESTAMP"]) / 1e9, 1e-9)
    check(f"azure-llm {service} input tokens", stats["input_tokens_mean"],
          sum(int(r["ContextTokens"]) for r in rows) / len(rows), 1e-9)
    check(f"azure-llm {service} output tokens", stats["output_tokens_mean"],
          sum(int(r["GeneratedTokens"]) for r in rows) / len(rows), 1e-9)

# Alibaba GenAI 2026: 25 rows have an empty model id; without --skip-bad-rows that stops the
# read at the first of them, with file:line.
path = os.path.join(FIXTURES, "alibaba-genai-v2026", "lora_request_trace.csv")
rows = list(csv.DictReader(open(path)))
bad_lines = [i + 2 for i, r in enumerate(rows) if r["checkpoint_model_version_id"] == ""]
check("alibaba bad rows", len(bad_lines), 25)
out = subprocess.run([BINARY, "trace", "info", path, "-f", "alibaba-genai"], capture_output=True, text=True)
check("alibaba exit code", out.returncode, 2)
check("alibaba error", f"{path}:{bad_lines[0]}: empty checkpoint_model_version_id" in out.stderr, True)
good = [r for r in rows if r["checkpoint_model_version_id"] != ""]
counts = collections.OrderedDict()
for r in good:
    counts[r["checkpoint_model_version_id"]] = counts.get(r["checkpoint_model_version_id"], 0) + 1
stats = info(path, "alibaba-genai", "--skip-bad-rows")
check_counts("alibaba", stats, counts)
check("alibaba skipped", stats["skipped_rows"], 25)
check("alibaba span_s", stats["span_s"], span_ns(good[0]["gmt_create"], good[-1]["gmt_create"]) / 1e9, 1e-9)
per_second = collections.Counter(r["gmt_create"] for r in good)
check("alibaba peak per second", stats["rate_per_second"]["peak"], float(max(per_second.values())))
spread = info(path, "alibaba-genai", "--skip-bad-rows", "--set", "spread=uniform")
check("alibaba spread keeps every request", spread["requests"], len(good))

# Mooncake FAST'25: JSON lines, ms timestamps.
path = os.path.join(FIXTURES, "mooncake-fast25", "conversation_trace.jsonl")
lines = [json.loads(line) for line in open(path)]
stats = info(path, "mooncake", "--function", "kimi")
check("mooncake requests", stats["requests"], len(lines))
check("mooncake requests (SOURCE)", len(lines), 12031)
check("mooncake span_s", stats["span_s"], (lines[-1]["timestamp"] - lines[0]["timestamp"]) / 1000.0, 1e-9)
check("mooncake input tokens", stats["input_tokens_mean"], sum(x["input_length"] for x in lines) / len(lines), 1e-6)
check("mooncake output tokens", stats["output_tokens_mean"], sum(x["output_length"] for x in lines) / len(lines), 1e-6)
per_second = collections.Counter(x["timestamp"] // 1000 for x in lines)
check("mooncake peak per second", stats["rate_per_second"]["peak"], float(max(per_second.values())))

for f in failures:
    print("FAILED:", f)
print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
