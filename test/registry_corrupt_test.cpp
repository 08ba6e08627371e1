// Malformed tables: bad entries are skipped, the good ones in the same table
// still work, and a lookup that then finds nothing says HOTPATCH_TABLE_CORRUPT
// (the function may be one of the skipped entries) instead of NOT_FOUND. Its
// own binary, because that changes every later failed lookup in the process.
#include "registry_support.h"

#include <gtest/gtest.h>

using namespace hptest;

namespace {

void *slots[5] = {fn(ret1), fn(ret1), fn(ret1), fn(ret1), fn(ret1)};
hotpatch_slot_entry table[] = {
    entry("good_fn", &slots[0], fn(ret1), "/src/c.c"),
    entry("future_fn", &slots[1], fn(ret1), "/src/c.c"),  // version patched below
    entry(nullptr, &slots[2], fn(ret1), "/src/c.c"),      // no name
    entry("no_slot_fn", nullptr, fn(ret1), "/src/c.c"),
    entry("no_body_fn", &slots[4], nullptr, "/src/c.c"),
    entry("misaligned_slot_fn", reinterpret_cast<void **>(reinterpret_cast<char *>(&slots[3]) + 1),
          fn(ret1), "/src/c.c"),
};

TEST(Corrupt, BadEntriesAreSkippedAndReported) {
  size_t before = hotpatch_count();
  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup("not_anywhere", &info), HOTPATCH_NOT_FOUND);

  table[1].version = HOTPATCH_SLOT_TABLE_VERSION + 6;
  register_table(table);

  EXPECT_EQ(hotpatch_count(), before + 1);
  ASSERT_EQ(hotpatch_lookup("good_fn", &info), HOTPATCH_OK) << hotpatch_last_error();
  ASSERT_EQ(hotpatch_redirect("good_fn", fn(ret2)), HOTPATCH_OK);
  EXPECT_EQ(call(&slots[0], 0), 2);
  ASSERT_EQ(hotpatch_restore("good_fn"), HOTPATCH_OK);

  for (const char *name : {"future_fn", "no_slot_fn", "no_body_fn", "misaligned_slot_fn",
                           "not_anywhere"}) {
    EXPECT_EQ(hotpatch_lookup(name, &info), HOTPATCH_TABLE_CORRUPT) << name;
    std::string msg = hotpatch_last_error();
    EXPECT_NE(msg.find(std::string("no hot function named '") + name + "'"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("5 slot-table entries or tables were rejected"), std::string::npos) << msg;
    // The first problem seen, with what to do about it.
    EXPECT_NE(msg.find("version 7, this runtime reads version 1"), std::string::npos) << msg;
  }
  EXPECT_EQ(hotpatch_redirect("future_fn", fn(ret2)), HOTPATCH_TABLE_CORRUPT);
  EXPECT_EQ(hotpatch_restore("future_fn"), HOTPATCH_TABLE_CORRUPT);
  EXPECT_EQ(call(&slots[1], 0), 1); // a skipped entry's slot is never written

  for (const hotpatch_function_info &i : list_all())
    EXPECT_STRNE(i.name, "future_fn");
}

hotpatch_slot_entry spare[2] = {entry("spare_fn", &slots[0], fn(ret1), "/src/c.c"),
                                entry("spare_fn", &slots[0], fn(ret1), "/src/c.c")};

TEST(Corrupt, MalformedRangesAreRejectedWithoutCrashing) {
  size_t before = hotpatch_count();
  // Reversed, not a whole number of entries, misaligned, and a null begin.
  hotpatch_register_table(spare + 1, spare);
  hotpatch_register_table(spare, reinterpret_cast<const hotpatch_slot_entry *>(
                                     reinterpret_cast<const char *>(spare + 1) + 8));
  hotpatch_register_table(reinterpret_cast<const hotpatch_slot_entry *>(
                              reinterpret_cast<const char *>(spare) + 4),
                          reinterpret_cast<const hotpatch_slot_entry *>(
                              reinterpret_cast<const char *>(spare + 1) + 4));
  hotpatch_register_table(nullptr, spare);
  EXPECT_EQ(hotpatch_count(), before);

  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup("spare_fn", &info), HOTPATCH_TABLE_CORRUPT);
  EXPECT_NE(std::string(hotpatch_last_error()).find("tables were rejected"), std::string::npos)
      << hotpatch_last_error();
}

constexpr int kMany = 300; // more images than the registry has room for
void *many_slots[kMany];
hotpatch_slot_entry many[kMany];

TEST(Corrupt, TablesBeyondTheRegistryLimitAreDroppedAndReported) {
  size_t before = hotpatch_count();
  for (int i = 0; i < kMany; ++i) {
    many_slots[i] = fn(ret1);
    many[i] = entry("many_fn", &many_slots[i], fn(ret1), "/src/many.c");
    hotpatch_register_table(many + i, many + i + 1); // one "image" each
  }
  size_t added = hotpatch_count() - before;
  EXPECT_GT(added, 0u);
  EXPECT_LT(added, size_t(kMany));
  hotpatch_function_info info;
  EXPECT_EQ(hotpatch_lookup("many_fn", &info), HOTPATCH_OK) << hotpatch_last_error();
  EXPECT_EQ(hotpatch_lookup("not_among_them", &info), HOTPATCH_TABLE_CORRUPT);
}

} // namespace
