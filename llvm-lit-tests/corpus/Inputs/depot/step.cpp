// One step of the depot: every module reports its probes.
#include <cstdarg>
#include <cstdio>

#include "depot.h"

long g_steps = 0;

extern "C" long depot_steps(void) { return g_steps; }

void probe(const char *name, const std::string &value) {
  std::printf("probe %s: %s\n", name, value.c_str());
}

extern "C" void c_probe(const char *name, const char *value) {
  std::printf("probe %s: %s\n", name, value);
}

std::string fmt(const char *format, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, format);
  std::vsnprintf(buf, sizeof buf, format, ap);
  va_end(ap);
  return buf;
}

std::string join(const std::string &a, const std::string &b, char sep) {
  if (a.empty())
    return b;
  return a + sep + b;
}

static void report_step() {
  probe("step.greeting", "depot ready");
}

void depot_step() {
  ++g_steps;
  std::printf("counter: %ld\n", g_steps);
  report_step();
  report_shapes();
  report_routes();
  report_inventory();
  report_events();
  report_parser();
  report_stats();
  report_text();
  report_accounts();
  report_config();
  report_scheduler();
  report_catalog();
  report_orders();
  legacy_report();
  units_report();
}
