import gpuslice  # from $REPO/tools/python (PYTHONPATH)

r = gpuslice.load("results/quickstart-compare-seed1.h5")
print(r.runs)

s = r.summary  # one row per run and model; model "all" is the run as a whole
cols = ["run", "violation_rate", "latency_p99_ms", "fractional_gpu_s", "whole_gpu_s"]
print(s[s.model == "all"][cols].to_string(index=False))

t = r.timeseries  # one row per run and 1 s interval
cols = ["t_s", "arrivals", "violations", "instances_ready", "queue_length"]
print(t[t.run == "kserve"][cols].head(10).to_string(index=False))
