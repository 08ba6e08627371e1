/* Unit conversions, in C: a table of named converters (function pointers),
 * a cache of recent conversions in a static array, and formatting. */
#include <stdio.h>
#include <string.h>

#include "depot_c.h"

typedef double (*converter)(double);

static double mm_to_in(double v) { return v / 25.4; }
static double in_to_mm(double v) { return v * 25.4; }
static double kg_to_lb(double v) { return v * 2.20462; }
static double lb_to_kg(double v) { return v / 2.20462; }
static double c_to_f(double v) { return v * 9.0 / 5.0 + 32.0; }
static double f_to_c(double v) { return (v - 32.0) * 5.0 / 9.0; }
static double l_to_gal(double v) { return v / 3.78541; }
static double gal_to_l(double v) { return v * 3.78541; }
static double km_to_mi(double v) { return v / 1.60934; }
static double mi_to_km(double v) { return v * 1.60934; }
static double m2_to_ft2(double v) { return v * 10.7639; }
static double ft2_to_m2(double v) { return v / 10.7639; }

struct conversion {
  const char *name;
  const char *from;
  const char *to;
  converter fn;
};

static const struct conversion k_conversions[] = {
    {"mm->in", "mm", "in", mm_to_in},     {"in->mm", "in", "mm", in_to_mm},
    {"kg->lb", "kg", "lb", kg_to_lb},     {"lb->kg", "lb", "kg", lb_to_kg},
    {"C->F", "C", "F", c_to_f},           {"F->C", "F", "C", f_to_c},
    {"l->gal", "l", "gal", l_to_gal},     {"gal->l", "gal", "l", gal_to_l},
    {"km->mi", "km", "mi", km_to_mi},     {"mi->km", "mi", "km", mi_to_km},
    {"m2->ft2", "m2", "ft2", m2_to_ft2}, {"ft2->m2", "ft2", "m2", ft2_to_m2},
};

#define N_CONVERSIONS (sizeof k_conversions / sizeof k_conversions[0])

struct cache_entry {
  const struct conversion *conv;
  double in;
  double out;
};

static struct cache_entry g_cache[4];
static int g_cache_next;
long g_conversions_done;

static const struct conversion *find_conversion(const char *name) {
  for (unsigned i = 0; i < N_CONVERSIONS; ++i)
    if (strcmp(k_conversions[i].name, name) == 0)
      return &k_conversions[i];
  return NULL;
}

static double convert(const char *name, double v) {
  const struct conversion *c = find_conversion(name);
  if (!c)
    return -1.0;
  for (int i = 0; i < 4; ++i)
    if (g_cache[i].conv == c && g_cache[i].in == v)
      return g_cache[i].out;
  g_cache[g_cache_next].conv = c;
  g_cache[g_cache_next].in = v;
  g_cache[g_cache_next].out = c->fn(v);
  g_cache_next = (g_cache_next + 1) % 4;
  ++g_conversions_done;
  return c->fn(v);
}

static const char *unit_system(const char *unit) {
  static const char *const metric[] = {"mm", "kg", "C", "l", "km", "m2"};
  for (unsigned i = 0; i < sizeof metric / sizeof metric[0]; ++i)
    if (strcmp(metric[i], unit) == 0)
      return "metric";
  return "imperial";
}

static int round_trip_ok(const char *there, const char *back, double v) {
  double r = convert(back, convert(there, v));
  double d = r - v;
  return d < 1e-9 && d > -1e-9;
}

static int calls_this_step(void) {
  static long last_step = -1;
  static int calls = 0;
  long now = depot_steps();
  if (now != last_step) {
    last_step = now;
    calls = 0;
  }
  return ++calls;
}

void units_report(void) {
  char buf[160];
  snprintf(buf, sizeof buf, "%.3f %.3f %.3f", convert("mm->in", 100.0), convert("kg->lb", 10.0),
           convert("C->F", 37.0));
  c_probe("units.convert", buf);
  snprintf(buf, sizeof buf, "%u conversions, first %s, last %s", (unsigned)N_CONVERSIONS, k_conversions[0].name,
           k_conversions[N_CONVERSIONS - 1].name);
  c_probe("units.table", buf);
  snprintf(buf, sizeof buf, "%s %s", unit_system("km"), unit_system("gal"));
  c_probe("units.system", buf);
  snprintf(buf, sizeof buf, "%s", round_trip_ok("km->mi", "mi->km", 42.0) ? "round-trip" : "drift");
  c_probe("units.roundtrip", buf);
  snprintf(buf, sizeof buf, "%d", calls_this_step() + calls_this_step());
  c_probe("units.calls", buf);
  snprintf(buf, sizeof buf, "%.2f", convert("gal->l", 2.0));
  c_probe("units.gallons", buf);
}
