// The unpatched-copy rule: a thunk-mode entry whose `symbol` lies outside
// every registered thunk section lost its thunk to a copy built without the
// plugin. Its own binary: registering a thunk range changes the answer for
// every thunk-mode entry in the process.
#include "registry_support.h"

#include <gtest/gtest.h>

using namespace hptest;

namespace {

// Stand-ins for two images' hotpatch_thunks sections. thunks_b is the first
// half of its array, so that the byte past its end is storage of its own
// that no other section can be placed at.
alignas(16) char thunks_a[64];
alignas(16) char thunks_b_and_more[64];
char *const thunks_b = thunks_b_and_more;
constexpr size_t thunks_b_size = 32;

void *slots[6] = {fn(ret1), fn(ret1), fn(ret1), fn(ret1), fn(ret1), fn(ret1)};
hotpatch_slot_entry table[] = {
    entry("thunk_inside", &slots[0], fn(ret1), "/src/t.c", HOTPATCH_ENTRY_THUNK, thunks_a + 16),
    entry("thunk_in_b", &slots[1], fn(ret1), "/src/t.c", HOTPATCH_ENTRY_THUNK, thunks_b),
    // The symbol resolved to a plain function: a plugin-less copy won.
    entry("thunk_lost", &slots[2], fn(ret1), "/src/lost.c", HOTPATCH_ENTRY_THUNK, fn(ret2)),
    // Not thunk mode: its symbol is the body, by design.
    entry("callsite_only", &slots[3], fn(ret1), "/src/t.c", HOTPATCH_ENTRY_CALLSITE, fn(ret2)),
    entry("thunk_no_symbol", &slots[4], fn(ret1), "/src/t.c", HOTPATCH_ENTRY_THUNK, nullptr),
    entry("thunk_is_body", &slots[5], fn(ret1), "/src/t.c", HOTPATCH_ENTRY_THUNK, fn(ret1)),
};

// One ODR slot seen by two images: one resolved its symbol to a thunk, the
// other (say, linked -Bsymbolic) to a plugin-less copy.
void *odr_slot = fn(ret3);
hotpatch_slot_entry odr_table[] = {
    entry("odr_fn", &odr_slot, fn(ret3), "/src/odr.h", HOTPATCH_ENTRY_THUNK | HOTPATCH_ENTRY_ODR,
          thunks_a),
    entry("odr_fn", &odr_slot, fn(ret3), "/src/odr.h", HOTPATCH_ENTRY_THUNK | HOTPATCH_ENTRY_ODR,
          fn(ret4)),
};

int unpatched(const char *name) {
  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup(name, &info), HOTPATCH_OK) << hotpatch_last_error();
  return info.unpatched_copy;
}

TEST(Thunks, SymbolsOutsideEveryThunkSectionAreUnpatchedCopies) {
  register_table(table);
  register_table(odr_table);
  // Until an image reports its thunk section, nothing can be judged.
  EXPECT_EQ(unpatched("thunk_lost"), 0);
  EXPECT_EQ(hotpatch_check_unpatched(0), 0u);

  hotpatch_register_thunks(thunks_a, thunks_a + sizeof thunks_a);
  hotpatch_register_thunks(thunks_b, thunks_b + thunks_b_size);
  hotpatch_register_thunks(thunks_a, thunks_a + sizeof thunks_a); // duplicate
  hotpatch_register_thunks(thunks_b, thunks_b);                   // empty
  hotpatch_register_thunks(nullptr, nullptr);

  EXPECT_EQ(unpatched("thunk_inside"), 0);
  EXPECT_EQ(unpatched("thunk_in_b"), 0);
  EXPECT_EQ(unpatched("thunk_lost"), 1);
  EXPECT_EQ(unpatched("callsite_only"), 0);
  EXPECT_EQ(unpatched("thunk_no_symbol"), 0);
  EXPECT_EQ(unpatched("thunk_is_body"), 0);
  EXPECT_EQ(unpatched("odr_fn"), 1); // one image's copy is enough to warn

  EXPECT_EQ(hotpatch_check_unpatched(0), 2u);
  testing::internal::CaptureStderr();
  EXPECT_EQ(hotpatch_check_unpatched(1), 2u);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("hotpatch: warning: thunk_lost (/src/lost.c): the copy linked in was "
                     "compiled without the hotpatch plugin; calls from files built without "
                     "the plugin and pointers to it keep running the original code. Rebuild "
                     "every file that defines it with the plugin.\n"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("hotpatch: warning: odr_fn (/src/odr.h)"), std::string::npos) << err;
  EXPECT_EQ(err.find("thunk_inside"), std::string::npos) << err;

  // Counting does not print.
  testing::internal::CaptureStderr();
  hotpatch_check_unpatched(0);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");

}

void *edge_slot = fn(ret1);
hotpatch_slot_entry edge_table[] = {entry("thunk_at_end", &edge_slot, fn(ret1), "/src/t.c",
                                          HOTPATCH_ENTRY_THUNK, thunks_b + thunks_b_size)};

TEST(Thunks, ThunkSectionEndIsExclusive) {
  hotpatch_register_thunks(thunks_b, thunks_b + thunks_b_size);
  register_table(edge_table);
  EXPECT_EQ(unpatched("thunk_at_end"), 1);
}

} // namespace
