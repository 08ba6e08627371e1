// The inventory: a bin filled once and restocked at every step, and a ring
// buffer of the latest totals.
#include "inventory.h"

#include <cstdio>

#include "depot.h"
#include "pool.h"

namespace {
RingBuffer<int, 4> g_recent;
}

Bin &main_bin() {
  static Bin bin = [] {
    Bin b;
    b.capacity = 64;
    b.restocks = 0;
    const char *labels[] = {"bolts", "nuts", "washers", "hinges", "brackets"};
    for (int i = 0; i < 5; ++i) {
      Item it{};
      it.sku = 1000 + i;
      it.qty = 10 * (i + 1);
      it.unit = i % 2 ? Unit::Grams : Unit::Kilograms;
      if (it.unit == Unit::Grams)
        it.grams = 250 * (i + 1);
      else
        it.kilograms = 1.5 * (i + 1);
      it.place.aisle = static_cast<short>(i / 2 + 1);
      it.place.shelf = static_cast<short>(i % 2 + 1);
      it.label = labels[i];
      b.items.push_back(it);
    }
    return b;
  }();
  return bin;
}

double item_weight(const Item &item) {
  if (item.unit == Unit::Grams)
    return item.grams / 1000.0;
  return item.kilograms;
}

std::string item_place(const Item &item) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "A%d-S%d", item.place.aisle, item.place.shelf);
  return buf;
}

static void restock(Bin &bin) {
  for (Item &it : bin.items)
    it.qty += 1;
  ++bin.restocks;
}

static int total_qty(const Bin &bin) {
  std::vector<int> q;
  for (const Item &it : bin.items)
    q.push_back(it.qty);
  return sum_of(q);
}

static const Item &heaviest(const Bin &bin) {
  const Item *best = &bin.items[0];
  for (const Item &it : bin.items)
    if (item_weight(it) > item_weight(*best))
      best = &it;
  return *best;
}

void report_inventory() {
  Bin &bin = main_bin();
  restock(bin);
  int total = total_qty(bin);
  if (g_recent.size() == 0)
    g_recent.push(total - 5);
  g_recent.push(total);
  // 150 items at the start, five more at each step.
  probe("inventory.stock", total - 5 * g_steps == 150 ? "in-sync" : fmt("out of sync (%d)", total));
  probe("inventory.restocks", bin.restocks == g_steps ? "in-sync" : "out of sync");
  const Item &h = heaviest(bin);
  probe("inventory.heaviest", fmt("%s %.2f kg at %s", h.label, item_weight(h), item_place(h).c_str()));
  double weights[5];
  for (int i = 0; i < 5; ++i)
    weights[i] = item_weight(bin.items[i]);
  probe("inventory.largest", fmt("%.2f", largest(weights, weights + 5)));
  probe("inventory.light", std::to_string(count_if_all(weights, weights + 5, [](double w) { return w < 2.0; })));
  int delta = g_recent.newest() - g_recent.at(g_recent.size() - 2);
  probe("inventory.recent", fmt("step delta %d", delta));
}
