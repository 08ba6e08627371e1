// Unit tests of the runtime registry with hand-built slot tables.
//
// The registry is process-wide and has no reset, so every test registers its
// own tables under names nobody else uses and measures counts as deltas: the
// tests pass both when ctest runs each one in its own process and when the
// binary runs them all in one. Malformed tables and thunk ranges change the
// behaviour of every later lookup; they are tested in their own binaries.
#include "registry_support.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

using namespace hptest;

namespace {

// ---- registration before main ----------------------------------------------

void *premain_slot;
hotpatch_slot_entry premain_table[1];

// Plugin-built images register from a priority-101 constructor; this one
// runs before every ordinary static initialiser of the test program (which
// is why it fills its table itself: the other tables here are not ready yet).
__attribute__((constructor(101))) void register_before_main() {
  premain_slot = fn(ret1);
  premain_table[0] = entry("premain_fn", &premain_slot, fn(ret1), "/src/premain.c");
  register_table(premain_table);
}

TEST(Registry, TableRegisteredBeforeMainIsFound) {
  hotpatch_function_info info;
  ASSERT_EQ(hotpatch_lookup("premain_fn", &info), HOTPATCH_OK) << hotpatch_last_error();
  EXPECT_STREQ(info.unit, "/src/premain.c");
}

// ---- status strings --------------------------------------------------------

TEST(Registry, StatusStringsAreDistinctAndNeverNull) {
  std::set<std::string> seen;
  for (hotpatch_status s :
       {HOTPATCH_OK, HOTPATCH_NOT_FOUND, HOTPATCH_AMBIGUOUS, HOTPATCH_INVALID_ARGUMENT,
        HOTPATCH_TABLE_CORRUPT, HOTPATCH_BUFFER_TOO_SMALL, HOTPATCH_BAD_PATCH,
        HOTPATCH_WRONG_BUILD, HOTPATCH_CHAIN_ORDER, HOTPATCH_MAP_FAILED,
        HOTPATCH_UNRESOLVED}) {
    const char *text = hotpatch_status_string(s);
    ASSERT_NE(text, nullptr);
    EXPECT_NE(std::string(text), "unknown status");
    EXPECT_TRUE(seen.insert(text).second) << text;
  }
  EXPECT_STREQ(hotpatch_status_string(HOTPATCH_NOT_FOUND), "not found");
  EXPECT_STREQ(hotpatch_status_string(static_cast<hotpatch_status>(11)), "unknown status");
}

// ---- count, list, dedupe ---------------------------------------------------

void *dedupe_slot_a = fn(ret1);
void *dedupe_slot_b = fn(ret2);
hotpatch_slot_entry dedupe_table[] = {
    // One linkonce_odr slot seen by two images: one hot function.
    entry("dedupe_odr", &dedupe_slot_a, fn(ret1), "/src/odr.h", HOTPATCH_ENTRY_ODR),
    entry("dedupe_odr", &dedupe_slot_a, fn(ret1), "/src/odr.h", HOTPATCH_ENTRY_ODR),
    entry("dedupe_other", &dedupe_slot_b, fn(ret2), "/src/other.c"),
};

TEST(Registry, CountIsOnePerDistinctSlot) {
  size_t before = hotpatch_count();
  register_table(dedupe_table);
  EXPECT_EQ(hotpatch_count(), before + 2);

  // The same range again (an image whose constructor ran twice), and a
  // zero-length one (an image whose entries were all discarded): no change.
  register_table(dedupe_table);
  hotpatch_register_table(dedupe_table, dedupe_table);
  hotpatch_register_table(nullptr, nullptr);
  EXPECT_EQ(hotpatch_count(), before + 2);

  // An overlapping range with the same entries still yields one per slot.
  hotpatch_register_table(dedupe_table + 1, dedupe_table + 3);
  EXPECT_EQ(hotpatch_count(), before + 2);

  size_t listed = 0;
  for (const hotpatch_function_info &info : list_all())
    listed += std::string(info.name) == "dedupe_odr";
  EXPECT_EQ(listed, 1u);
}

void *sort_slots[4] = {fn(ret1), fn(ret2), fn(ret3), fn(ret4)};
hotpatch_slot_entry sort_table[] = {
    entry("sort_b", &sort_slots[0], fn(ret1), "/src/a.c"),
    entry("sort_a", &sort_slots[1], fn(ret2), "/src/b.c", HOTPATCH_ENTRY_LOCAL),
    entry("sort_c", &sort_slots[2], fn(ret3), "/src/a.c"),
    entry("sort_a", &sort_slots[3], fn(ret4), "/src/a.c", HOTPATCH_ENTRY_LOCAL),
};

TEST(Registry, ListIsSortedByNameThenUnit) {
  register_table(sort_table);
  std::vector<hotpatch_function_info> all = list_all();
  ASSERT_EQ(all.size(), hotpatch_count());
  for (size_t i = 1; i < all.size(); ++i) {
    int by_name = std::strcmp(all[i - 1].name, all[i].name);
    EXPECT_TRUE(by_name < 0 || (by_name == 0 && std::strcmp(all[i - 1].unit, all[i].unit) <= 0))
        << all[i - 1].name << " (" << all[i - 1].unit << ") before " << all[i].name << " ("
        << all[i].unit << ")";
  }
  std::vector<std::string> mine;
  for (const hotpatch_function_info &info : all)
    if (std::strncmp(info.name, "sort_", 5) == 0)
      mine.push_back(std::string(info.unit) + ":" + info.name);
  EXPECT_EQ(mine, (std::vector<std::string>{"/src/a.c:sort_a", "/src/b.c:sort_a",
                                            "/src/a.c:sort_b", "/src/a.c:sort_c"}));
}

TEST(Registry, ListReportsBufferTooSmall) {
  register_table(sort_table);
  size_t total = hotpatch_count();
  ASSERT_GE(total, 4u);

  size_t count = 0;
  EXPECT_EQ(hotpatch_list(nullptr, 0, &count), HOTPATCH_BUFFER_TOO_SMALL);
  EXPECT_EQ(count, total);
  EXPECT_TRUE(contains(hotpatch_last_error(), "capacity")) << hotpatch_last_error();

  std::vector<hotpatch_function_info> out(total);
  hotpatch_function_info sentinel{};
  sentinel.name = "untouched";
  out.assign(total, sentinel);
  count = 0;
  EXPECT_EQ(hotpatch_list(out.data(), 1, &count), HOTPATCH_BUFFER_TOO_SMALL);
  EXPECT_EQ(count, total);
  EXPECT_STRNE(out[0].name, "untouched"); // the `capacity` entries are filled
  EXPECT_STREQ(out[1].name, "untouched"); // and nothing past them

  EXPECT_EQ(hotpatch_list(out.data(), out.size(), &count), HOTPATCH_OK);
  EXPECT_EQ(count, total);
  EXPECT_STREQ(hotpatch_last_error(), "");
}

TEST(Registry, ListRejectsNullArguments) {
  hotpatch_function_info out[2];
  EXPECT_EQ(hotpatch_list(out, 2, nullptr), HOTPATCH_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(hotpatch_last_error(), "count")) << hotpatch_last_error();
  size_t count = 0;
  EXPECT_EQ(hotpatch_list(nullptr, 2, &count), HOTPATCH_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(hotpatch_last_error(), "out")) << hotpatch_last_error();
}

// ---- lookup, redirect, restore ---------------------------------------------

char fake_thunk;
void *basic_slot = fn(ret1);
hotpatch_slot_entry basic_table[] = {
    entry("basic_fn", &basic_slot, fn(ret1), "/src/basic.c",
          HOTPATCH_ENTRY_ANNOTATED | HOTPATCH_ENTRY_CALLSITE, &fake_thunk),
};

TEST(Registry, LookupFillsTheInfo) {
  register_table(basic_table);
  ASSERT_EQ(hotpatch_restore("basic_fn"), HOTPATCH_OK);
  hotpatch_function_info info;
  ASSERT_EQ(hotpatch_lookup("basic_fn", &info), HOTPATCH_OK) << hotpatch_last_error();
  EXPECT_STREQ(info.name, "basic_fn");
  EXPECT_STREQ(info.unit, "/src/basic.c");
  EXPECT_EQ(info.current, fn(ret1));
  EXPECT_EQ(info.original, fn(ret1));
  EXPECT_EQ(info.symbol, static_cast<void *>(&fake_thunk));
  EXPECT_EQ(info.flags, unsigned(HOTPATCH_ENTRY_ANNOTATED | HOTPATCH_ENTRY_CALLSITE));
  EXPECT_EQ(info.redirected, 0);
  EXPECT_EQ(info.unpatched_copy, 0);
  EXPECT_STREQ(hotpatch_last_error(), "");
}

TEST(Registry, RedirectAndRestore) {
  register_table(basic_table);
  EXPECT_EQ(call(&basic_slot, 10), 11);

  ASSERT_EQ(hotpatch_redirect("basic_fn", fn(ret3)), HOTPATCH_OK) << hotpatch_last_error();
  EXPECT_EQ(call(&basic_slot, 10), 13);
  hotpatch_function_info info;
  ASSERT_EQ(hotpatch_lookup("basic_fn", &info), HOTPATCH_OK);
  EXPECT_EQ(info.current, fn(ret3));
  EXPECT_EQ(info.original, fn(ret1));
  EXPECT_EQ(info.redirected, 1);

  ASSERT_EQ(hotpatch_restore("basic_fn"), HOTPATCH_OK);
  EXPECT_EQ(call(&basic_slot, 10), 11);
  ASSERT_EQ(hotpatch_lookup("basic_fn", &info), HOTPATCH_OK);
  EXPECT_EQ(info.redirected, 0);

  // Redirecting to the original body is allowed and is not "redirected".
  ASSERT_EQ(hotpatch_redirect("basic_fn", fn(ret1)), HOTPATCH_OK);
  ASSERT_EQ(hotpatch_lookup("basic_fn", &info), HOTPATCH_OK);
  EXPECT_EQ(info.redirected, 0);
}

void *restore_all_slots[2] = {fn(ret1), fn(ret2)};
hotpatch_slot_entry restore_all_table[] = {
    entry("restore_all_x", &restore_all_slots[0], fn(ret1), "/src/r.c"),
    entry("restore_all_y", &restore_all_slots[1], fn(ret2), "/src/r.c"),
};

TEST(Registry, RestoreAllPutsEverySlotBack) {
  register_table(restore_all_table);
  ASSERT_EQ(hotpatch_redirect("restore_all_x", fn(ret4)), HOTPATCH_OK);
  ASSERT_EQ(hotpatch_redirect("restore_all_y", fn(ret4)), HOTPATCH_OK);
  EXPECT_EQ(call(&restore_all_slots[0], 0), 4);
  hotpatch_restore_all();
  EXPECT_EQ(call(&restore_all_slots[0], 0), 1);
  EXPECT_EQ(call(&restore_all_slots[1], 0), 2);
  for (const hotpatch_function_info &info : list_all())
    EXPECT_EQ(info.redirected, 0) << info.name;
}

TEST(Registry, RedirectRejectsNullAddressAndLeavesTheSlot) {
  register_table(basic_table);
  ASSERT_EQ(hotpatch_restore("basic_fn"), HOTPATCH_OK);
  EXPECT_EQ(hotpatch_redirect("basic_fn", nullptr), HOTPATCH_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(hotpatch_last_error(), "basic_fn")) << hotpatch_last_error();
  EXPECT_TRUE(contains(hotpatch_last_error(), "hotpatch_restore")) << hotpatch_last_error();
  EXPECT_EQ(call(&basic_slot, 0), 1);
}

TEST(Registry, NullArgumentsAreInvalid) {
  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup(nullptr, &info), HOTPATCH_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(hotpatch_last_error(), "NULL")) << hotpatch_last_error();
  EXPECT_EQ(hotpatch_lookup("basic_fn", nullptr), HOTPATCH_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(hotpatch_last_error(), "out")) << hotpatch_last_error();
  EXPECT_EQ(hotpatch_redirect(nullptr, fn(ret1)), HOTPATCH_INVALID_ARGUMENT);
  EXPECT_EQ(hotpatch_restore(nullptr), HOTPATCH_INVALID_ARGUMENT);
  EXPECT_STRNE(hotpatch_last_error(), "");
}

// ---- names: not found, copies, file-local functions --------------------------

void *mangled_slot = fn(ret1);
hotpatch_slot_entry mangled_table[] = {
    entry("_Z12mangled_funci", &mangled_slot, fn(ret1), "/src/m.cpp")};

TEST(Registry, NotFoundExplainsWhatToDo) {
  register_table(mangled_table);
  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup("no_such_function", &info), HOTPATCH_NOT_FOUND);
  const char *msg = hotpatch_last_error();
  EXPECT_TRUE(contains(msg, "no hot function named 'no_such_function'")) << msg;
  EXPECT_TRUE(contains(msg, "-fplugin=hotpatch.so")) << msg;
  EXPECT_TRUE(contains(msg, "HOTPATCH")) << msg;
  EXPECT_EQ(hotpatch_redirect("no_such_function", fn(ret2)), HOTPATCH_NOT_FOUND);
  EXPECT_EQ(hotpatch_restore("no_such_function"), HOTPATCH_NOT_FOUND);

  // A C++ function asked for by its source name: suggest the mangled one.
  EXPECT_EQ(hotpatch_lookup("mangled_func", &info), HOTPATCH_NOT_FOUND);
  EXPECT_TRUE(contains(hotpatch_last_error(), "'_Z12mangled_funci'")) << hotpatch_last_error();
  EXPECT_EQ(hotpatch_lookup("_Z12mangled_funci", &info), HOTPATCH_OK);
}

void *hidden_slots[2] = {fn(ret1), fn(ret1)};
hotpatch_slot_entry hidden_table[] = {
    // A hidden-visibility function linked into two images: two slots, one name.
    entry("hidden_copy", &hidden_slots[0], fn(ret1), "/src/h.c"),
    entry("hidden_copy", &hidden_slots[1], fn(ret1), "/src/h.c"),
};

TEST(Registry, RedirectWritesEveryCopyOfAGlobalName) {
  size_t before = hotpatch_count();
  register_table(hidden_table);
  EXPECT_EQ(hotpatch_count(), before + 2);
  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup("hidden_copy", &info), HOTPATCH_OK) << hotpatch_last_error();
  ASSERT_EQ(hotpatch_redirect("hidden_copy", fn(ret2)), HOTPATCH_OK);
  EXPECT_EQ(call(&hidden_slots[0], 0), 2);
  EXPECT_EQ(call(&hidden_slots[1], 0), 2);
  ASSERT_EQ(hotpatch_restore("hidden_copy"), HOTPATCH_OK);
  EXPECT_EQ(call(&hidden_slots[0], 0), 1);
  EXPECT_EQ(call(&hidden_slots[1], 0), 1);
}

void *local_slots[3] = {fn(ret1), fn(ret2), fn(ret3)};
hotpatch_slot_entry local_table[] = {
    entry("helper", &local_slots[0], fn(ret1), "/src/app/foo.c", HOTPATCH_ENTRY_LOCAL),
    entry("helper", &local_slots[1], fn(ret2), "/src/lib/bar.c", HOTPATCH_ENTRY_LOCAL),
    entry("helper", &local_slots[2], fn(ret3), "/src/lib/myfoo.c", HOTPATCH_ENTRY_LOCAL),
};

TEST(Registry, FileLocalNamesOfSeveralFilesAreAmbiguous) {
  register_table(local_table);
  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup("helper", &info), HOTPATCH_AMBIGUOUS);
  const char *msg = hotpatch_last_error();
  EXPECT_TRUE(contains(msg, "/src/app/foo.c:helper")) << msg;
  EXPECT_TRUE(contains(msg, "/src/lib/bar.c:helper")) << msg;
  EXPECT_TRUE(contains(msg, "/src/lib/myfoo.c:helper")) << msg;
  EXPECT_TRUE(contains(msg, "file:name")) << msg;

  EXPECT_EQ(hotpatch_redirect("helper", fn(ret4)), HOTPATCH_AMBIGUOUS);
  EXPECT_EQ(call(&local_slots[0], 0), 1); // nothing was written
  EXPECT_EQ(call(&local_slots[1], 0), 2);
}

TEST(Registry, UnitQualifiedNamesSelectOneFile) {
  register_table(local_table);
  hotpatch_function_info info;
  ASSERT_EQ(hotpatch_lookup("/src/app/foo.c:helper", &info), HOTPATCH_OK)
      << hotpatch_last_error();
  EXPECT_STREQ(info.unit, "/src/app/foo.c");
  // A path suffix at a '/' boundary is enough when it names one file...
  ASSERT_EQ(hotpatch_lookup("foo.c:helper", &info), HOTPATCH_OK) << hotpatch_last_error();
  EXPECT_STREQ(info.unit, "/src/app/foo.c");
  ASSERT_EQ(hotpatch_lookup("lib/bar.c:helper", &info), HOTPATCH_OK);
  EXPECT_STREQ(info.unit, "/src/lib/bar.c");
  ASSERT_EQ(hotpatch_lookup("/lib/bar.c:helper", &info), HOTPATCH_OK);
  EXPECT_STREQ(info.unit, "/src/lib/bar.c");
  // ...but not a partial file name.
  EXPECT_EQ(hotpatch_lookup("oo.c:helper", &info), HOTPATCH_NOT_FOUND);
  EXPECT_TRUE(contains(hotpatch_last_error(), "/src/app/foo.c:helper")) << hotpatch_last_error();
  EXPECT_EQ(hotpatch_lookup("baz.c:helper", &info), HOTPATCH_NOT_FOUND);

  ASSERT_EQ(hotpatch_redirect("bar.c:helper", fn(ret4)), HOTPATCH_OK);
  EXPECT_EQ(call(&local_slots[0], 0), 1);
  EXPECT_EQ(call(&local_slots[1], 0), 4);
  EXPECT_EQ(call(&local_slots[2], 0), 3);
  ASSERT_EQ(hotpatch_restore("bar.c:helper"), HOTPATCH_OK);
  EXPECT_EQ(call(&local_slots[1], 0), 2);
}

void *suffix_slots[2] = {fn(ret1), fn(ret2)};
hotpatch_slot_entry suffix_table[] = {
    entry("util_fn", &suffix_slots[0], fn(ret1), "/a/x/util.c", HOTPATCH_ENTRY_LOCAL),
    entry("util_fn", &suffix_slots[1], fn(ret2), "/b/x/util.c", HOTPATCH_ENTRY_LOCAL),
};

TEST(Registry, AmbiguousPathSuffixAsksForMoreOfThePath) {
  register_table(suffix_table);
  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup("x/util.c:util_fn", &info), HOTPATCH_AMBIGUOUS);
  EXPECT_TRUE(contains(hotpatch_last_error(), "/a/x/util.c:util_fn")) << hotpatch_last_error();
  EXPECT_TRUE(contains(hotpatch_last_error(), "/b/x/util.c:util_fn")) << hotpatch_last_error();
  ASSERT_EQ(hotpatch_lookup("b/x/util.c:util_fn", &info), HOTPATCH_OK);
  EXPECT_EQ(info.original, fn(ret2));
}

void *mixed_slots[2] = {fn(ret1), fn(ret2)};
hotpatch_slot_entry mixed_table[] = {
    entry("mixed_fn", &mixed_slots[0], fn(ret1), "/src/global.c"),
    entry("mixed_fn", &mixed_slots[1], fn(ret2), "/src/local.c", HOTPATCH_ENTRY_LOCAL),
};

TEST(Registry, FileLocalAndGlobalFunctionOfOneNameAreAmbiguous) {
  register_table(mixed_table);
  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup("mixed_fn", &info), HOTPATCH_AMBIGUOUS);
  ASSERT_EQ(hotpatch_lookup("global.c:mixed_fn", &info), HOTPATCH_OK);
  EXPECT_EQ(info.original, fn(ret1));
  ASSERT_EQ(hotpatch_lookup("local.c:mixed_fn", &info), HOTPATCH_OK);
  EXPECT_EQ(info.original, fn(ret2));
}

void *same_unit_slots[2] = {fn(ret1), fn(ret1)};
hotpatch_slot_entry same_unit_table[] = {
    // One object file linked into two images: copies of one function.
    entry("same_unit_fn", &same_unit_slots[0], fn(ret1), "/src/s.c", HOTPATCH_ENTRY_LOCAL),
    entry("same_unit_fn", &same_unit_slots[1], fn(ret1), "/src/s.c", HOTPATCH_ENTRY_LOCAL),
};

TEST(Registry, FileLocalCopiesFromOneUnitAreOneName) {
  register_table(same_unit_table);
  ASSERT_EQ(hotpatch_redirect("same_unit_fn", fn(ret3)), HOTPATCH_OK) << hotpatch_last_error();
  EXPECT_EQ(call(&same_unit_slots[0], 0), 3);
  EXPECT_EQ(call(&same_unit_slots[1], 0), 3);
  ASSERT_EQ(hotpatch_restore("s.c:same_unit_fn"), HOTPATCH_OK);
  EXPECT_EQ(call(&same_unit_slots[0], 0), 1);
  EXPECT_EQ(call(&same_unit_slots[1], 0), 1);
}

// ---- last_error --------------------------------------------------------------

TEST(Registry, LastErrorIsPerThreadAndClearedBySuccess) {
  register_table(basic_table);
  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup("missing_on_main", &info), HOTPATCH_NOT_FOUND);
  std::string main_error = hotpatch_last_error();
  EXPECT_TRUE(contains(main_error.c_str(), "missing_on_main"));

  std::string thread_before, thread_after;
  std::thread([&] {
    thread_before = hotpatch_last_error();
    hotpatch_function_info i;
    hotpatch_lookup("missing_on_thread", &i);
    thread_after = hotpatch_last_error();
  }).join();
  EXPECT_EQ(thread_before, "");
  EXPECT_TRUE(contains(thread_after.c_str(), "missing_on_thread")) << thread_after;
  EXPECT_EQ(hotpatch_last_error(), main_error);

  EXPECT_EQ(hotpatch_lookup("basic_fn", &info), HOTPATCH_OK);
  EXPECT_STREQ(hotpatch_last_error(), "");
}

TEST(Registry, LongMessagesAreTruncatedNotOverflowed) {
  std::string name(5000, 'x');
  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup(name.c_str(), &info), HOTPATCH_NOT_FOUND);
  size_t len = std::strlen(hotpatch_last_error());
  EXPECT_GT(len, 100u);
  EXPECT_LT(len, name.size());
}

// ---- unpatched copies: without any thunk range registered -------------------

void *thunkless_slot = fn(ret1);
hotpatch_slot_entry thunkless_table[] = {
    // Its symbol is not a thunk, but no image reported a thunk section, so
    // the runtime cannot tell and must not warn.
    entry("thunkless_fn", &thunkless_slot, fn(ret1), "/src/t.c", HOTPATCH_ENTRY_THUNK,
          fn(ret2)),
};

TEST(Registry, NoThunkRangeRegisteredMeansNoUnpatchedCopies) {
  register_table(thunkless_table);
  hotpatch_function_info info;
  ASSERT_EQ(hotpatch_lookup("thunkless_fn", &info), HOTPATCH_OK);
  EXPECT_EQ(info.unpatched_copy, 0);
  EXPECT_EQ(hotpatch_check_unpatched(0), 0u);
}

} // namespace
