// ticker: prints a line every 200 ms from describe(), a hot function (the
// whole file is built with -fplugin-arg-hotpatch-all). With --redirect-after N
// a second thread points describe() at describe_loud() after N ticks, while
// the main loop keeps calling it: the loop's state (the tick count and the
// running total) carries on across the redirect.
#include <hotpatch/hotpatch.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

static std::atomic<int> g_ticks{0};

std::string describe(int tick, long total) {
  return "tick " + std::to_string(tick) + ": total " + std::to_string(total);
}

std::string describe_loud(int tick, long total) {
  return "TICK " + std::to_string(tick) + ": TOTAL " + std::to_string(total) + " (redirected)";
}

int main(int argc, char **argv) {
  int redirect_after = -1, ticks = 10;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--redirect-after") && i + 1 < argc)
      redirect_after = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--ticks") && i + 1 < argc)
      ticks = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--ticks N] [--redirect-after N]\n", argv[0]);
      return 2;
    }
  }
  std::printf("ticker: %zu hot functions\n", hotpatch_count());

  std::thread patcher;
  if (redirect_after >= 0)
    patcher = std::thread([redirect_after] {
      while (g_ticks.load() < redirect_after)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      auto t0 = std::chrono::steady_clock::now();
      hotpatch_status st =
          hotpatch_redirect("_Z8describeB5cxx11il", (void *)&describe_loud);
      auto us = std::chrono::duration<double, std::micro>(
                    std::chrono::steady_clock::now() - t0).count();
      if (st == HOTPATCH_OK)
        std::printf("-- describe() redirected in %.1f us while running --\n", us);
      else
        std::printf("-- redirect failed: %s --\n", hotpatch_last_error());
      std::fflush(stdout);
    });

  long total = 0;
  for (int tick = 1; tick <= ticks; ++tick) {
    total += tick;
    std::printf("%s\n", describe(tick, total).c_str());
    std::fflush(stdout);
    g_ticks.store(tick);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (patcher.joinable())
    patcher.join();
  return 0;
}
