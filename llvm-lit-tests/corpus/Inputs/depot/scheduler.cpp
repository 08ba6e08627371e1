// The scheduler: tasks are function pointers kept in a table filled at
// start-up, callbacks for qsort, and a registry of named jobs.
#include <cstdlib>
#include <map>
#include <string>

#include "config.h"
#include "depot.h"

using Task = int (*)(int);

static int task_increment(int v) { return v + 1; }
static int task_double(int v) { return v * 2; }
static int task_square(int v) { return v * v; }
static int task_negate(int v) { return -v; }

Task g_pipeline[4] = {task_increment, task_double, task_square, task_negate};

static int run_pipeline(int v) {
  for (Task t : g_pipeline)
    v = t(v);
  return v;
}

static int by_value(const void *a, const void *b) {
  int x = *static_cast<const int *>(a);
  int y = *static_cast<const int *>(b);
  return (x > y) - (x < y);
}

static std::string sorted_text(int *values, int n) {
  std::qsort(values, n, sizeof(int), by_value);
  std::string r;
  for (int i = 0; i < n; ++i)
    r = join(r, std::to_string(values[i]));
  return r;
}

static std::map<std::string, Task> &jobs() {
  static std::map<std::string, Task> registry = {
      {"inc", task_increment},
      {"dbl", task_double},
      {"sqr", task_square},
  };
  return registry;
}

struct Shift {
  const char *name;
  int start;
  int hours;
};

static const Shift kShifts[] = {{"early", 6, 8}, {"day", 9, 8}, {"late", 14, 8}, {"night", 22, 8}};

static const char *shift_at(int hour) {
  for (const Shift &s : kShifts)
    if (hour >= s.start && hour < s.start + s.hours)
      return s.name;
  return "night";
}

void report_scheduler() {
  probe("scheduler.pipeline", std::to_string(run_pipeline(3)));
  int values[] = {42, 7, 19, 3, 88, 21};
  probe("scheduler.sorted", sorted_text(values, 6));
  std::string ran;
  for (auto &[name, task] : jobs())
    ran = join(ran, name + "=" + std::to_string(task(5)));
  probe("scheduler.jobs", ran);
  probe("scheduler.shift", fmt("%s %s %s", shift_at(7), shift_at(12), shift_at(23)));
  probe("scheduler.rounded", std::to_string(round_up(scaled(5))));
}
