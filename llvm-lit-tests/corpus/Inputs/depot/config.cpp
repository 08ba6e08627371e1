// Configuration values, log levels and the settings read at start-up.
#include "config.h"

#include <map>
#include <string>

#include "depot.h"

namespace {

const Limits kDefaultLimits = {10, 90, 5};

std::map<std::string, std::string> g_settings = {
    {"mode", "standard"},
    {"region", "north"},
    {"shift", "day"},
};

int g_config_reads = 0;

const double kTaxRate = 0.20;

} // namespace

int scaled(int value, int factor) { return value * factor; }

int bounded(int value, const Limits &limits) {
  if (value < limits.low)
    return limits.low;
  if (value > limits.high)
    return limits.high;
  return value - value % limits.step;
}

const char *level_name(Level level) {
  switch (level) {
  case Level::Trace:
    return "TRACE";
  case Level::Debug:
    return "DEBUG";
  case Level::Info:
    return "INFO";
  case Level::Warn:
    return "WARN";
  case Level::Error:
    return "ERROR";
  case Level::Fatal:
    return "FATAL";
  }
  return "?";
}

static std::string setting(const std::string &key) {
  ++g_config_reads;
  auto it = g_settings.find(key);
  return it == g_settings.end() ? "(unset)" : it->second;
}

static long with_tax(long cents) { return static_cast<long>(cents * (1.0 + kTaxRate)); }

void report_config() {
  probe("config.scaled", std::to_string(scaled(14)));
  probe("config.bounded", fmt("%d %d %d", bounded(3, kDefaultLimits), bounded(47, kDefaultLimits),
                              bounded(120, kDefaultLimits)));
  std::string levels;
  for (int i = 0; i < 6; ++i)
    levels = join(levels, level_name(static_cast<Level>(i)));
  probe("config.levels", levels);
  probe("config.mode", setting("mode") + "/" + setting("region") + "/" + setting("missing"));
  probe("config.round", fmt("%d %d", round_up(13), round_up(13, 5)));
  probe("config.tax", std::to_string(with_tax(1000)));
  probe("config.reads", g_config_reads == 3 * g_steps ? "in-sync" : "out of sync");
}
