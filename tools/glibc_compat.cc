// glibc 2.36's arc4random, for the standalone gpuslice-calibrate.
//
// The binary links libstdc++ statically, and gcc 12's libstdc++ (random.o, pulled in through
// its string instantiations) references arc4random when built against glibc 2.36 (Debian
// 12), which makes the loader refuse the binary on older glibc (Ubuntu 22.04 has 2.35; RHEL 9
// has 2.34), the GPU machines' systems. A definition here is what the static libstdc++
// binds to instead. It is std::random_device's entropy source only, which the calibration
// does not use; it draws from getrandom(2) (glibc 2.25, Linux 3.17) and, failing that,
// /dev/urandom, and aborts if neither gives bytes rather than return a predictable value.
#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" uint32_t arc4random(void) {
  uint32_t value = 0;
  for (;;) {
    const ssize_t n = getrandom(&value, sizeof value, 0);
    if (n == static_cast<ssize_t>(sizeof value)) return value;
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  if (FILE* f = std::fopen("/dev/urandom", "rb")) {
    const size_t got = std::fread(&value, sizeof value, 1, f);
    std::fclose(f);
    if (got == 1) return value;
  }
  std::abort();
}
