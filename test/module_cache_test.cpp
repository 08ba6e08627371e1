// Tests of the HotpatchModuleCache: the format round-trips, and the section
// hashes have the properties thin links rely on. Objects are compiled with
// the real clang 19 and linked with the real thinlink.
#include "CacheBuilder.h"
#include "LinkDriver.h"
#include "ModuleCache.h"
#include "TempDir.h"
#include "PatchLinker.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace hotpatch;
using namespace llvm;

namespace {

/// A directory of this test's own.
struct TempDir : hotpatch_test::TempDir {
  TempDir() : hotpatch_test::TempDir("hotpatch-cache-test") {}
};

int run(std::vector<std::string> Argv) {
  std::vector<StringRef> Args(Argv.begin(), Argv.end());
  std::string Msg;
  int RC = sys::ExecuteAndWait(Argv[0], Args, std::nullopt, {}, 0, 0, &Msg);
  if (RC != 0)
    ADD_FAILURE() << "command failed (" << RC << "): " << Argv[0] << " ... "
                  << Argv.back() << " " << Msg;
  return RC;
}

std::string compile(const TempDir &D, StringRef Name, StringRef Source,
                    std::vector<std::string> Extra = {}) {
  std::string Src = D.write(Name, Source);
  std::string Obj = Src + ".o";
  std::vector<std::string> Argv = {HOTPATCH_TEST_CLANG, "-c", Src, "-o", Obj};
  if (!Name.ends_with(".s"))
    Argv.insert(Argv.end(), {"-O2", "-ffunction-sections", "-fdata-sections"});
  Argv.insert(Argv.end(), Extra.begin(), Extra.end());
  run(Argv);
  return Obj;
}

/// Section name -> hash for one object.
std::map<std::string, uint64_t> hashes(const std::string &Obj) {
  auto Buf = MemoryBuffer::getFile(Obj);
  EXPECT_TRUE(bool(Buf)) << Obj;
  if (!Buf)
    return {};
  auto In = hashObject((*Buf)->getMemBufferRef(), Obj, "");
  EXPECT_TRUE(bool(In)) << toString(In.takeError());
  std::map<std::string, uint64_t> M;
  for (const InputSection &S : In->Sections)
    M[S.Name] = S.Hash;
  return M;
}

std::set<std::string> differing(const std::map<std::string, uint64_t> &A,
                                const std::map<std::string, uint64_t> &B) {
  std::set<std::string> D;
  for (const auto &[Name, Hash] : A) {
    auto It = B.find(Name);
    if (It == B.end() || It->second != Hash)
      D.insert(Name);
  }
  for (const auto &[Name, Hash] : B)
    if (!A.count(Name))
      D.insert(Name);
  return D;
}

/// Sections that hold code or data, as opposed to .eh_frame, whose FDEs
/// record every function's size and are handled per function by thin links.
std::set<std::string> codeAndData(std::set<std::string> S) {
  S.erase(".eh_frame");
  return S;
}

TEST(ModuleCacheFormat, RoundTripsEveryField) {
  TempDir D;
  ModuleCache C;
  C.Output = "/work/app";
  C.Image.Kind = ImageKind::SharedLibrary;
  C.Image.BuildId = {1, 2, 3, 0xff};
  C.Image.Entry = 0x1234;
  C.Image.Begin = 0x1000;
  C.Image.End = 0x9000;
  C.Image.PatchWindowNear = 7;
  C.Image.PatchWindowFar = 9;
  C.Image.Segments = {{1, 5, 0x1000, 0x200, 0x40, 0x100, 0x1000}};
  C.Image.Sections = {{".tbss", 8, 0x403, 0x2000, 8, 8}};
  C.Image.HasTls = true;
  C.Image.Tls = {7, 4, 0x2000, 8, 0x2000, 4, 8};
  C.Files = {"a.c", "b.c"};
  C.Symbols = {{"counter", 0, ".bss", 0x3000, 4, SymbolKind::Object,
                SymbolBinding::Local, 0},
               {"counter", 1, ".bss", 0x3004, 4, SymbolKind::Object,
                SymbolBinding::Local, 0},
               {"main", Symbol::NoFile, ".text", 0x1100, 10, SymbolKind::Func,
                SymbolBinding::Global, 2}};
  InputFile In;
  In.Path = "/work/lib.a";
  In.Member = "x.o";
  In.ContentHash = 42;
  In.Size = 100;
  In.Sections = {{".text.f", 3, 1, 6, 16, "f", 0xabcdef}};
  C.Inputs = {In};
  C.Slots = {{"f", Symbol::NoFile, 0x5000, 0x1200, 0x1300, false, true}};
  C.Comdats = {{"f", 7}};
  C.Layouts = {{"struct P", "T struct P size=8 align=4\nF x offset=0 type=int\nE\n"}};
  C.WorkingDirectory = "/work";
  C.LinkArgs = {"-pie", "-o", "app"};

  std::string P = D.file("c.hpcache");
  ASSERT_FALSE(bool(writeModuleCache(C, P)));
  auto R = readModuleCache(P);
  ASSERT_TRUE(bool(R)) << toString(R.takeError());
  EXPECT_EQ(R->Output, C.Output);
  EXPECT_EQ(R->Image.Kind, C.Image.Kind);
  EXPECT_EQ(R->Image.BuildId, C.Image.BuildId);
  EXPECT_EQ(R->Image.Entry, 0x1234u);
  EXPECT_EQ(R->Image.Begin, 0x1000u);
  EXPECT_EQ(R->Image.End, 0x9000u);
  EXPECT_EQ(R->Image.PatchWindowNear, 7u);
  EXPECT_EQ(R->Image.PatchWindowFar, 9u);
  ASSERT_EQ(R->Image.Segments.size(), 1u);
  EXPECT_EQ(R->Image.Segments[0].Offset, 0x40u);
  EXPECT_EQ(R->Image.Segments[0].FileSize, 0x100u);
  ASSERT_EQ(R->Image.Sections.size(), 1u);
  EXPECT_EQ(R->Image.Sections[0].Name, ".tbss");
  EXPECT_EQ(R->Image.Sections[0].Flags, 0x403u);
  EXPECT_EQ(R->Image.Sections[0].Align, 8u);
  EXPECT_TRUE(R->Image.HasTls);
  EXPECT_EQ(R->Image.Tls.Align, 8u);
  EXPECT_EQ(R->Files, C.Files);
  ASSERT_EQ(R->Symbols.size(), 3u);
  EXPECT_EQ(R->Symbols[1].Name, "counter");
  EXPECT_EQ(R->Symbols[1].File, 1u);
  EXPECT_EQ(R->Symbols[1].Address, 0x3004u);
  EXPECT_EQ(R->Symbols[2].File, Symbol::NoFile);
  EXPECT_EQ(R->Symbols[2].Binding, SymbolBinding::Global);
  EXPECT_EQ(R->Symbols[2].Visibility, 2);
  ASSERT_EQ(R->Inputs.size(), 1u);
  EXPECT_EQ(R->Inputs[0].Member, "x.o");
  EXPECT_EQ(R->Inputs[0].ContentHash, 42u);
  ASSERT_EQ(R->Inputs[0].Sections.size(), 1u);
  EXPECT_EQ(R->Inputs[0].Sections[0].Group, "f");
  EXPECT_EQ(R->Inputs[0].Sections[0].Hash, 0xabcdefu);
  ASSERT_EQ(R->Slots.size(), 1u);
  EXPECT_EQ(R->Slots[0].Name, "f");
  EXPECT_EQ(R->Slots[0].File, Symbol::NoFile);
  EXPECT_EQ(R->Slots[0].SlotAddress, 0x5000u);
  EXPECT_EQ(R->Slots[0].BodyAddress, 0x1200u);
  EXPECT_TRUE(R->Slots[0].UnpatchedCopy);
  EXPECT_FALSE(R->Slots[0].Local);
  EXPECT_EQ(R->Slots[0].SymbolAddress, 0x1300u);
  ASSERT_EQ(R->Comdats.size(), 1u);
  EXPECT_EQ(R->Comdats[0].Signature, "f");
  EXPECT_EQ(R->Comdats[0].Input, 7u);
  EXPECT_EQ(R->Layouts, C.Layouts);
  EXPECT_EQ(R->Inputs[0].Path, "/work/lib.a");
  EXPECT_EQ(R->Inputs[0].Size, 100u);
  EXPECT_EQ(R->Inputs[0].Sections[0].Name, ".text.f");
  EXPECT_EQ(R->Inputs[0].Sections[0].Index, 3u);
  EXPECT_EQ(R->Inputs[0].Sections[0].Flags, 6u);
  EXPECT_EQ(R->Inputs[0].Sections[0].Size, 16u);
  EXPECT_EQ(R->Symbols[0].Section, ".bss");
  EXPECT_EQ(R->Symbols[0].Size, 4u);
  EXPECT_EQ(R->Symbols[0].Kind, SymbolKind::Object);
  EXPECT_EQ(R->Image.Segments[0].VAddr, 0x1000u);
  EXPECT_EQ(R->Image.Segments[0].Flags, 5u);
  EXPECT_EQ(R->Image.Sections[0].Address, 0x2000u);
  EXPECT_EQ(R->WorkingDirectory, "/work");
  EXPECT_EQ(R->LinkArgs, C.LinkArgs);
  // Written through a temporary: nothing else is left in the directory.
  std::error_code EC;
  int Files = 0;
  for (sys::fs::directory_iterator It(D.Path, EC), End; It != End && !EC;
       It.increment(EC))
    ++Files;
  EXPECT_EQ(Files, 1);
}

TEST(ModuleCacheFormat, ReportsEachKindOfBadFile) {
  TempDir D;
  auto Message = [](Expected<ModuleCache> R) {
    EXPECT_FALSE(bool(R));
    return R ? std::string() : toString(R.takeError());
  };
  EXPECT_NE(Message(readModuleCache(D.file("missing.hpcache"))).find("cannot be read"),
            std::string::npos);
  EXPECT_NE(Message(readModuleCache(D.write("text", "hello, world, not a cache")))
                .find("bad magic"),
            std::string::npos);

  ModuleCache C;
  C.Output = "x";
  C.LinkArgs.assign(200, "some-argument");
  std::string Good = D.file("good.hpcache");
  ASSERT_FALSE(bool(writeModuleCache(C, Good)));
  std::string Bytes;
  {
    std::ifstream F(Good, std::ios::binary);
    Bytes.assign(std::istreambuf_iterator<char>(F), {});
  }
  std::string Truncated = D.write("trunc.hpcache", Bytes.substr(0, Bytes.size() - 5));
  std::string Msg = Message(readModuleCache(Truncated));
  EXPECT_NE(Msg.find("truncated"), std::string::npos) << Msg;
  EXPECT_NE(Msg.find("relink the program with thinlink"), std::string::npos) << Msg;

  std::string Flipped = Bytes;
  Flipped[Flipped.size() - 8] ^= 0x5a;
  Msg = Message(readModuleCache(D.write("flip.hpcache", Flipped)));
  EXPECT_NE(Msg.find("corrupted"), std::string::npos) << Msg;

  std::string Versioned = Bytes;
  Versioned[8] = 99;
  Msg = Message(readModuleCache(D.write("v99.hpcache", Versioned)));
  EXPECT_NE(Msg.find("format version 99, this thinlink reads version 4"),
            std::string::npos)
      << Msg;
}

constexpr const char *TwoFunctions = R"(
const char *greet(void) { return "hello"; }
const char *part(void) { return "world"; }
int add(int a, int b) { return a + b; }
int table[4] = {1, 2, 3, 4};
)";

TEST(SectionHash, SameSourceCompiledTwiceHashesTheSame) {
  TempDir D;
  std::string A = compile(D, "a.c", TwoFunctions);
  std::string B = compile(D, "b.c", TwoFunctions);
  auto HA = hashes(A), HB = hashes(B);
  EXPECT_GE(HA.size(), 5u);
  EXPECT_EQ(differing(HA, HB), std::set<std::string>{});
}

TEST(SectionHash, ChangingOneFunctionChangesOnlyItsSection) {
  TempDir D;
  std::string A = compile(D, "a.c", TwoFunctions);
  std::string Edited = TwoFunctions;
  Edited.replace(Edited.find("a + b"), 5, "a - b");
  std::string B = compile(D, "b.c", Edited);
  EXPECT_EQ(codeAndData(differing(hashes(A), hashes(B))),
            std::set<std::string>{".text.add"});
}

TEST(SectionHash, ChangingDataChangesOnlyItsSection) {
  TempDir D;
  std::string A = compile(D, "a.c", TwoFunctions);
  std::string Edited = TwoFunctions;
  Edited.replace(Edited.find("3, 4"), 4, "3, 5");
  std::string B = compile(D, "b.c", Edited);
  EXPECT_EQ(codeAndData(differing(hashes(A), hashes(B))),
            std::set<std::string>{".data.table"});
}

TEST(SectionHash, RenumberedStringLiteralsDoNotChangeOtherFunctions) {
  TempDir D;
  std::string A = compile(D, "a.c", TwoFunctions);
  // A new function with a new literal, first in the file: every .L.str
  // label after it is renumbered and the string section's layout shifts.
  std::string B = compile(
      D, "b.c", std::string("const char *first(void) { return \"brand new\"; }\n") +
                    TwoFunctions);
  std::set<std::string> Diff = codeAndData(differing(hashes(A), hashes(B)));
  EXPECT_EQ(Diff.count(".text.greet"), 0u);
  EXPECT_EQ(Diff.count(".text.part"), 0u);
  EXPECT_EQ(Diff.count(".text.add"), 0u);
  EXPECT_EQ(Diff.count(".text.first"), 1u);
}

TEST(SectionHash, ChangingALiteralChangesTheFunctionUsingIt) {
  TempDir D;
  std::string A = compile(D, "a.c", TwoFunctions);
  std::string Edited = TwoFunctions;
  Edited.replace(Edited.find("hello"), 5, "howdy");
  std::string B = compile(D, "b.c", Edited);
  std::set<std::string> Diff = codeAndData(differing(hashes(A), hashes(B)));
  EXPECT_EQ(Diff.count(".text.greet"), 1u);
  EXPECT_EQ(Diff.count(".text.part"), 0u);
}

// The literal is not the object's first string and keeps its length: only
// its content tells the versions apart.
TEST(SectionHash, SameLengthChangeOfALaterLiteralChangesItsFunction) {
  TempDir D;
  std::string A = compile(D, "a.c", TwoFunctions);
  std::string Edited = TwoFunctions;
  Edited.replace(Edited.find("world"), 5, "earth");
  std::string B = compile(D, "b.c", Edited);
  std::set<std::string> Diff = codeAndData(differing(hashes(A), hashes(B)));
  EXPECT_EQ(Diff.count(".text.part"), 1u);
  EXPECT_EQ(Diff.count(".text.greet"), 0u);
}

constexpr const char *SwitchOfStrings = R"(
const char *color(int i) {
  switch (i) {
  case 0: return "red";
  case 1: return "green";
  case 2: return "blue";
  case 3: return "cyan";
  default: return "none";
  }
}
int add(int a, int b) { return a + b; }
)";

// At -O2 the switch becomes a lookup table in a section of its own that
// points into the literals; a same-length change of one string leaves the
// function's bytes, the table's bytes and every relocation offset as they
// were. The function must still be seen as changed: it is what the user
// edited, and the table travels with it.
TEST(SectionHash, SameLengthChangeOfAStringInASwitchTableChangesItsFunction) {
  TempDir D;
  std::string A = compile(D, "a.c", SwitchOfStrings);
  auto HA = hashes(A);
  ASSERT_EQ(HA.count(".rodata..Lswitch.table.color.rel"), 1u)
      << "expected a relative lookup table for the switch";
  for (const char *From : {"green", "red", "cyan"}) {
    std::string Edited = SwitchOfStrings;
    std::string To = From;
    for (char &C : To)
      C = std::toupper(C);
    Edited.replace(Edited.find(From), To.size(), To);
    std::string B = compile(D, std::string("b-") + From + ".c", Edited);
    std::set<std::string> Diff = codeAndData(differing(HA, hashes(B)));
    EXPECT_EQ(Diff.count(".text.color"), 1u) << From;
    EXPECT_EQ(Diff.count(".text.add"), 0u) << From;
  }
  // Compiled again unchanged, nothing differs.
  std::string Same = compile(D, "same.c", SwitchOfStrings);
  EXPECT_EQ(differing(HA, hashes(Same)), std::set<std::string>{});
  // A new literal first in the file moves every string of the table: the
  // function and its table are unchanged.
  std::string Moved = compile(
      D, "moved.c", std::string("const char *first(void) { return \"brand new\"; }\n") +
                        SwitchOfStrings);
  std::set<std::string> Diff = codeAndData(differing(HA, hashes(Moved)));
  EXPECT_EQ(Diff.count(".text.color"), 0u);
  EXPECT_EQ(Diff.count(".rodata..Lswitch.table.color.rel"), 0u);
}

constexpr const char *Catching = R"(
void may_throw();
int caught() {
  try { may_throw(); } catch (int) { return 1; }
  return 0;
}
int add(int a, int b) { return a + b; }
)";

// A function's exception table (.gcc_except_table.<fn>) belongs to it. Here
// the edit changes only the table (which type is caught): the function's
// code is the same bytes with the same relocations.
TEST(SectionHash, ChangingOnlyAnExceptionTableChangesItsFunction) {
  TempDir D;
  std::string A = compile(D, "a.cpp", Catching);
  std::string Edited = Catching;
  Edited.replace(Edited.find("catch (int)"), 11, "catch (long)");
  std::string B = compile(D, "b.cpp", Edited);
  auto HA = hashes(A), HB = hashes(B);
  ASSERT_EQ(HA.count(".gcc_except_table._Z6caughtv"), 1u);
  std::set<std::string> Diff = codeAndData(differing(HA, HB));
  ASSERT_EQ(Diff.count(".gcc_except_table._Z6caughtv"), 1u);
  EXPECT_EQ(Diff.count(".text._Z6caughtv"), 1u);
  EXPECT_EQ(Diff.count(".text._Z3addii"), 0u);
  std::string Same = compile(D, "same.cpp", Catching);
  EXPECT_EQ(differing(HA, hashes(Same)), std::set<std::string>{});
}

// Anonymous sections that point at each other are hashed without looping,
// the same on every compile, and a change in either changes what refers to
// them.
TEST(SectionHash, AnonymousSectionsThatReferToEachOtherHashStably) {
  TempDir D;
  const char *Source = R"(
  .section .text.start,"ax",@progbits
  .globl start
start:
  leaq .La(%rip), %rax
  ret
  .section .data.rel.ro.a,"aw",@progbits
.La:
  .quad .Lb
  .quad 1
  .section .data.rel.ro.b,"aw",@progbits
.Lb:
  .quad .La
  .quad 2
)";
  std::string A = compile(D, "a.s", Source);
  std::string B = compile(D, "b.s", Source);
  auto HA = hashes(A);
  ASSERT_EQ(HA.count(".data.rel.ro.b"), 1u);
  EXPECT_EQ(differing(HA, hashes(B)), std::set<std::string>{});
  std::string Edited = Source;
  Edited.replace(Edited.find(".quad 2"), 7, ".quad 3");
  std::string C = compile(D, "c.s", Edited);
  EXPECT_EQ(differing(HA, hashes(C)),
            (std::set<std::string>{".text.start", ".data.rel.ro.a", ".data.rel.ro.b"}));
}

TEST(SectionHash, ASectionOffsetIsHashedAsTheSymbolThatStartsThere) {
  // The assembler turns a reference to a local symbol into the section plus
  // an offset. The plugin's thunks of static functions share one section:
  // a function added before another takes its offset, and a table of
  // function pointers whose bytes and relocations are unchanged now points
  // at another function. It must hash differently.
  TempDir D;
  const char *Before = R"(
  .section .text.fns,"ax",@progbits
  .p2align 4
f1: ret
  .p2align 4
f2: ret
  .section .data.rel.ro.tbl,"aw",@progbits
tbl: .quad f2
)";
  const char *After = R"(
  .section .text.fns,"ax",@progbits
  .p2align 4
f1: ret
  .p2align 4
f3: ret
  .p2align 4
f2: ret
  .section .data.rel.ro.tbl,"aw",@progbits
tbl: .quad f3
)";
  std::string A = compile(D, "a.s", Before);
  std::string Same = compile(D, "same.s", Before);
  std::string B = compile(D, "b.s", After);
  EXPECT_EQ(hashes(A).at(".data.rel.ro.tbl"), hashes(Same).at(".data.rel.ro.tbl"));
  EXPECT_NE(hashes(A).at(".data.rel.ro.tbl"), hashes(B).at(".data.rel.ro.tbl"));
}

TEST(ModuleCacheBuild, SameNamedStaticsOfTwoFilesStayApart) {
  TempDir D;
  std::string A = compile(D, "one.c",
                          "static int counter = 1;\n"
                          "int one(void) { return ++counter; }\n");
  std::string B = compile(D, "two.c",
                          "static int counter = 2;\nint one(void);\n"
                          "int main(void) { return one() + ++counter; }\n");
  std::string Out = D.file("app");
  run({HOTPATCH_TEST_CLANG, "-fuse-ld=lld", "--ld-path=" HOTPATCH_TEST_THINLINK,
       A, B, "-o", Out});
  auto C = readModuleCache(cachePathFor(Out));
  ASSERT_TRUE(bool(C)) << toString(C.takeError());
  std::set<std::string> FilesOfCounter;
  std::set<uint64_t> Addresses;
  for (const Symbol &S : C->Symbols)
    if (S.Name == "counter") {
      ASSERT_LT(S.File, C->Files.size());
      FilesOfCounter.insert(C->Files[S.File]);
      Addresses.insert(S.Address);
    }
  EXPECT_EQ(FilesOfCounter, (std::set<std::string>{"one.c", "two.c"}));
  EXPECT_EQ(Addresses.size(), 2u);
  // Both objects are recorded as inputs with their sections.
  int Ours = 0;
  for (const InputFile &In : C->Inputs)
    if (In.Path == A || In.Path == B) {
      ++Ours;
      EXPECT_FALSE(In.Sections.empty());
    }
  EXPECT_EQ(Ours, 2);
  EXPECT_EQ(C->Image.Kind, ImageKind::PieExecutable);
  EXPECT_FALSE(C->Image.BuildId.empty());
}

// The cache is written after thinlink has returned to the build, and a
// compile may then overwrite an input in place (`cp` keeps the inode). The
// cache must still describe what lld linked, or the next thin link compares
// the rebuilt object with itself and finds nothing to patch. Objects of
// 16 KiB or more are the ones a file mapping would have shown rewritten.
TEST(ModuleCacheBuild, AnInputOverwrittenInPlaceAfterTheLinkIsDescribedAsLinked) {
  TempDir D;
  std::string Body = "#include <stdio.h>\n"
                     "const int big[8192] = {1, 2, 3};\n"
                     "int value(void) { return VALUE; }\n"
                     "int main(void) { printf(\"%d %d\\n\", value(), big[1]); }\n";
  auto Build = [&](StringRef Name, StringRef Value) {
    std::string Text = Body;
    Text.replace(Text.find("VALUE"), 5, Value.str());
    return compile(D, Name, Text,
                   {"-fplugin=" HOTPATCH_TEST_PLUGIN, "-fplugin-arg-hotpatch-all",
                    "-I" HOTPATCH_TEST_INCLUDE});
  };
  auto Bytes = [](const std::string &Path) {
    auto B = MemoryBuffer::getFile(Path);
    EXPECT_TRUE(bool(B)) << Path;
    return B ? (*B)->getBuffer().str() : std::string();
  };
  // Both versions from the same path: the objects differ only in the edit.
  std::string NextBytes = Bytes(Build("app.c", "2"));
  std::string Obj = Build("app.c", "1");
  std::string LinkedBytes = Bytes(Obj);
  ASSERT_GE(LinkedBytes.size(), 16u * 1024);
  ASSERT_EQ(LinkedBytes.size(), NextBytes.size());
  ASSERT_NE(LinkedBytes, NextBytes);
  setenv("HOTPATCH_SYNC_CACHE", "1", 1);

  std::string Out = D.file("app");
  ASSERT_EQ(run({HOTPATCH_TEST_CLANG, "-fuse-ld=lld", "--ld-path=" HOTPATCH_TEST_THINLINK,
                 Obj, "-o", Out, "-L" HOTPATCH_TEST_RUNTIME_DIR, "-lhotpatch",
                 "-Wl,-rpath," HOTPATCH_TEST_RUNTIME_DIR}),
            0);
  auto First = readModuleCache(cachePathFor(Out));
  ASSERT_TRUE(bool(First)) << toString(First.takeError());

  // Snapshot the link, as thinlink does before it returns; then the build
  // overwrites the object in place; then the cache is described.
  auto Snap = LinkSnapshot::take(Out, {TracedInput{Obj, ""}}, D.Path);
  ASSERT_TRUE(bool(Snap)) << toString(Snap.takeError());
  {
    std::ofstream F(Obj, std::ios::binary | std::ios::trunc);
    F << NextBytes;
  }
  auto C = (*Snap)->describe(First->LinkArgs, D.Path);
  ASSERT_TRUE(bool(C)) << toString(C.takeError());
  ASSERT_EQ(C->Inputs.size(), 1u);
  EXPECT_EQ(C->Inputs[0].ContentHash, xxh3_64bits(arrayRefFromStringRef(LinkedBytes)));
  ASSERT_FALSE(bool(writeModuleCache(*C, cachePathFor(Out))));

  // A thin link of the object now on disk sees the edit.
  PatchOptions P;
  P.Base = Out;
  P.Output = D.file("p1.hpp");
  P.Objects = {Obj};
  std::string OutText, ErrText;
  raw_string_ostream OS(OutText), ES(ErrText);
  EXPECT_EQ(runPatchLink(P, OS, ES), 0) << ES.str();
  EXPECT_NE(OS.str().find("1 changed"), std::string::npos) << OS.str() << ES.str();
  EXPECT_TRUE(sys::fs::exists(P.Output));
}

// lld keeps global state per link; thinlink must be able to link twice in
// one process (as `hotpatch dev` will) and describe each output correctly.
TEST(ThinlinkDriver, LinksTwiceInOneProcess) {
  TempDir D;
  std::string Obj = compile(D, "start.c",
                            "int value = 3;\nvoid _start(void) { for (;;) ; }\n",
                            {"-fPIE"});
  for (int I = 0; I < 2; ++I) {
    std::string Out = D.file("out" + std::to_string(I));
    std::vector<const char *> Argv = {"thinlink", "-pie", "--no-dynamic-linker",
                                      Obj.c_str(), "-o", Out.c_str()};
    std::string OutText, ErrText;
    raw_string_ostream OS(OutText), ES(ErrText);
    EXPECT_EQ(fatLinkMain(Argv, OS, ES), 0) << ES.str();
    EXPECT_EQ(OS.str(), "");
    auto C = readModuleCache(cachePathFor(Out));
    ASSERT_TRUE(bool(C)) << toString(C.takeError());
    EXPECT_EQ(C->Inputs.size(), 1u);
    bool Found = false;
    for (const Symbol &S : C->Symbols)
      Found |= S.Name == "value";
    EXPECT_TRUE(Found);
    EXPECT_FALSE(C->Image.BuildId.empty()) << "thinlink adds --build-id";
  }
}


// The cache's background writer (cache/CacheWriter.cpp): readers wait while
// it holds the lock, and a writer that ended without finishing is reported.
std::string writerTestPath(const char *Name) {
  SmallString<128> Dir;
  EXPECT_FALSE(sys::fs::createUniqueDirectory("hotpatch-writer", Dir));
  return (Dir + "/" + Name).str();
}

TEST(CacheWriter, ReadersWaitForTheWriter) {
  std::string Path = writerTestPath("app.hpcache");
  int Ready[2];
  ASSERT_EQ(pipe(Ready), 0);
  pid_t Pid = fork();
  ASSERT_GE(Pid, 0);
  if (Pid == 0) { // the writer: finishes the cache 300 ms after taking the lock
    Expected<int> Lock = becomeCacheWriter(Path);
    if (!Lock)
      _exit(1);
    (void)!write(Ready[1], "y", 1);
    usleep(300000);
    std::ofstream(Path) << "the cache";
    finishCacheWriter(Path, *Lock);
    _exit(0);
  }
  char C;
  ASSERT_EQ(read(Ready[0], &C, 1), 1);
  ASSERT_TRUE(sys::fs::exists(Path + ".pending"));
  EXPECT_FALSE(sys::fs::exists(Path)); // not yet written
  EXPECT_FALSE(errorToBool(waitForCacheWriter(Path)));
  EXPECT_TRUE(sys::fs::exists(Path)); // the reader waited for it
  EXPECT_FALSE(sys::fs::exists(Path + ".pending"));
  int Status;
  waitpid(Pid, &Status, 0);
  close(Ready[0]);
  close(Ready[1]);
}

TEST(CacheWriter, AWriterThatDiedIsReported) {
  std::string Path = writerTestPath("app.hpcache");
  pid_t Pid = fork();
  ASSERT_GE(Pid, 0);
  if (Pid == 0) { // takes the lock and marks the cache, then ends
    Expected<int> Lock = becomeCacheWriter(Path);
    _exit(Lock ? 0 : 1);
  }
  int Status;
  waitpid(Pid, &Status, 0);
  ASSERT_TRUE(WIFEXITED(Status) && WEXITSTATUS(Status) == 0);
  Error E = waitForCacheWriter(Path);
  ASSERT_TRUE(bool(E));
  EXPECT_NE(toString(std::move(E)).find("was never finished (thinlink's background writer died)"),
            std::string::npos);
}

} // namespace
