#!/usr/bin/python3
"""Compares the action logs of two gpuslice results, run by run: every column equal, times
to 1 us (a result may store them narrower). Exit 1 and the first difference when they
differ. Used by check_summaries.sh: a refactoring of a policy must log the same actions.

  compare_actions.py BASE.h5 NEW.h5
"""
import sys

import h5py
import numpy as np


def columns(path):
    out = {}
    with h5py.File(path, "r") as h:
        for run in h["runs"]:
            g = h["runs"][run].get("actions")
            if g is None:
                continue
            cols = {}
            for name in g:
                v = g[name][()]
                if v.dtype.kind in "SO":
                    v = np.array([x.decode() if isinstance(x, bytes) else str(x) for x in v])
                cols[name] = v
            out[run] = cols
    return out


def main():
    base, new = columns(sys.argv[1]), columns(sys.argv[2])
    if sorted(base) != sorted(new):
        print("runs differ:", sorted(base), sorted(new))
        return 1
    for run in base:
        b, n = base[run], new[run]
        for name in sorted(set(b) & set(n)):
            x, y = b[name], n[name]
            if len(x) != len(y):
                print("%s: %d actions before, %d after" % (run, len(x), len(y)))
                return 1
            same = np.abs(x.astype(float) - y.astype(float)) <= 1e-6 if name == "t_s" else x == y
            if not np.all(same):
                i = int(np.argmin(same))
                print("%s: action %d, %s: %r -> %r" % (run, i, name, x[i], y[i]))
                return 1
        print("same actions %-12s %d" % (run, len(b.get("kind", []))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
