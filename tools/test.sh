#!/usr/bin/env bash
# README command two: set up, build, and run the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --test # also slurm-wlm and munge, for the local-Slurm tests
tools/build.sh
ctest --preset release "$@"
