// Helpers for the registry unit tests: hand-built slot tables standing in for
// what the plugin emits. Tables must have static storage: the runtime keeps
// the registered ranges for the life of the process.
#ifndef HOTPATCH_TEST_REGISTRY_SUPPORT_H
#define HOTPATCH_TEST_REGISTRY_SUPPORT_H

#include "hotpatch/hotpatch.h"
#include "hotpatch/slot_table.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace hptest {

// Distinct bodies so that a call through a slot shows where it went.
int ret1(int x);
int ret2(int x);
int ret3(int x);
int ret4(int x);

inline void *fn(int (*f)(int)) { return reinterpret_cast<void *>(f); }

inline hotpatch_slot_entry entry(const char *name, void **slot, void *body,
                                 const char *unit, uint32_t flags = 0,
                                 void *symbol = nullptr) {
  return hotpatch_slot_entry{HOTPATCH_SLOT_TABLE_VERSION, flags, name, slot,
                             body, symbol, unit};
}

template <size_t N> void register_table(hotpatch_slot_entry (&table)[N]) {
  hotpatch_register_table(table, table + N);
}

// Calls whatever the slot points at now, as a rewritten call site would.
inline int call(void **slot, int x) {
  auto *f = reinterpret_cast<int (*)(int)>(__atomic_load_n(slot, __ATOMIC_ACQUIRE));
  return f(x);
}

inline std::vector<hotpatch_function_info> list_all() {
  size_t count = 0;
  hotpatch_list(nullptr, 0, &count);
  std::vector<hotpatch_function_info> out(count + 8);
  hotpatch_list(out.data(), out.size(), &count);
  out.resize(count);
  return out;
}

inline bool contains(const char *haystack, const char *needle) {
  return std::strstr(haystack, needle) != nullptr;
}

} // namespace hptest

#endif
