#!/usr/bin/env bash
# The standalone gpuslice-calibrate must load on the GPU machines' systems: no glibc symbol
# newer than 2.34 (RHEL 9; Ubuntu 22.04 has 2.35), and no shared library beyond glibc's and
# libgcc_s (the C++ runtime and CUDA runtime are linked in; cuBLAS and cuDNN are dlopen()ed).
#   portable_binary_test.sh BINARY
set -euo pipefail
bin="$1"
command -v objdump >/dev/null || { echo "SKIP: no objdump"; exit 77; }
newest=$(objdump -T "$bin" | grep -o 'GLIBC_2\.[0-9]*' | sort -V -u | tail -1)
echo "newest glibc symbol version: $newest"
if [ "$(printf '%s\nGLIBC_2.34\n' "$newest" | sort -V | tail -1)" != "GLIBC_2.34" ]; then
  echo "FAIL: $bin needs $newest; symbols:" >&2
  objdump -T "$bin" | grep -E 'GLIBC_2\.(3[5-9]|[4-9][0-9])' >&2
  exit 1
fi
needed=$(objdump -p "$bin" | awk '/NEEDED/ {print $2}' | sort | tr '\n' ' ')
echo "needs: $needed"
for lib in $needed; do
  case "$lib" in
    libc.so.6|libm.so.6|libdl.so.2|libpthread.so.0|librt.so.1|libgcc_s.so.1|ld-linux-x86-64.so.2) ;;
    *) echo "FAIL: $bin needs $lib, which a bare GPU machine may not have" >&2; exit 1 ;;
  esac
done
echo "ok"
