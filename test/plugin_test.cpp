// End-to-end tests of a program built with the plugin: hot functions are
// registered before main and redirecting them changes where calls go - direct
// calls, calls in the defining file, and function pointers taken before the
// redirect - without ever tearing under concurrent callers.
#include "hot_functions.h"
#include "hotpatch/slot_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

void *address_of(int (*f)(int)) { return reinterpret_cast<void *>(f); }

class Plugin : public testing::Test {
protected:
  void TearDown() override { hotpatch_restore_all(); }
};

TEST_F(Plugin, AnnotatedFunctionsAreRegistered) {
  hotpatch_function_info info;
  ASSERT_EQ(hotpatch_lookup("hot_value", &info), HOTPATCH_OK) << hotpatch_last_error();
  EXPECT_STREQ(info.name, "hot_value");
  EXPECT_NE(std::strstr(info.unit, "hot_functions.cpp"), nullptr) << info.unit;
  EXPECT_TRUE(info.flags & HOTPATCH_ENTRY_ANNOTATED);
  EXPECT_EQ(info.redirected, 0);
  EXPECT_EQ(info.unpatched_copy, 0);
  EXPECT_EQ(info.current, info.original);

  ASSERT_EQ(hotpatch_lookup("_Z7hot_cppi", &info), HOTPATCH_OK) << hotpatch_last_error();
  // Unannotated functions are not hot without -fplugin-arg-hotpatch-all.
  EXPECT_EQ(hotpatch_lookup("replacement_value", &info), HOTPATCH_NOT_FOUND);
  EXPECT_EQ(hotpatch_check_unpatched(1), 0u);
}

TEST_F(Plugin, RedirectReachesDirectCallsAndEarlierFunctionPointers) {
  int (*volatile before)(int) = &hot_value; // taken before the redirect
  ASSERT_EQ(hot_value(1), 2);

  ASSERT_EQ(hotpatch_redirect("hot_value", address_of(replacement_value)), HOTPATCH_OK)
      << hotpatch_last_error();
  EXPECT_EQ(hot_value(1), 1001);
  EXPECT_EQ(before(1), 1001);
  hotpatch_function_info info;
  ASSERT_EQ(hotpatch_lookup("hot_value", &info), HOTPATCH_OK);
  EXPECT_EQ(info.current, address_of(replacement_value));
  EXPECT_EQ(info.redirected, 1);

  ASSERT_EQ(hotpatch_restore("hot_value"), HOTPATCH_OK);
  EXPECT_EQ(hot_value(1), 2);
  EXPECT_EQ(before(1), 2);
}

// hotpatch_current (and hotpatch::call) follow every redirect, through the
// name index that keeps them cheap, and say nothing for unknown names.
TEST_F(Plugin, CurrentFollowsRedirectsAndRestores) {
  hotpatch_function_info info;
  ASSERT_EQ(hotpatch_lookup("hot_value", &info), HOTPATCH_OK);
  EXPECT_EQ(hotpatch_current("hot_value"), info.original);
  EXPECT_EQ(hotpatch::call("hot_value", &hot_value, 1), 2);
  ASSERT_EQ(hotpatch_redirect("hot_value", address_of(replacement_value)), HOTPATCH_OK);
  EXPECT_EQ(hotpatch_current("hot_value"), address_of(replacement_value));
  EXPECT_EQ(hotpatch::call("hot_value", &hot_value, 1), 1001);
  ASSERT_EQ(hotpatch_restore("hot_value"), HOTPATCH_OK);
  EXPECT_EQ(hotpatch_current("hot_value"), info.original);
  // A file-local function is reached by "file:name" too (the general path).
  ASSERT_EQ(hotpatch_redirect("_ZL12local_helperi", address_of(other_replacement)), HOTPATCH_OK);
  EXPECT_EQ(hotpatch_current("hot_functions.cpp:_ZL12local_helperi"),
            address_of(other_replacement));
  EXPECT_EQ(hotpatch_current("no_such_function"), nullptr);
  EXPECT_NE(std::string(hotpatch_last_error()), "");
  // Not hot: hotpatch::call falls back to the function itself.
  EXPECT_EQ(hotpatch::call("replacement_value", &replacement_value, 1), 1001);
}

TEST_F(Plugin, RedirectReachesCallsInTheDefiningFile) {
  ASSERT_EQ(call_hot_cpp_locally(5), 10);
  ASSERT_EQ(hotpatch_redirect("_Z7hot_cppi", address_of(other_replacement)), HOTPATCH_OK)
      << hotpatch_last_error();
  EXPECT_EQ(call_hot_cpp_locally(5), 2005);
  EXPECT_EQ(hot_cpp(5), 2005);
  ASSERT_EQ(hotpatch_restore("_Z7hot_cppi"), HOTPATCH_OK);
  EXPECT_EQ(call_hot_cpp_locally(5), 10);
}

TEST_F(Plugin, FileLocalFunctionsAreFoundByUnitAndName) {
  hotpatch_function_info info;
  ASSERT_EQ(hotpatch_lookup("hot_functions.cpp:_ZL12local_helperi", &info), HOTPATCH_OK)
      << hotpatch_last_error();
  EXPECT_TRUE(info.flags & HOTPATCH_ENTRY_LOCAL);
  ASSERT_EQ(call_local_helper(5), 4);
  ASSERT_EQ(hotpatch_redirect("hot_functions.cpp:_ZL12local_helperi",
                              address_of(replacement_value)),
            HOTPATCH_OK);
  EXPECT_EQ(call_local_helper(5), 1005);
  ASSERT_EQ(hotpatch_restore("_ZL12local_helperi"), HOTPATCH_OK); // unique: no unit needed
  EXPECT_EQ(call_local_helper(5), 4);
}

// 8 threads call the hot function while the main thread flips it between two
// bodies: every call returns one body's result, never anything else.
TEST_F(Plugin, ConcurrentCallsSeeTheOldOrTheNewFunction) {
  constexpr int kThreads = 8, kFlips = 100000;
  std::atomic<bool> stop{false};
  std::atomic<int> running{0};
  std::atomic<long> old_calls{0}, new_calls{0}, bad_calls{0};
  std::atomic<bool> seen_old{false}, seen_new{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      long o = 0, n = 0, bad = 0;
      running.fetch_add(1);
      while (!stop.load(std::memory_order_relaxed)) {
        int r = hot_value(1);
        if (r == 2) {
          if (!o++)
            seen_old = true;
        } else if (r == 1001) {
          if (!n++)
            seen_new = true;
        } else {
          ++bad;
        }
      }
      old_calls += o;
      new_calls += n;
      bad_calls += bad;
    });
  while (running.load() < kThreads)
    std::this_thread::yield();

  void *replacement = address_of(replacement_value);
  int failures = 0;
  for (int i = 0; i < kFlips; ++i)
    failures += (i % 2 ? hotpatch_restore("hot_value")
                       : hotpatch_redirect("hot_value", replacement)) != HOTPATCH_OK;
  // On a loaded machine the callers may have slept through the flips: keep
  // flipping slowly until both bodies were seen running, so that the test
  // really checks both.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(seen_old && seen_new) && std::chrono::steady_clock::now() < deadline) {
    failures += hotpatch_redirect("hot_value", replacement) != HOTPATCH_OK;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    failures += hotpatch_restore("hot_value") != HOTPATCH_OK;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop = true;
  for (std::thread &t : threads)
    t.join();

  EXPECT_EQ(failures, 0) << hotpatch_last_error();
  EXPECT_EQ(bad_calls.load(), 0);
  EXPECT_GT(old_calls.load(), 0);
  EXPECT_GT(new_calls.load(), 0);
  RecordProperty("old_calls", std::to_string(old_calls.load()));
  RecordProperty("new_calls", std::to_string(new_calls.load()));
  EXPECT_EQ(hot_value(1), 2); // an even number of flips ends restored
}

} // namespace
