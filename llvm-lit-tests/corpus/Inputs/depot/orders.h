// Orders moving through the depot: a state machine with named states.
#pragma once
#include <string>
#include <vector>

enum class OrderState { New, Picked, Packed, Shipped, Delivered, Returned, Cancelled };

struct OrderLine {
  int product;
  int qty;
  long cents;
};

struct Order {
  int id;
  OrderState state;
  std::vector<OrderLine> lines;
  std::string customer;
};

const char *state_name(OrderState s);
OrderState next_state(OrderState s);
long order_total(const Order &o);

template <typename T> struct Tally {
  T value{};
  int count = 0;
  void add(const T &v) {
    value += v;
    ++count;
  }
};

template <> struct Tally<std::string> {
  std::string value;
  int count = 0;
  void add(const std::string &v) {
    if (!value.empty())
      value += '+';
    value += v;
    ++count;
  }
};
