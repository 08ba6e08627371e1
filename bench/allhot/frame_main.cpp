// The frame-loop benchmark's main loop: a fixed-step game loop. Run with a
// scale factor; prints the time of the frames and a checksum.
#include "frame.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>

static void frame(World &world) { world.update(1.0f / 60.0f); }

int main(int argc, char **argv) {
  long scale = argc > 1 ? std::atol(argv[1]) : 1;
  World world(4000);
  timespec t0, t1, c0, c1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  for (long f = 0; f < 20 * scale; ++f) frame(world);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  double cpu = (c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6;
  std::printf("ms=%.3f cpu=%.3f check=%.3f\n", ms, cpu, world.checksum());
}
