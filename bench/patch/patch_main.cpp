// The patch benchmark's main (bench/patch/CMakeLists.txt): replaces the
// generated main.cpp of bench/fatlink/gen_program.py, which runs once and
// exits. It defines fl::mix as the generated one does, then serves the
// driver until stdin closes: each line "x depth" is answered with one line,
// BENCH_EDIT_FUNC(x, depth), so the driver sees which version of the edited
// function the process runs. The call goes through the function's slot, as
// every call of a hot function does.
#include <cstdio>
#include <cstring>

#include BENCH_EDIT_HEADER

uint64_t fl::mix(const char *s, uint64_t x) {
  for (size_t i = 0, n = std::strlen(s); i < n; ++i)
    x = (x ^ uint8_t(s[i])) * 0x100000001b3ull;
  return x;
}

int main() {
  std::printf("ready\n");
  std::fflush(stdout);
  char line[256];
  while (std::fgets(line, sizeof line, stdin)) {
    unsigned long long x;
    int depth;
    if (std::sscanf(line, "%llu %d", &x, &depth) != 2)
      continue;
    std::printf("%llu\n", (unsigned long long)BENCH_EDIT_FUNC(x, depth));
    std::fflush(stdout);
  }
  return 0;
}
