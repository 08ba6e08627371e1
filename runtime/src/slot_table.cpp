// slot_table.cpp - libhotpatch: the registry of slot tables and the API of
// hotpatch/hotpatch.h.
//
// Protocol. Each plugin-built image runs one constructor that calls
// hotpatch_register_table() with its [__start, __stop) range of entries and
// hotpatch_register_thunks() with its thunk section (empty when every thunk
// lost its COMDAT to a copy built without the plugin). Those
// calls can come before main, before this library's own initialisers, and
// from dlopen on any thread. So the registry is constant-initialised plain
// data (fixed arrays of ranges and a std::mutex, whose constructor is
// constexpr) and registration only records ranges: it never allocates.
//
// Everything else is derived on demand from a copy of the ranges taken under
// the lock; the lock is never held while calling into the dynamic linker
// (dladdr), which may itself be running our registration under its own lock.
//
// Invariants and rules:
//  - One hot function = one distinct slot. Several entries share a slot when
//    a linkonce_odr slot is merged across images (one entry per image); its
//    representative is the entry of the image that defines the slot, since
//    that entry's body is the slot's initial value.
//  - Several slots can share a name: hidden or file-local copies. A name
//    selects all of them (redirect writes every one) unless they belong to
//    different owners - file-local functions of different units, or a
//    file-local and a global one - which is HOTPATCH_AMBIGUOUS. "unit:name"
//    (split at the last ':') narrows by unit; the unit may be a path suffix
//    starting at a '/' boundary, as long as it names one unit.
//  - Malformed entries and tables are skipped but counted; once any was
//    seen, a lookup that finds nothing reports HOTPATCH_TABLE_CORRUPT instead
//    of NOT_FOUND, because the function may well be one of those skipped.
//  - unpatched_copy: a thunk-mode entry whose `symbol` lies outside every
//    thunk section registered by hotpatch_register_thunks. Until some image
//    registers one, nothing is judged.
//  - Ranges are never removed: there is no unregistration in the ABI, so an
//    image must not be dlclose'd while it is registered.
#include "hotpatch/hotpatch.h"
#include "hotpatch/slot_table.h"
#include "internal.h"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#define HOTPATCH_API extern "C" __attribute__((visibility("default")))

namespace {

constexpr size_t kMaxImages = 256;

struct Range {
  uintptr_t begin, end;
};

// The registry proper: copied as a whole into each query's snapshot.
struct State {
  Range tables[kMaxImages] = {};
  size_t ntables = 0;
  Range thunks[kMaxImages] = {};
  size_t nthunks = 0;
  bool thunks_registered = false; // any image reported its thunk section
  bool thunks_dropped = false;    // some could not be recorded: judge none
  size_t problems = 0;            // entries and tables rejected
  char first_problem[256] = {};
};

struct Registry {
  std::mutex mu;
  State state;
  // Bumped on every registration: derived views (the name index of
  // hotpatch_current) are rebuilt only when it changes.
  std::atomic<unsigned> generation{0};
};

#if defined(__clang__)
[[clang::require_constant_initialization]]
#endif
Registry g_registry;

// ---- per-thread error message --------------------------------------------

// A fixed buffer rather than a std::string: setting it cannot throw, and it
// has no destructor to run at thread exit.
thread_local char t_error[1024];

void clear_error() { t_error[0] = '\0'; }

// Messages are built by appending: std::string's members live in libstdc++,
// while operator+ or std::to_string would be instantiated here, and libstdc++
// gives its templates default visibility: they would join our exports.
void append(std::string &s, const char *p) { s += p; }
void append(std::string &s, const std::string &p) { s += p; }
void append(std::string &s, size_t n) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%zu", n);
  s += digits;
}
template <class... Args> std::string str(const Args &...args) {
  std::string s;
  (append(s, args), ...);
  return s;
}

void set_error(const std::string &msg) {
  size_t n = msg.size() < sizeof t_error ? msg.size() : sizeof t_error - 1;
  std::memcpy(t_error, msg.data(), n);
  t_error[n] = '\0';
  if (n < msg.size() && n >= 3)
    std::memcpy(t_error + n - 3, "...", 3);
}

// Runs an API body; the only exceptions possible are allocation failures,
// which must not unwind into C callers.
template <class F, class R> R guarded(F body, R on_failure) {
  try {
    return body();
  } catch (...) {
    std::strcpy(t_error, "hotpatch: out of memory");
    return on_failure;
  }
}

// ---- registration ---------------------------------------------------------

const char *entry_problem(const hotpatch_slot_entry &e) {
  if (e.version != HOTPATCH_SLOT_TABLE_VERSION)
    return "version";
  if (!e.name)
    return "a null name";
  if (!e.slot || reinterpret_cast<uintptr_t>(e.slot) % alignof(void *))
    return "a null or misaligned slot";
  if (!e.body)
    return "a null body";
  return nullptr;
}

bool valid(const hotpatch_slot_entry &e) { return entry_problem(e) == nullptr; }

// Called with the lock held; snprintf does not allocate for these formats.
template <class... Args>
void note_problem(State &s, size_t count, const char *fmt, Args... args) {
  if (s.problems == 0)
    std::snprintf(s.first_problem, sizeof s.first_problem, fmt, args...);
  s.problems += count;
}

enum class Added { New, Duplicate, Full };

Added add_range(Range *ranges, size_t &n, Range r) {
  for (size_t i = 0; i < n; ++i)
    if (ranges[i].begin == r.begin && ranges[i].end == r.end)
      return Added::Duplicate; // the same image registered twice
  if (n == kMaxImages)
    return Added::Full;
  ranges[n++] = r;
  return Added::New;
}

// ---- the derived view -----------------------------------------------------

struct Hot {
  const hotpatch_slot_entry *rep; // see the invariants at the top
  bool unpatched;
};

const char *unit_of(const hotpatch_slot_entry *e) { return e->unit ? e->unit : ""; }

void *image_of(const void *p) {
  Dl_info info;
  return p && dladdr(p, &info) ? info.dli_fbase : nullptr;
}

bool unpatched(const State &s, const hotpatch_slot_entry &e) {
  if (!(e.flags & HOTPATCH_ENTRY_THUNK) || !e.symbol || e.symbol == e.body ||
      !s.thunks_registered || s.thunks_dropped)
    return false;
  auto p = reinterpret_cast<uintptr_t>(e.symbol);
  for (size_t i = 0; i < s.nthunks; ++i)
    if (p >= s.thunks[i].begin && p < s.thunks[i].end)
      return false;
  return true;
}

// All hot functions, sorted by name, unit, then slot.
std::vector<Hot> hot_functions(const State &s) {
  // One Hot per valid entry first, grouped by slot below. (Containers of our
  // own, internal types only, to keep their instantiations internal.)
  std::vector<Hot> entries;
  for (size_t i = 0; i < s.ntables; ++i)
    for (auto *e = reinterpret_cast<const hotpatch_slot_entry *>(s.tables[i].begin);
         e != reinterpret_cast<const hotpatch_slot_entry *>(s.tables[i].end); ++e)
      if (valid(*e))
        entries.push_back({e, unpatched(s, *e)});
  std::sort(entries.begin(), entries.end(), [](const Hot &a, const Hot &b) {
    return a.rep->slot != b.rep->slot ? std::less<>()(a.rep->slot, b.rep->slot)
                                      : std::less<>()(a.rep, b.rep);
  });

  std::vector<Hot> hots;
  for (size_t i = 0, j; i < entries.size(); i = j) {
    Hot h = entries[i];
    bool same_body = true;
    for (j = i; j < entries.size() && entries[j].rep->slot == h.rep->slot; ++j) {
      same_body &= entries[j].rep->body == h.rep->body;
      h.unpatched |= entries[j].unpatched;
    }
    if (!same_body) { // merged across images: pick the slot's own image
      void *image = image_of(h.rep->slot);
      for (size_t k = i; k < j; ++k)
        if (image && image_of(entries[k].rep) == image) {
          h.rep = entries[k].rep;
          break;
        }
    }
    hots.push_back(h);
  }
  std::sort(hots.begin(), hots.end(), [](const Hot &a, const Hot &b) {
    if (int c = std::strcmp(a.rep->name, b.rep->name))
      return c < 0;
    if (int c = std::strcmp(unit_of(a.rep), unit_of(b.rep)))
      return c < 0;
    return std::less<>()(a.rep->slot, b.rep->slot);
  });
  return hots;
}

State snapshot() {
  std::lock_guard<std::mutex> lock(g_registry.mu);
  return g_registry.state;
}

void *load(void **slot) { return __atomic_load_n(slot, __ATOMIC_ACQUIRE); }
void store(void **slot, void *value) { __atomic_store_n(slot, value, __ATOMIC_RELEASE); }

void fill(const Hot &h, hotpatch_function_info *out) {
  const hotpatch_slot_entry *e = h.rep;
  out->name = e->name;
  out->unit = unit_of(e);
  out->current = load(e->slot);
  out->original = e->body;
  out->symbol = e->symbol;
  out->flags = e->flags;
  out->redirected = out->current != out->original;
  out->unpatched_copy = h.unpatched;
}

// ---- name resolution ------------------------------------------------------

// "unit" names `path` if it is all of it or a suffix starting after a '/'.
bool unit_matches(const char *path, const std::string &unit) {
  size_t n = std::strlen(path);
  if (n < unit.size() || unit.compare(0, std::string::npos, path + n - unit.size()) != 0)
    return false;
  return n == unit.size() || path[n - unit.size() - 1] == '/' || unit.front() == '/';
}

std::string not_found_message(const State &s, const std::vector<Hot> &hots,
                              const char *symbol) {
  std::string msg = str("no hot function named '", symbol,
                        "': is it defined in a file built with -fplugin=hotpatch.so and "
                        "marked HOTPATCH (or built with -fplugin-arg-hotpatch-all)?");
  // C++ functions are registered under their mangled names: "_Z3fooi" for foo.
  std::string needle = str(std::strlen(symbol), symbol);
  const char *last = nullptr;
  int guesses = 0;
  for (const Hot &h : hots) // sorted by name, so copies are adjacent
    if (std::strncmp(h.rep->name, "_Z", 2) == 0 && std::strstr(h.rep->name, needle.c_str()) &&
        !(last && std::strcmp(last, h.rep->name) == 0) && guesses < 3) {
      msg += str(guesses++ ? "', '" : " C++ functions go by their mangled name: did you mean '",
                 h.rep->name);
      last = h.rep->name;
    }
  if (guesses)
    msg += "'?";
  if (s.problems)
    msg += str(" Also, ", s.problems,
               " slot-table entries or tables were rejected and it may be one of them: ",
               s.first_problem);
  return msg;
}

// "unit:name, unit:name": `found` is sorted, so copies are adjacent.
std::string candidates(const std::vector<const Hot *> &found) {
  std::string list, last;
  for (const Hot *h : found) {
    std::string c = str(unit_of(h->rep), ":", h->rep->name);
    if (c != last)
      list += str(list.empty() ? "" : ", ", c);
    last = c;
  }
  return list;
}

// Finds every slot `symbol` selects, or sets the error and returns why not.
hotpatch_status resolve(const State &s, const std::vector<Hot> &hots, const char *api,
                        const char *symbol, std::vector<const Hot *> &found) {
  if (!symbol) {
    set_error(str(api, ": the symbol is NULL: pass the mangled name of a hot function, or "
                       "\"file:name\" for a file-local one"));
    return HOTPATCH_INVALID_ARGUMENT;
  }
  for (const Hot &h : hots)
    if (std::strcmp(h.rep->name, symbol) == 0)
      found.push_back(&h);

  const char *colon = std::strrchr(symbol, ':');
  if (found.empty() && colon && colon != symbol && colon[1]) {
    std::string unit(symbol, size_t(colon - symbol)), name(colon + 1);
    std::vector<const Hot *> named;
    for (const Hot &h : hots)
      if (name == h.rep->name)
        named.push_back(&h);
    for (const Hot *h : named) // an exact unit beats path suffixes
      if (unit == unit_of(h->rep))
        found.push_back(h);
    if (found.empty())
      for (const Hot *h : named)
        if (unit_matches(unit_of(h->rep), unit))
          found.push_back(h);
    for (const Hot *h : found)
      if (std::strcmp(unit_of(h->rep), unit_of(found[0]->rep)) != 0) {
        set_error(str("'", symbol, "' matches hot functions of several files: give more "
                      "of the path, one of: ", candidates(found)));
        return HOTPATCH_AMBIGUOUS;
      }
    if (found.empty() && !named.empty()) {
      set_error(str("no hot function '", name, "' is defined in a file matching '", unit,
                    "': it is defined in ", candidates(named)));
      return HOTPATCH_NOT_FOUND;
    }
  } else {
    // Global copies of one name are one function; file-local ones are per unit.
    auto owner = [](const Hot *h) {
      return h->rep->flags & HOTPATCH_ENTRY_LOCAL ? unit_of(h->rep) : nullptr;
    };
    for (const Hot *h : found) {
      const char *a = owner(h), *b = owner(found[0]);
      if (a != b && (!a || !b || std::strcmp(a, b) != 0)) {
        set_error(str("'", symbol, "' names file-local hot functions of several files: "
                      "qualify it as \"file:name\", one of: ", candidates(found)));
        return HOTPATCH_AMBIGUOUS;
      }
    }
  }
  if (found.empty()) {
    set_error(not_found_message(s, hots, symbol));
    return s.problems ? HOTPATCH_TABLE_CORRUPT : HOTPATCH_NOT_FOUND;
  }
  return HOTPATCH_OK;
}

// Resolves `symbol` and stores `value(hot)` into each selected slot.
template <class Value>
hotpatch_status store_each(const char *api, const char *symbol, Value value) {
  State s = snapshot();
  std::vector<Hot> hots = hot_functions(s);
  std::vector<const Hot *> found;
  hotpatch_status st = resolve(s, hots, api, symbol, found);
  if (st != HOTPATCH_OK)
    return st;
  for (const Hot *h : found)
    store(h->rep->slot, value(*h));
  clear_error();
  return HOTPATCH_OK;
}

} // namespace

// ---- the ABI (slot_table.h) -----------------------------------------------

HOTPATCH_API void hotpatch_register_table(const hotpatch_slot_entry *begin,
                                          const hotpatch_slot_entry *end) {
  auto b = reinterpret_cast<uintptr_t>(begin), e = reinterpret_cast<uintptr_t>(end);
  if (b == e)
    return; // an image whose entries were all discarded
  try {
    std::lock_guard<std::mutex> lock(g_registry.mu);
    State &s = g_registry.state;
    if (!begin || e < b || (e - b) % sizeof *begin || b % alignof(hotpatch_slot_entry)) {
      note_problem(s, 1, "the table [%p, %p) is not an array of hotpatch_slot_entry",
                   static_cast<const void *>(begin), static_cast<const void *>(end));
      return;
    }
    Added added = add_range(s.tables, s.ntables, {b, e});
    if (added == Added::Duplicate)
      return;
    g_registry.generation.fetch_add(1, std::memory_order_release);
    if (added == Added::Full) {
      note_problem(s, 1, "more than %zu images registered slot tables; the table at %p "
                         "was dropped", kMaxImages, static_cast<const void *>(begin));
      return;
    }
    for (const hotpatch_slot_entry *p = begin; p != end; ++p)
      if (const char *what = entry_problem(*p)) {
        if (p->version != HOTPATCH_SLOT_TABLE_VERSION)
          note_problem(s, 1, "the table at %p has an entry of version %" PRIu32
                             ", this runtime reads version %u: build every object with "
                             "the plugin that matches this libhotpatch",
                       static_cast<const void *>(begin), p->version,
                       HOTPATCH_SLOT_TABLE_VERSION);
        else
          note_problem(s, 1, "the entry for '%.80s' in the table at %p has %s",
                       p->name ? p->name : "?", static_cast<const void *>(begin), what);
      }
  } catch (...) { // std::system_error from a failed lock: drop the table
    return;
  }
  hotpatch_rt_after_register(begin); // outside the lock: applies patches
}

HOTPATCH_API void hotpatch_register_thunks(const void *begin, const void *end) {
  auto b = reinterpret_cast<uintptr_t>(begin), e = reinterpret_cast<uintptr_t>(end);
  if (e < b)
    return;
  try {
    std::lock_guard<std::mutex> lock(g_registry.mu);
    State &s = g_registry.state;
    // Even an empty section counts: its image checks thunks, and all of its
    // thunks lost to copies built without the plugin.
    s.thunks_registered = true;
    g_registry.generation.fetch_add(1, std::memory_order_release);
    // Without every section, real thunks would look like plugin-less copies.
    if (b < e && add_range(s.thunks, s.nthunks, {b, e}) == Added::Full)
      s.thunks_dropped = true;
  } catch (...) {
  }
}

// ---- the API (hotpatch.h) -------------------------------------------------

HOTPATCH_API const char *hotpatch_status_string(hotpatch_status status) {
  // C callers may pass any int, which in C++ is out of the enum's range:
  // read the raw value rather than load it as a hotpatch_status.
  int raw;
  static_assert(sizeof raw == sizeof status, "hotpatch_status is an int");
  std::memcpy(&raw, &status, sizeof raw);
  switch (raw) {
  case HOTPATCH_OK: return "ok";
  case HOTPATCH_NOT_FOUND: return "not found";
  case HOTPATCH_AMBIGUOUS: return "ambiguous";
  case HOTPATCH_INVALID_ARGUMENT: return "invalid argument";
  case HOTPATCH_TABLE_CORRUPT: return "table corrupt";
  case HOTPATCH_BUFFER_TOO_SMALL: return "buffer too small";
  case HOTPATCH_BAD_PATCH: return "bad patch";
  case HOTPATCH_WRONG_BUILD: return "wrong build";
  case HOTPATCH_CHAIN_ORDER: return "chain order";
  case HOTPATCH_MAP_FAILED: return "map failed";
  case HOTPATCH_UNRESOLVED: return "unresolved symbol";
  }
  return "unknown status";
}

HOTPATCH_API const char *hotpatch_last_error(void) { return t_error; }

HOTPATCH_API size_t hotpatch_count(void) {
  return guarded([] {
    size_t n = hot_functions(snapshot()).size();
    clear_error();
    return n;
  }, size_t{0});
}

HOTPATCH_API hotpatch_status hotpatch_list(hotpatch_function_info *out, size_t capacity,
                                           size_t *count) {
  return guarded([&] {
    if (!count || (!out && capacity)) {
      set_error(!count ? "hotpatch_list: count is NULL: pass a size_t to receive the "
                         "number of hot functions"
                       : "hotpatch_list: out is NULL but capacity is not 0: pass an array "
                         "of `capacity` hotpatch_function_info, or capacity 0 to count");
      return HOTPATCH_INVALID_ARGUMENT;
    }
    std::vector<Hot> hots = hot_functions(snapshot());
    *count = hots.size();
    for (size_t i = 0; i < hots.size() && i < capacity; ++i)
      fill(hots[i], &out[i]);
    if (hots.size() > capacity) {
      set_error(str("hotpatch_list: there are ", hots.size(),
                    " hot functions but capacity is ", capacity,
                    ": call again with an array of at least *count entries"));
      return HOTPATCH_BUFFER_TOO_SMALL;
    }
    clear_error();
    return HOTPATCH_OK;
  }, HOTPATCH_INVALID_ARGUMENT);
}

HOTPATCH_API hotpatch_status hotpatch_lookup(const char *symbol, hotpatch_function_info *out) {
  return guarded([&] {
    if (!out) {
      set_error(str("hotpatch_lookup('", symbol ? symbol : "(null)",
                    "'): out is NULL: pass a hotpatch_function_info to fill"));
      return HOTPATCH_INVALID_ARGUMENT;
    }
    State s = snapshot();
    std::vector<Hot> hots = hot_functions(s);
    std::vector<const Hot *> found;
    hotpatch_status st = resolve(s, hots, "hotpatch_lookup", symbol, found);
    if (st == HOTPATCH_OK) {
      fill(*found[0], out);
      clear_error();
    }
    return st;
  }, HOTPATCH_INVALID_ARGUMENT);
}

HOTPATCH_API hotpatch_status hotpatch_redirect(const char *symbol, void *address) {
  return guarded([&] {
    if (!address) {
      set_error(str("hotpatch_redirect('", symbol ? symbol : "(null)",
                    "'): the address is NULL: pass a function with the same signature, or "
                    "call hotpatch_restore to go back to the original"));
      return HOTPATCH_INVALID_ARGUMENT;
    }
    return store_each("hotpatch_redirect", symbol, [&](const Hot &) { return address; });
  }, HOTPATCH_INVALID_ARGUMENT);
}

HOTPATCH_API hotpatch_status hotpatch_restore(const char *symbol) {
  return guarded([&] {
    return store_each("hotpatch_restore", symbol, [](const Hot &h) { return h.rep->body; });
  }, HOTPATCH_INVALID_ARGUMENT);
}

HOTPATCH_API void hotpatch_restore_all(void) {
  guarded([] {
    for (const Hot &h : hot_functions(snapshot()))
      store(h.rep->slot, h.rep->body);
    clear_error();
    return 0;
  }, 0);
}

HOTPATCH_API size_t hotpatch_check_unpatched(int report) {
  return guarded([&] {
    size_t n = 0;
    for (const Hot &h : hot_functions(snapshot())) {
      if (!h.unpatched)
        continue;
      ++n;
      if (report)
        std::fprintf(stderr,
                     "hotpatch: warning: %s (%s): the copy linked in was compiled without "
                     "the hotpatch plugin; calls from files built without the plugin and "
                     "pointers to it keep running the original code. Rebuild every file "
                     "that defines it with the plugin.\n",
                     h.rep->name, unit_of(h.rep));
    }
    clear_error();
    return n;
  }, size_t{0});
}

// Shared with the patch loader (patch_loader.cpp): one per-thread message,
// and the slots a patch may write.
namespace hotpatch_rt {
void set_error_message(const std::string &msg) { set_error(msg); }
void clear_error_message() { clear_error(); }

std::vector<RegisteredSlot> registered_slots() {
  State s = snapshot();
  std::vector<RegisteredSlot> slots;
  for (size_t i = 0; i < s.ntables; ++i)
    for (auto *e = reinterpret_cast<const hotpatch_slot_entry *>(s.tables[i].begin);
         e != reinterpret_cast<const hotpatch_slot_entry *>(s.tables[i].end); ++e)
      if (valid(*e))
        slots.push_back({reinterpret_cast<uintptr_t>(e->slot), e->name});
  std::sort(slots.begin(), slots.end(), [](const RegisteredSlot &a, const RegisteredSlot &b) {
    return a.slot < b.slot;
  });
  return slots;
}
} // namespace hotpatch_rt

void *hotpatch_rt_newest(const char *symbol);

namespace {
// hotpatch_current (and hotpatch::call) may be called in a program's inner
// loop: names that denote one slot are looked up in a sorted index, rebuilt
// only when an image registers. Everything else takes the general path.
struct NameIndex {
  std::mutex mu;
  unsigned generation = ~0u;
  std::vector<std::pair<const char *, void **>> names; // sorted, unique
};
NameIndex g_names;

void **indexed_slot(const char *symbol) {
  std::lock_guard<std::mutex> lock(g_names.mu);
  unsigned gen = g_registry.generation.load(std::memory_order_acquire);
  if (gen != g_names.generation) {
    std::vector<Hot> hots = hot_functions(snapshot());
    g_names.names.clear();
    for (size_t i = 0; i < hots.size(); ++i) {
      const char *n = hots[i].rep->name;
      bool unique = (i == 0 || std::strcmp(hots[i - 1].rep->name, n) != 0) &&
                    (i + 1 == hots.size() || std::strcmp(hots[i + 1].rep->name, n) != 0);
      if (unique)
        g_names.names.push_back({n, hots[i].rep->slot});
    }
    g_names.generation = gen;
  }
  auto it = std::lower_bound(g_names.names.begin(), g_names.names.end(), symbol,
                             [](const std::pair<const char *, void **> &e, const char *s) {
                               return std::strcmp(e.first, s) < 0;
                             });
  if (it == g_names.names.end() || std::strcmp(it->first, symbol) != 0)
    return nullptr;
  return it->second;
}
} // namespace

namespace hotpatch_rt {
void registry_fork_prepare() {
  g_names.mu.lock();
  g_registry.mu.lock();
}
void registry_fork_done() {
  g_registry.mu.unlock();
  g_names.mu.unlock();
}
} // namespace hotpatch_rt

HOTPATCH_API void *hotpatch_current(const char *symbol) {
  if (symbol) {
    void **slot = guarded([&] { return indexed_slot(symbol); }, static_cast<void **>(nullptr));
    if (slot) {
      clear_error();
      return load(slot);
    }
  }
  hotpatch_function_info info;
  if (hotpatch_lookup(symbol, &info) == HOTPATCH_OK)
    return info.current;
  // Not hot: the newest version a patch brought, if any.
  if (void *p = hotpatch_rt_newest(symbol)) {
    clear_error();
    return p;
  }
  return nullptr;
}
