#!/usr/bin/env bash
# README command one: set up, build, and compare the policies of the quickstart scenario.
# The table goes to the terminal, the HDF5 file to results/quickstart-compare-seed1.h5 (replaced
# at every call).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
build/release/gpuslice compare scenarios/quickstart.json --force "$@"
