// Tests of the paths a preamble's build found absent (compiler/AbsentFiles.h):
// the recorder keeps every failed lookup as an absolute path, once; the check
// finds a path that exists now whether its directory's stamp answers for it
// or not.
#include "AbsentFiles.h"

#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <fstream>
#include <time.h>

using namespace hotpatch;
using namespace llvm;

namespace {

class TempDir {
public:
  TempDir() {
    SmallString<128> P;
    EXPECT_FALSE(sys::fs::createUniqueDirectory("hotpatch-absent-test", P));
    Path = std::string(P);
  }
  ~TempDir() { sys::fs::remove_directories(Path); }
  std::string at(StringRef Name) const { return (Path + "/" + Name).str(); }
  void write(StringRef Name) const { std::ofstream(at(Name)) << "x\n"; }
  std::string Path;
};

int64_t nowNs() {
  timespec T;
  clock_gettime(CLOCK_REALTIME, &T);
  return int64_t(T.tv_sec) * 1000000000 + T.tv_nsec;
}

// A build "started" this long after now: every directory made before is
// settled (its status changed more than 2 s before), as it is for a source
// tree untouched for a while.
constexpr int64_t Later = 10000000000;

TEST(AbsentFiles, RecorderKeepsFailedLookupsAbsoluteAndOnce) {
  TempDir D;
  D.write("found.h");
  auto Real = vfs::createPhysicalFileSystem();
  ASSERT_FALSE(Real->setCurrentWorkingDirectory(D.Path));
  auto R = makeIntrusiveRefCnt<AbsentFileRecorder>(
      IntrusiveRefCntPtr<vfs::FileSystem>(Real.release()));
  EXPECT_TRUE(bool(R->status("found.h")));
  EXPECT_FALSE(bool(R->status("a.h")));
  EXPECT_FALSE(bool(R->openFileForRead("a.h")));
  EXPECT_FALSE(R->exists("dir/b.h"));
  EXPECT_FALSE(bool(R->openFileForRead("found.h/c.h"))); // ENOTDIR
  std::vector<std::string> Got = R->take();
  EXPECT_EQ(Got, (std::vector<std::string>{D.at("a.h"), D.at("dir/b.h"), D.at("found.h/c.h")}));
}

TEST(AbsentFiles, SettledDirectoryAnswersUntilAnEntryIsCreated) {
  TempDir D;
  AbsentFiles A({D.at("a.h"), D.at("b.h")}, nowNs() + Later);
  EXPECT_EQ(A.size(), 2u);
  EXPECT_EQ(A.firstNoLongerAbsent(), "");
  D.write("b.h");
  EXPECT_EQ(A.firstNoLongerAbsent(), D.at("b.h") + " exists now");
}

TEST(AbsentFiles, RecentlyChangedDirectoryIsLookedIntoPathByPath) {
  TempDir D;
  // The build started now: the directory, just made, is not settled.
  AbsentFiles A({D.at("a.h")}, nowNs());
  EXPECT_EQ(A.firstNoLongerAbsent(), "");
  D.write("a.h");
  EXPECT_EQ(A.firstNoLongerAbsent(), D.at("a.h") + " exists now");
}

TEST(AbsentFiles, DirectoryThatDidNotExist) {
  TempDir D;
  AbsentFiles A({D.at("gen"), D.at("gen/x.h")}, nowNs() + Later);
  EXPECT_EQ(A.firstNoLongerAbsent(), "");
  ASSERT_FALSE(sys::fs::create_directory(D.at("gen")));
  EXPECT_EQ(A.firstNoLongerAbsent(), D.at("gen") + " exists now");
  AbsentFiles B({D.at("gen/sub/x.h")}, nowNs() + Later);
  ASSERT_FALSE(sys::fs::create_directory(D.at("gen/sub")));
  EXPECT_EQ(B.firstNoLongerAbsent(), "");
  D.write("gen/sub/x.h");
  EXPECT_EQ(B.firstNoLongerAbsent(), D.at("gen/sub/x.h") + " exists now");
}

TEST(AbsentFiles, UnderAFileThatBecomesADirectory) {
  TempDir D;
  D.write("f");
  AbsentFiles A({D.at("f/x.h")}, nowNs() + Later);
  EXPECT_EQ(A.firstNoLongerAbsent(), "");
  ASSERT_FALSE(sys::fs::remove(D.at("f")));
  ASSERT_FALSE(sys::fs::create_directory(D.at("f")));
  D.write("f/x.h");
  EXPECT_EQ(A.firstNoLongerAbsent(), D.at("f/x.h") + " exists now");
}

} // namespace
