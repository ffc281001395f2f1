#!/usr/bin/env bash
# Installs missing dependencies, then configures and builds gpuslice in Release (CMake preset
# "release", Ninja, ccache) under build/release.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
if [ ! -f build/release/build.ninja ]; then
  cmake --preset release >/dev/null
fi
cmake --build --preset release
