// The control socket's client (tools/ControlClient.cpp) reads what other
// processes and files say: numbers in /proc/net/unix and in replies, and a
// patch's header. Malformed text is refused, never misread or crashed on.
#include "ControlClient.h"

#include "hotpatch/patch_format.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace hotpatch;

TEST(ControlClient, UnsignedNumbers) {
  unsigned V = 7;
  EXPECT_TRUE(parseUnsigned("00010000", 16, V));
  EXPECT_EQ(V, 0x10000u);
  EXPECT_TRUE(parseUnsigned("ffffffff", 16, V));
  EXPECT_EQ(V, 0xffffffffu);
  EXPECT_TRUE(parseUnsigned("42", 10, V));
  EXPECT_EQ(V, 42u);
  V = 7;
  for (const char *Bad : {"", "-1", "+1", "0x10", "1 ", " 1", "12a", "4294967296",
                          "99999999999999999999999"})
    EXPECT_FALSE(parseUnsigned(Bad, 10, V)) << Bad;
  EXPECT_FALSE(parseUnsigned("100000000", 16, V));
  EXPECT_FALSE(parseUnsigned("g", 16, V));
  EXPECT_FALSE(parseUnsigned("1", 1, V));
  EXPECT_FALSE(parseUnsigned("1", 17, V));
  EXPECT_EQ(V, 7u) << "a refused number leaves the value as it was";
}

TEST(ControlClient, SignedNumbers) {
  int V = 7;
  EXPECT_TRUE(parseInt("1234", V));
  EXPECT_EQ(V, 1234);
  EXPECT_TRUE(parseInt("-5", V));
  EXPECT_EQ(V, -5);
  EXPECT_TRUE(parseInt("2147483647", V));
  EXPECT_EQ(V, 2147483647);
  EXPECT_TRUE(parseInt("-2147483648", V));
  EXPECT_EQ(V, -2147483647 - 1);
  V = 7;
  for (const char *Bad : {"", "-", "--1", "+1", "2147483648", "-2147483649", "1.5", "12 "})
    EXPECT_FALSE(parseInt(Bad, V)) << Bad;
  EXPECT_EQ(V, 7);
}

namespace {
std::string tempPath(const char *Name) {
  return std::string(::testing::TempDir()) + "control_client_" + std::to_string(getpid()) +
         "_" + Name;
}
void writeFile(const std::string &Path, const void *Data, size_t Size) {
  FILE *F = fopen(Path.c_str(), "wb");
  ASSERT_NE(F, nullptr);
  ASSERT_EQ(fwrite(Data, 1, Size, F), Size);
  fclose(F);
}
} // namespace

TEST(ControlClient, BuildIdOfPatch) {
  hotpatch_patch_header H;
  memset(&H, 0, sizeof H);
  memcpy(H.magic, HOTPATCH_PATCH_MAGIC, sizeof H.magic);
  for (unsigned I = 0; I < 20; ++I)
    H.build_id[I] = uint8_t(0xa0 + I);
  H.build_id_size = 8;
  std::string Good = tempPath("good.hpp");
  writeFile(Good, &H, sizeof H);
  EXPECT_EQ(buildIdOfPatch(Good), "a0a1a2a3a4a5a6a7");

  // A size larger than the field is cut to the field's 20 bytes.
  H.build_id_size = 0xffffffffu;
  writeFile(Good, &H, sizeof H);
  EXPECT_EQ(buildIdOfPatch(Good), "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3");

  // Shorter than a header, missing, a directory: no build-id, no crash.
  std::string Short = tempPath("short.hpp");
  writeFile(Short, &H, sizeof H - 1);
  EXPECT_EQ(buildIdOfPatch(Short), "");
  EXPECT_EQ(buildIdOfPatch(tempPath("missing.hpp")), "");
  std::string Dir = tempPath("dir");
  ASSERT_EQ(mkdir(Dir.c_str(), 0700), 0);
  EXPECT_EQ(buildIdOfPatch(Dir), "");
  rmdir(Dir.c_str());
  unlink(Good.c_str());
  unlink(Short.c_str());
}

TEST(ControlClient, RefusedAsOtherBuild) {
  ApplyReply R;
  R.Answered = true;
  R.Text = "error wrong build: the patch is for build 1234";
  EXPECT_TRUE(refusedAsOtherBuild(R));
  R.Text = "error wrong build";
  EXPECT_FALSE(refusedAsOtherBuild(R));
  R.Text = "error bad patch: wrong build: x";
  EXPECT_FALSE(refusedAsOtherBuild(R));
  R.Answered = false;
  R.Text = "error wrong build: x";
  EXPECT_FALSE(refusedAsOtherBuild(R));
}
