// The event bus: handlers are lambdas stored in std::function objects once,
// at the first step, and called at every step.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "depot.h"

namespace {

struct Handler {
  std::string topic;
  std::function<std::string(int)> fn;
};

struct Bus {
  std::vector<Handler> handlers;
  int delivered = 0;
};

void install(Bus &bus) {
  int base = 7;
  std::string prefix = "evt-";
  bus.handlers.push_back({"double", [](int x) { return std::to_string(x * 2); }});
  bus.handlers.push_back({"offset", [base](int x) { return std::to_string(x + base); }});
  bus.handlers.push_back({"label", [prefix](int x) { return prefix + std::to_string(x); }});
  bus.handlers.push_back({"parity", [](int x) { return std::string(x % 2 ? "odd" : "even"); }});
}

Bus &bus() {
  static Bus b;
  if (b.handlers.empty())
    install(b);
  return b;
}

std::string deliver(Bus &b, const std::string &topic, int value) {
  for (Handler &h : b.handlers) {
    if (h.topic == topic) {
      ++b.delivered;
      return h.fn(value);
    }
  }
  return "no handler";
}

} // namespace

static std::function<int(int)> make_scaler(int factor) {
  return [factor](int v) { return v * factor; };
}

static int apply_twice(const std::function<int(int)> &f, int v) { return f(f(v)); }

void report_events() {
  Bus &b = bus();
  probe("events.double", deliver(b, "double", 21));
  probe("events.offset", deliver(b, "offset", 10));
  probe("events.label", deliver(b, "label", 5));
  probe("events.parity", deliver(b, "parity", 3));
  probe("events.missing", deliver(b, "unknown", 1));
  probe("events.delivered", b.delivered == 4 * g_steps ? "in-sync" : "out of sync");
  auto triple = make_scaler(3);
  probe("events.scaled", std::to_string(apply_twice(triple, 2)));
  std::function<std::string(const std::string &)> shout = [](const std::string &s) { return s + "!"; };
  probe("events.shout", shout("dispatch"));
}
