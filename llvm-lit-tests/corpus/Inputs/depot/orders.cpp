// Order processing: orders advance one state per step, totals are computed
// with tallies, and invalid transitions are reported as exceptions.
#include "orders.h"

#include <stdexcept>

#include "depot.h"

namespace {

class BadTransition : public std::logic_error {
public:
  BadTransition(OrderState from, OrderState to)
      : std::logic_error(std::string("cannot go from ") + state_name(from) + " to " + state_name(to)) {}
};

std::vector<Order> g_orders;
int g_transitions = 0;

struct AuditEntry {
  int order;
  OrderState from;
  OrderState to;
};

std::vector<AuditEntry> g_audit;

class AuditScope {
public:
  AuditScope(int order, OrderState from) : order_(order), from_(from) {}
  ~AuditScope() { g_audit.push_back({order_, from_, to_}); }
  void to(OrderState s) { to_ = s; }

private:
  int order_;
  OrderState from_;
  OrderState to_ = OrderState::Cancelled;
};

} // namespace

const char *state_name(OrderState s) {
  switch (s) {
  case OrderState::New:
    return "new";
  case OrderState::Picked:
    return "picked";
  case OrderState::Packed:
    return "packed";
  case OrderState::Shipped:
    return "shipped";
  case OrderState::Delivered:
    return "delivered";
  case OrderState::Returned:
    return "returned";
  case OrderState::Cancelled:
    return "cancelled";
  }
  return "unknown";
}

OrderState next_state(OrderState s) {
  switch (s) {
  case OrderState::New:
    return OrderState::Picked;
  case OrderState::Picked:
    return OrderState::Packed;
  case OrderState::Packed:
    return OrderState::Shipped;
  case OrderState::Shipped:
    return OrderState::Delivered;
  default:
    return s;
  }
}

long order_total(const Order &o) {
  Tally<long> t;
  for (const OrderLine &l : o.lines)
    t.add(l.cents * l.qty);
  return t.value;
}

static void transition(Order &o, OrderState to) {
  AuditScope scope(o.id, o.state);
  if (to == o.state || (o.state == OrderState::Delivered && to != OrderState::Returned))
    throw BadTransition(o.state, to);
  o.state = to;
  scope.to(to);
  ++g_transitions;
}

static std::vector<Order> &orders() {
  if (g_orders.empty()) {
    g_orders.push_back({1, OrderState::New, {{101, 2, 150}, {117, 1, 654}}, "ada"});
    g_orders.push_back({2, OrderState::Picked, {{128, 4, 161}}, "bob"});
    g_orders.push_back({3, OrderState::Shipped, {{100, 10, 25}, {131, 1, 999}}, "cyd"});
  }
  return g_orders;
}

static std::string advance_demo() {
  Order o{99, OrderState::New, {{100, 1, 25}}, "demo"};
  std::string trail = state_name(o.state);
  while (next_state(o.state) != o.state) {
    transition(o, next_state(o.state));
    trail += std::string(">") + state_name(o.state);
  }
  return trail;
}

static std::string bad_move() {
  Order o{98, OrderState::Delivered, {}, "demo"};
  try {
    transition(o, OrderState::Packed);
    return "moved";
  } catch (const BadTransition &e) {
    return e.what();
  }
}

static std::string customers() {
  Tally<std::string> names;
  for (const Order &o : orders())
    names.add(o.customer);
  return fmt("%d: %s", names.count, names.value.c_str());
}

static long grand_total() {
  Tally<long> t;
  for (const Order &o : orders())
    t.add(order_total(o));
  return t.value;
}

void report_orders() {
  int before = g_transitions;
  probe("orders.demo", advance_demo());
  probe("orders.bad", bad_move());
  probe("orders.customers", customers());
  probe("orders.total", fmt("%ld.%02ld", grand_total() / 100, grand_total() % 100));
  probe("orders.audit", fmt("%d transitions, audit %s", g_transitions - before,
                            g_audit.size() == static_cast<size_t>(5 * g_steps) ? "in-sync" : "out of sync"));
  std::string states;
  for (const Order &o : orders())
    states = join(states, state_name(o.state));
  probe("orders.states", states);
}
