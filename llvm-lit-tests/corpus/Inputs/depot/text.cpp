// Text: string tables, constant arrays, default arguments and a few
// formatting helpers.
#include "text.h"

#include <cctype>
#include <cstring>

#include "depot.h"

namespace {

const char *const kColors[] = {"red", "green", "blue", "amber", "violet", "cyan"};

const char kBanner[] = "DEPOT-1";

constexpr int kColumns = 3;

const char *const kWeekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int g_text_calls = 0;

} // namespace

std::string pad(const std::string &s, int width, char fill) {
  std::string r = s;
  while (static_cast<int>(r.size()) < width)
    r += fill;
  return r;
}

const char *color_name(int i) { return kColors[i % 6]; }

std::string banner() { return std::string("[") + kBanner + "]"; }

static std::string upper(const std::string &s) {
  std::string r = s;
  for (char &c : r)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

static std::string columns(int n) {
  std::string r;
  for (int i = 0; i < n; ++i) {
    if (i && i % kColumns == 0)
      r += '/';
    r += kWeekdays[i % 7][0];
  }
  return r;
}

static std::string initials(const char *const *words, int n) {
  std::string r;
  for (int i = 0; i < n; ++i)
    r += static_cast<char>(std::toupper(static_cast<unsigned char>(words[i][0])));
  return r;
}

static const char *plural(int n) { return n == 1 ? "" : "s"; }

void report_text() {
  ++g_text_calls;
  probe("text.colors", fmt("%s %s %s", color_name(0), color_name(3), color_name(5)));
  probe("text.banner", banner());
  probe("text.pad", pad("depot"));
  probe("text.upper", upper(kWeekdays[4]));
  probe("text.columns", columns(8));
  probe("text.initials", initials(kColors, 6));
  probe("text.plural", fmt("1 box%s, 2 box%s", plural(1), plural(2)));
  probe("text.calls", g_text_calls == g_steps ? "in-sync" : "out of sync");
  probe("text.length", std::to_string(std::strlen(kBanner)));
}
