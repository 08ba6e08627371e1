// counter: a terminal loop with state. Every 300 ms it advances a counter
// and prints a line rendered by render(); main() never changes, the state
// (the count and the running total) lives across patches. scripts/demo.sh
// edits render() and step() while it runs.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

static long total = 0;

int step(int count) { return count + 1; }

std::string render(int count, long total) {
  return "count " + std::to_string(count) + ", total " + std::to_string(total);
}

int main(int argc, char **argv) {
  int ticks = argc > 1 ? std::atoi(argv[1]) : 1000000;
  int count = 0;
  for (int i = 0; i < ticks; ++i) {
    count = step(count);
    total += count;
    std::printf("%s\n", render(count, total).c_str());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}
