// Configuration: limits, log levels and scaling rules.
#pragma once
#include <string>

enum class Level { Trace, Debug, Info, Warn, Error, Fatal };

struct Limits {
  int low;
  int high;
  int step;
};

int scaled(int value, int factor = 3);
int bounded(int value, const Limits &limits);
const char *level_name(Level level);

inline int round_up(int value, int multiple = 8) { return (value + multiple - 1) / multiple * multiple; }
