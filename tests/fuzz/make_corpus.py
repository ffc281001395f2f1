#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/<target>/ from the repository's real
samples (tests/fixtures/traces, scenarios, gpu/profiles): small cuts, so that each seed fits
the target's -max_len. Run from anywhere; rerun after the samples change. The fuzzers add
what they find to build/fuzz/corpus/<target>/, never here."""
import csv
import io
import json
import os
import shutil

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
FIX = os.path.join(ROOT, "tests", "fixtures", "traces")


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def head(path, lines):
    return b"".join(read(path).splitlines(keepends=True)[:lines])


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def scenario_seeds():
    # The scenario target resolves relative paths against scenarios/: rewrite those of the
    # scenarios stored one folder deeper.
    small = ["quickstart.json", "gpulet-mix.json", "has-gpu-ablations.json", "predictor-error.json",
             "what-if-h200.json", "validation/whole-gpu.json", "validation/has-gpu.json",
             "validation/static-slices.json", "has-gpu-v100/resnet50-normal.json",
             "has-gpu-v100/mobilenet_v3_large-stress.json", "traces/csv.json", "traces/azure-functions-2019.json",
             "traces/azure-functions-2021.json"]
    for rel in small:
        doc = json.loads(read("scenarios/" + rel))
        sub = os.path.dirname(rel)

        def fix(p):
            if not sub or os.path.isabs(p):
                return p
            return os.path.normpath(os.path.join(sub, p))

        for m in doc.get("models", {}).values():
            if "profile" in m:
                m["profile"] = fix(m["profile"])
        for w in doc.get("workload", []):
            for key in ("file", "durations", "memory"):
                if key in w:
                    w[key] = fix(w[key])
        put("scenario", rel.replace("/", "-"), json.dumps(doc, indent=1) + "\n")
    put("scenario", "syntax-error.json", b'{"name": "x", "seed": 1,\n "models": {]\n')


def azure2019_seeds():
    inv = read("tests/fixtures/traces/azure-functions-2019-sample/invocations.csv").splitlines()
    cut = lambda line, minutes: b",".join(line.split(b",")[:4 + minutes])
    put("trace_azure2019", "sample-60min.csv", b"\n".join(cut(l, 60) for l in inv[:6]) + b"\n")
    put("trace_azure2019", "sample-10min-crlf.csv", b"\r\n".join(cut(l, 10) for l in inv) + b"\r\n")
    put("trace_azure2019", "sample-2rows.csv", b"\n".join(inv[:3]) + b"\n")
    put("trace_azure2019_durations", "sample.csv", head("tests/fixtures/traces/azure-functions-2019-sample/durations.csv", 11))
    put("trace_azure2019_memory", "sample.csv", head("tests/fixtures/traces/azure-functions-2019-sample/memory.csv", 11))
    mem = read("tests/fixtures/traces/azure-functions-2019-sample/memory.csv").decode().splitlines()
    rows = list(csv.reader(mem))
    app_only = io.StringIO()
    w = csv.writer(app_only, lineterminator="\n")
    for r in rows:
        w.writerow([r[0], r[1]] + r[3:])  # the original per-app layout: no HashFunction
    put("trace_azure2019_memory", "per-app.csv", app_only.getvalue())


def other_trace_seeds():
    put("trace_csv", "azure2021-sample.csv", head("scenarios/traces/azure2021-sample.csv", 25))
    put("trace_csv", "tokens.csv", "time_s,function,input_tokens,output_tokens,extra\n0,a,10,20,x\n0.5,b,3,4,y\n"
                                   "0.5,a,,,z\n2,b,100,1,w\n")
    put("trace_azure2021", "sample.csv", head("tests/fixtures/traces/azure-functions-2021-sample/Azure2021_200.csv", 30))
    put("trace_azure_llm", "code-2023.csv", head("tests/fixtures/traces/azure-llm-2023/AzureLLMInferenceTrace_code.csv", 40))
    put("trace_azure_llm", "conv-2023.csv", head("tests/fixtures/traces/azure-llm-2023/AzureLLMInferenceTrace_conv.csv", 40))
    put("trace_azure_llm", "2024-offsets.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2024-05-10 00:00:00.009930+00:00,2162,5\n"
        "2024-05-10 00:00:00+00:00,100,1\n2024-05-10 00:00:00.054489+00:00,1024,23\n"
        "2024-05-10 00:00:01.123456+00:00,17,600\n")
    put("trace_alibaba", "sample.csv", head("tests/fixtures/traces/alibaba-genai-v2026/lora_request_trace.csv", 40))
    put("trace_mooncake", "conversation.jsonl", head("tests/fixtures/traces/mooncake-fast25/conversation_trace.jsonl", 12))
    put("trace_stages", "has-gpu-normal.json", read("scenarios/workloads/has-gpu-normal.json"))
    put("trace_stages", "has-gpu-stress.json", read("scenarios/workloads/has-gpu-stress.json"))


def profile_seeds():
    for model in ("resnet50", "mobilenet_v3_large"):
        lines = read(f"gpu/profiles/v100/{model}.csv").decode().splitlines()
        header, rows = lines[0], [l.split(",") for l in lines[1:]]
        cols = header.split(",")
        b, s, q = cols.index("batch"), cols.index("sm_percent"), cols.index("quota_percent")
        # A full cube on a few grid lines: batches 1, 2; SM 5, 50, 100; quotas 10, 50, 100.
        keep = [r for r in rows if r[b] in ("1", "2") and r[s] in ("5", "50", "100") and r[q] in ("10", "50", "100")]
        put("profile", f"{model}-cube.csv", "\n".join([header] + [",".join(r) for r in keep]) + "\n")
        full = [r for r in rows if r[q] == "100" and r[s] in ("10", "20", "100")]
        put("profile", f"{model}-full-quota.csv", "\n".join([header] + [",".join(r) for r in full]) + "\n")
    put("profile", "sm-count-spread.csv",
        "model,gpu,batch,sm_count,quota_percent,latency_ms,spread_ms\n"
        "m,V100-16GB,1,8,100,10.5,0.2\nm,V100-16GB,1,80,100,2.5,0.1\n"
        "m,V100-16GB,4,8,100,30.0,0.5\nm,V100-16GB,4,80,100,6.0,0.3\n")


def set_seeds():
    put("set", "slo.txt", "models.a.slo_ms=150")
    put("set", "several.txt", "workload.0.rate_rps=20\npolicies.kserve.container_concurrency=4\nseed=7\n")
    put("set", "string.txt", "name=my run\nmodels.b.max_batch=\"8\"")
    put("set", "array.txt", "cluster.nodes.0.count=3\nworkload.1.rates_rps=[0,5,1e3]")
    put("set", "object.txt", 'executor={"noise": {"kind": "lognormal", "cv": 0.1}}\nmodels.c={"latency_ms": 1}')


if __name__ == "__main__":
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    scenario_seeds()
    azure2019_seeds()
    other_trace_seeds()
    profile_seeds()
    set_seeds()
    for t in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, t))
        print(f"{t}: {len(files)} seeds, {sum(os.path.getsize(os.path.join(OUT, t, f)) for f in files)} bytes")
