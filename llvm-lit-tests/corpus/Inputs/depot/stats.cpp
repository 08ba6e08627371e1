// Running statistics: a template accumulator, counters in function-local
// statics and in thread-locals, and a worker thread per step.
#include <string>
#include <thread>

#include "depot.h"

namespace {

template <typename T> struct Running {
  T sum{};
  T min{};
  T max{};
  int n = 0;

  void add(T v) {
    if (n == 0 || v < min)
      min = v;
    if (n == 0 || v > max)
      max = v;
    sum += v;
    ++n;
  }
  T mean() const { return n ? sum / n : T{}; }
  T range() const { return max - min; }
};

template <typename T> std::string summary(const Running<T> &r) {
  return fmt("n=%d mean=%.2f range=%.2f", r.n, static_cast<double>(r.mean()), static_cast<double>(r.range()));
}

thread_local int tl_calls = 0;
thread_local long tl_sum = 0;

} // namespace

static int ticket() {
  static int next = 100;
  return next++;
}

static int calls_so_far() {
  static int calls = 0;
  return ++calls;
}

static Running<double> sample_window() {
  Running<double> r;
  for (int i = 1; i <= 6; ++i)
    r.add(i * 1.5);
  return r;
}

static Running<int> int_window() {
  Running<int> r;
  for (int i = 0; i < 10; ++i)
    r.add((i * 7) % 10);
  return r;
}

static int worker_calls() {
  int seen = -1;
  std::thread t([&seen] {
    tl_calls += 1;
    tl_sum += 40;
    seen = tl_calls * 100 + static_cast<int>(tl_sum);
  });
  t.join();
  return seen;
}

void report_stats() {
  int t = ticket();
  probe("stats.ticket", fmt("T-%d", t - static_cast<int>(g_steps)));
  probe("stats.calls", calls_so_far() == g_steps ? "in-sync" : "out of sync");
  tl_calls += 1;
  tl_sum += 2;
  probe("stats.tls", tl_calls == g_steps && tl_sum == 2 * g_steps ? "in-sync" : "out of sync");
  probe("stats.worker", std::to_string(worker_calls()));
  probe("stats.window", summary(sample_window()));
  probe("stats.ints", summary(int_window()));
}
