//===- dev_loop_test.cpp - hotpatch dev's build graph and Ninja records ---===//
//
// The build graph is read once; a compile updates only its own command's
// entry, and only files new to the graph are reported for watching. Ninja
// records: after recordCompile(), a real Ninja (1.11, as on Debian 12) sees
// an object written outside it as up to date, and still rebuilds when an
// input is newer than the object or the command changed.
//
//===----------------------------------------------------------------------===//
#include "DevCommands.h"
#include "NinjaRecord.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

using namespace hotpatch;
using namespace llvm;

namespace {

struct TempDir {
  std::string Path;
  TempDir() {
    SmallString<128> P;
    EXPECT_FALSE(sys::fs::createUniqueDirectory("hotpatch-dev-test", P));
    SmallString<256> Real;
    sys::fs::real_path(P, Real);
    Path = std::string(Real);
  }
  ~TempDir() { sys::fs::remove_directories(Path); }
  std::string file(const std::string &Name, const std::string &Text) const {
    std::string F = Path + "/" + Name;
    sys::fs::create_directories(sys::path::parent_path(F));
    std::ofstream(F) << Text;
    return F;
  }
};

std::vector<std::string> sorted(std::vector<std::string> V) {
  std::sort(V.begin(), V.end());
  return V;
}

std::vector<std::string> sources(const std::vector<CompileCommand *> &Cmds) {
  std::vector<std::string> S;
  for (const CompileCommand *C : Cmds)
    S.push_back(sys::path::filename(C->Source).str());
  return sorted(S);
}

/// Two commands: a.cpp reads common.h and a.h, b.cpp reads common.h.
struct Graph : ::testing::Test {
  TempDir D;
  BuildGraph G;
  void SetUp() override {
    D.file("a.cpp", ""), D.file("b.cpp", ""), D.file("a.h", ""), D.file("common.h", "");
    D.file("new.h", "");
    D.file("compile_commands.json",
           "[{\"directory\": \"" + D.Path + "\", \"file\": \"a.cpp\", \"command\": "
           "\"clang++ -c a.cpp -o a.o -MD -MF a.d\"},"
           " {\"directory\": \"" + D.Path + "\", \"file\": \"b.cpp\", \"command\": "
           "\"clang++ -c b.cpp -o b.o -MD -MF b.d\"}]");
    D.file("a.d", "a.o: a.cpp common.h \\\n a.h /usr/include/stdio.h\n");
    D.file("b.d", "b.o: b.cpp common.h\n");
    ASSERT_TRUE(G.load(D.Path));
  }
};

TEST(Depfile, ReadsTheFirstRuleOnly) {
  // -MP adds a rule per header ("a.h:"): they name no input of the object.
  TempDir D;
  std::string F = D.file("x.d", "x.o: x.cpp my\\ dir/a.h \\\n b.h\n\na.h:\n\nb.h:\n");
  std::vector<std::string> Deps = readDepfile(F, D.Path);
  ASSERT_EQ(Deps.size(), 3u);
  EXPECT_EQ(Deps[0], D.Path + "/x.cpp");
  EXPECT_EQ(Deps[1], D.Path + "/my dir/a.h");
  EXPECT_EQ(Deps[2], D.Path + "/b.h");
}

TEST_F(Graph, ReadsEveryDepfileOnceAndMapsFilesToCommands) {
  EXPECT_EQ(sources(G.affectedBy({D.Path + "/common.h"})),
            (std::vector<std::string>{"a.cpp", "b.cpp"}));
  EXPECT_EQ(sources(G.affectedBy({D.Path + "/a.h"})), (std::vector<std::string>{"a.cpp"}));
  EXPECT_TRUE(G.affectedBy({"/usr/include/stdio.h"}).empty()); // system headers: not edited
  std::vector<std::string> Expected = {D.Path + "/a.cpp", D.Path + "/a.h", D.Path + "/b.cpp",
                                       D.Path + "/common.h"};
  EXPECT_EQ(sorted(G.takeNewFiles()), Expected);
  EXPECT_TRUE(G.takeNewFiles().empty());
}

TEST_F(Graph, ACompileUpdatesOnlyItsOwnCommand) {
  G.takeNewFiles();
  CompileCommand &A = *G.affectedBy({D.Path + "/a.cpp"}).front();
  // The edit dropped a.h and included new.h.
  G.update(A, {D.Path + "/a.cpp", D.Path + "/common.h", D.Path + "/new.h",
               "/usr/include/string.h"});
  EXPECT_EQ(G.takeNewFiles(), (std::vector<std::string>{D.Path + "/new.h"}));
  EXPECT_EQ(sources(G.affectedBy({D.Path + "/new.h"})), (std::vector<std::string>{"a.cpp"}));
  EXPECT_TRUE(G.affectedBy({D.Path + "/a.h"}).empty());
  EXPECT_EQ(sources(G.affectedBy({D.Path + "/common.h"})),
            (std::vector<std::string>{"a.cpp", "b.cpp"}));
  // b.cpp's depfile is not read again: its entry is what load() read.
  D.file("b.d", "b.o: b.cpp common.h new.h\n");
  EXPECT_EQ(sources(G.affectedBy({D.Path + "/new.h"})), (std::vector<std::string>{"a.cpp"}));
}

TEST_F(Graph, ACompileThatSaysNothingKeepsWhatWasKnown) {
  CompileCommand &B = *G.affectedBy({D.Path + "/b.cpp"}).front();
  G.update(B, {});
  EXPECT_EQ(sources(G.affectedBy({D.Path + "/common.h"})),
            (std::vector<std::string>{"a.cpp", "b.cpp"}));
}

// --- Ninja -------------------------------------------------------------------

std::string ninja() {
  auto N = sys::findProgramByName("ninja");
  return N ? *N : "";
}

/// Runs ninja in Dir with Args; its output.
std::string runNinja(const std::string &Dir, std::vector<std::string> Args) {
  std::string N = ninja();
  SmallString<128> Out;
  sys::fs::createTemporaryFile("ninja-out", "txt", Out);
  std::vector<StringRef> Argv = {N, "-C", Dir};
  for (const std::string &A : Args)
    Argv.push_back(A);
  std::optional<StringRef> Redirects[] = {std::nullopt, StringRef(Out), StringRef(Out)};
  sys::ExecuteAndWait(N, Argv, std::nullopt, Redirects);
  std::ifstream In(Out.c_str());
  std::stringstream S;
  S << In.rdbuf();
  sys::fs::remove(Out);
  return S.str();
}

/// A build like CMake's: a "compile" with deps = gcc, its depfile naming a
/// header by absolute path.
struct Ninja : ::testing::Test {
  TempDir D;
  std::string Obj, Src, Hdr;
  void SetUp() override {
    if (ninja().empty())
      GTEST_SKIP() << "no ninja";
    Src = D.file("src/x.c", "v1\n");
    Hdr = D.file("src/x.h", "h1\n");
    Obj = D.Path + "/build/x.o";
    writeBuild("cat");
    std::string Out = runNinja(D.Path + "/build", {});
    ASSERT_NE(Out.find("COMPILE"), std::string::npos) << Out;
    ASSERT_NE(runNinja(D.Path + "/build", {"-n"}).find("no work to do"), std::string::npos);
  }
  void writeBuild(const std::string &Tool) {
    D.file("build/build.ninja",
           "rule cc\n  command = " + Tool + " " + Src + " " + Hdr + " > $out && printf '%s: " +
               Src + " " + Hdr + "\\n' $out > $out.d\n  deps = gcc\n  depfile = $out.d\n"
               "  description = COMPILE $out\nbuild x.o: cc " + Src + "\n");
  }
  /// What hotpatch dev does on a save: the source changes, then the object
  /// is written by the same command, outside Ninja.
  void saveAndCompile(const std::string &Text) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    D.file("src/x.c", Text);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    D.file("build/x.o", Text + "h1\n");
  }
  bool upToDate() {
    return runNinja(D.Path + "/build", {"-n"}).find("no work to do") != std::string::npos;
  }
};

TEST_F(Ninja, AnObjectWrittenOutsideNinjaIsRebuiltWithoutARecord) {
  saveAndCompile("v2\n");
  EXPECT_FALSE(upToDate());
}

TEST_F(Ninja, RecordedObjectIsUpToDateAndALaterEditStillBuilds) {
  saveAndCompile("v2\n");
  EXPECT_EQ(recordCompile(D.Path + "/build", Obj, {Src, Hdr}), "");
  EXPECT_TRUE(upToDate()) << runNinja(D.Path + "/build", {"-n", "-d", "explain"});
  // Ninja reads its logs back: the deps are the ones recorded.
  std::string Deps = runNinja(D.Path + "/build", {"-t", "deps"});
  EXPECT_NE(Deps.find(Hdr), std::string::npos) << Deps;
  // Twice in a row (a second save) is fine too.
  saveAndCompile("v3\n");
  EXPECT_EQ(recordCompile(D.Path + "/build", Obj, {Src, Hdr}), "");
  EXPECT_TRUE(upToDate());
  // A header saved after the compile.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  D.file("src/x.h", "h2\n");
  EXPECT_FALSE(upToDate());
}

TEST_F(Ninja, RefusesWhenAnInputIsNewerThanTheObject) {
  saveAndCompile("v2\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  D.file("src/x.c", "v3\n");
  EXPECT_NE(recordCompile(D.Path + "/build", Obj, {Src, Hdr}), "");
  EXPECT_FALSE(upToDate());
}

TEST_F(Ninja, AChangedCommandStillBuilds) {
  saveAndCompile("v2\n");
  writeBuild("cat -u"); // build.ninja regenerated with another command
  EXPECT_EQ(recordCompile(D.Path + "/build", Obj, {Src, Hdr}), "");
  EXPECT_FALSE(upToDate());
}

TEST_F(Ninja, RefusesAnUnknownDepsLogVersion) {
  saveAndCompile("v2\n");
  std::string Deps = D.Path + "/build/.ninja_deps";
  {
    std::fstream F(Deps, std::ios::in | std::ios::out | std::ios::binary);
    F.seekp(12);
    uint32_t V = 5;
    F.write(reinterpret_cast<char *>(&V), 4);
  }
  EXPECT_NE(recordCompile(D.Path + "/build", Obj, {Src, Hdr}).find("version"),
            std::string::npos);
}

} // namespace
