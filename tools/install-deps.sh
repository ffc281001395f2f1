#!/usr/bin/env bash
# Installs the Debian 12 packages gpuslice needs, if any is missing. Idempotent, and silent
# when everything is already there. Uses sudo when not run as root.
#   --test   also the packages only the test suite needs (a local Slurm for the sweep tests:
#            slurm-wlm and munge; clang and libFuzzer for tests/fuzz/run.sh; tools/test.sh
#            passes it, tools/quickstart.sh does not)
set -euo pipefail

with_test=0
for arg in "$@"; do
  case "$arg" in
    --test) with_test=1 ;;
    *) echo "usage: $0 [--test]" >&2; exit 2 ;;
  esac
done

packages=(
  g++ cmake ninja-build ccache pkg-config
  libcli11-dev nlohmann-json3-dev libhdf5-dev libboost-dev libboost-iostreams-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-h5py python3-numpy python3-matplotlib python3-pandas
)
test_packages=(slurm-wlm munge clang libclang-rt-14-dev)  # clang + libFuzzer: tests/fuzz/run.sh
if [ "$with_test" -eq 1 ]; then packages+=("${test_packages[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "gpuslice: installing missing Debian packages: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "gpuslice: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# slurm-wlm and munge ship systemd units. Without systemd as PID 1 (a container) their postinst
# starts no daemon (checked on Debian 12). On a booted system munge.service starts munged on
# /run/munge, which the tests' cluster (tools/slurm/local-cluster.sh, its own socket) leaves
# alone, and slurmctld/slurmd do not start without /etc/slurm/slurm.conf, which nothing writes.
