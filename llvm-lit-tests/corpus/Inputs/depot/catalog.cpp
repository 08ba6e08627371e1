// The product catalogue: a constant table of products, lookups by code
// and by category, and price rules.
#include <cstring>
#include <string>

#include "depot.h"

namespace {

enum class Category { Fastener, Hardware, Motion, Fluid, Electrical, Tooling };

struct Product {
  int code;
  const char *name;
  Category category;
  int price_cents;
  int grams;
  int rating;
};

const Product kCatalog[] = {
    {100, "bolt", Category::Fastener, 25, 5, 0},
    {101, "nut", Category::Hardware, 62, 18, 3},
    {102, "washer", Category::Motion, 99, 31, 1},
    {103, "hinge", Category::Fluid, 136, 44, 4},
    {104, "bracket", Category::Electrical, 173, 57, 2},
    {105, "screw", Category::Tooling, 210, 70, 0},
    {106, "rivet", Category::Fastener, 247, 83, 3},
    {107, "spring", Category::Hardware, 284, 96, 1},
    {108, "gasket", Category::Motion, 321, 109, 4},
    {109, "bearing", Category::Fluid, 358, 122, 2},
    {110, "pulley", Category::Electrical, 395, 135, 0},
    {111, "chain", Category::Tooling, 432, 148, 3},
    {112, "hook", Category::Fastener, 469, 161, 1},
    {113, "clamp", Category::Hardware, 506, 174, 4},
    {114, "shackle", Category::Motion, 543, 187, 2},
    {115, "pin", Category::Fluid, 580, 200, 0},
    {116, "dowel", Category::Electrical, 617, 213, 3},
    {117, "anchor", Category::Tooling, 654, 226, 1},
    {118, "plate", Category::Fastener, 691, 239, 4},
    {119, "rod", Category::Hardware, 728, 252, 2},
    {120, "tube", Category::Motion, 765, 265, 0},
    {121, "valve", Category::Fluid, 802, 278, 3},
    {122, "fitting", Category::Electrical, 839, 291, 1},
    {123, "coupler", Category::Tooling, 876, 304, 4},
    {124, "flange", Category::Fastener, 913, 317, 2},
    {125, "seal", Category::Hardware, 50, 330, 0},
    {126, "filter", Category::Motion, 87, 343, 3},
    {127, "belt", Category::Fluid, 124, 356, 1},
    {128, "gear", Category::Electrical, 161, 369, 4},
    {129, "shaft", Category::Tooling, 198, 382, 2},
    {130, "sprocket", Category::Fastener, 235, 395, 0},
    {131, "cam", Category::Hardware, 272, 8, 3},
    {132, "lever", Category::Motion, 309, 21, 1},
    {133, "handle", Category::Fluid, 346, 34, 4},
    {134, "knob", Category::Electrical, 383, 47, 2},
    {135, "latch", Category::Tooling, 420, 60, 0},
    {136, "lock", Category::Fastener, 457, 73, 3},
    {137, "key", Category::Hardware, 494, 86, 1},
    {138, "caster", Category::Motion, 531, 99, 4},
    {139, "wheel", Category::Fluid, 568, 112, 2},
    {140, "axle", Category::Electrical, 605, 125, 0},
    {141, "hub", Category::Tooling, 642, 138, 3},
    {142, "spacer", Category::Fastener, 679, 151, 1},
    {143, "bushing", Category::Hardware, 716, 164, 4},
    {144, "collar", Category::Motion, 753, 177, 2},
    {145, "grommet", Category::Fluid, 790, 190, 0},
    {146, "strap", Category::Electrical, 827, 203, 3},
    {147, "buckle", Category::Tooling, 864, 216, 1},
    {148, "cable", Category::Fastener, 901, 229, 4},
    {149, "wire", Category::Hardware, 38, 242, 2},
    {150, "fuse", Category::Motion, 75, 255, 0},
    {151, "relay", Category::Fluid, 112, 268, 3},
    {152, "switch", Category::Electrical, 149, 281, 1},
    {153, "socket", Category::Tooling, 186, 294, 4},
    {154, "plug", Category::Fastener, 223, 307, 2},
    {155, "lamp", Category::Hardware, 260, 320, 0},
    {156, "sensor", Category::Motion, 297, 333, 3},
    {157, "motor", Category::Fluid, 334, 346, 1},
    {158, "pump", Category::Electrical, 371, 359, 4},
    {159, "fan", Category::Tooling, 408, 372, 2},
};

constexpr int kCatalogSize = sizeof(kCatalog) / sizeof(kCatalog[0]);

const char *const kRatingNames[] = {"poor", "fair", "good", "great", "superb"};

int g_lookups = 0;

} // namespace

static const char *category_name(Category c) {
  switch (c) {
  case Category::Fastener:
    return "fastener";
  case Category::Hardware:
    return "hardware";
  case Category::Motion:
    return "motion";
  case Category::Fluid:
    return "fluid";
  case Category::Electrical:
    return "electrical";
  case Category::Tooling:
    return "tooling";
  }
  return "other";
}

static int category_discount(Category c) {
  switch (c) {
  case Category::Fastener:
    return 10;
  case Category::Hardware:
    return 5;
  case Category::Motion:
    return 0;
  case Category::Fluid:
    return 15;
  case Category::Electrical:
    return 20;
  case Category::Tooling:
    return 0;
  }
  return 0;
}

static const Product *find_product(int code) {
  ++g_lookups;
  for (const Product &p : kCatalog)
    if (p.code == code)
      return &p;
  return nullptr;
}

static const Product *find_by_name(const char *name) {
  ++g_lookups;
  for (const Product &p : kCatalog)
    if (std::strcmp(p.name, name) == 0)
      return &p;
  return nullptr;
}

static int count_in(Category c) {
  int n = 0;
  for (const Product &p : kCatalog)
    if (p.category == c)
      ++n;
  return n;
}

static const Product &cheapest() {
  const Product *best = &kCatalog[0];
  for (const Product &p : kCatalog)
    if (p.price_cents < best->price_cents)
      best = &p;
  return *best;
}

static const Product &heaviest() {
  const Product *best = &kCatalog[0];
  for (const Product &p : kCatalog)
    if (p.grams > best->grams)
      best = &p;
  return *best;
}

static long discounted(const Product &p, int qty) {
  long gross = static_cast<long>(p.price_cents) * qty;
  int pct = category_discount(p.category);
  if (qty >= 10)
    pct += 5;
  return gross - gross * pct / 100;
}

static std::string price_text(long cents) { return fmt("%ld.%02ld", cents / 100, cents % 100); }

static std::string describe(const Product &p) {
  return fmt("P-%d %s (%s, %s) %s", p.code, p.name, category_name(p.category), kRatingNames[p.rating],
             price_text(p.price_cents).c_str());
}

static std::string category_counts() {
  std::string r;
  for (int c = 0; c < 6; ++c)
    r = join(r, fmt("%s:%d", category_name(static_cast<Category>(c)), count_in(static_cast<Category>(c))));
  return r;
}

static int total_stock_value() {
  long total = 0;
  for (const Product &p : kCatalog)
    total += p.price_cents;
  return static_cast<int>(total / kCatalogSize);
}

void report_catalog() {
  probe("catalog.size", std::to_string(kCatalogSize));
  probe("catalog.p117", describe(*find_product(117)));
  probe("catalog.gear", describe(*find_by_name("gear")));
  probe("catalog.cheapest", describe(cheapest()));
  probe("catalog.heaviest", fmt("%s %dg", heaviest().name, heaviest().grams));
  probe("catalog.counts", category_counts());
  probe("catalog.order", price_text(discounted(*find_product(131), 12)));
  probe("catalog.average", std::to_string(total_stock_value()));
  probe("catalog.lookups", g_lookups == 3 * g_steps ? "in-sync" : "out of sync");
}
