// Tests of the mapped module cache (cache/CacheView.h): the lookups a thin
// link makes answer as a full read of the cache would, a corrupted block is
// caught when it is read, and a process keeps one view per unchanged file.
#include "CacheFormat.h"
#include "CacheView.h"
#include "ModuleCache.h"
#include "TempDir.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace hotpatch;
using namespace llvm;

namespace {

/// A directory of this test's own.
struct TempDir : hotpatch_test::TempDir {
  TempDir() : hotpatch_test::TempDir("hotpatch-view-test") {}
};

Symbol sym(StringRef Name, uint32_t File, uint64_t Address, SymbolBinding B,
           uint8_t Visibility = 0) {
  return {Name.str(), File, ".text", Address, 8, SymbolKind::Func, B, Visibility};
}

/// A program of 300 files, each with a static `helper` and a global
/// `fN`, plus one hidden global made local in file 7: enough records for
/// the tables to span many checksum blocks.
ModuleCache program() {
  ModuleCache C;
  C.Output = "/work/app";
  C.Image.BuildId = {1, 2, 3};
  C.WorkingDirectory = "/work";
  for (uint32_t F = 0; F < 300; ++F) {
    C.Files.push_back("f" + std::to_string(F) + ".cpp");
    C.Symbols.push_back(sym("helper", F, 0x1000 + F * 16, SymbolBinding::Local));
    C.Symbols.push_back(sym("f" + std::to_string(F), Symbol::NoFile, 0x9000 + F * 16,
                            SymbolBinding::Global));
    InputFile In;
    In.Path = "/work/f" + std::to_string(F) + ".o";
    In.ContentHash = F;
    In.Sections = {{".text.f" + std::to_string(F), 3, 1, 6, 16, "", 0x100 + F}};
    C.Inputs.push_back(In);
    C.Slots.push_back({"f" + std::to_string(F), Symbol::NoFile, 0x20000 + F * 8,
                       0x9000 + F * 16, 0x9000 + F * 16, false, false});
  }
  C.Symbols.push_back(sym("shared_hidden", 7, 0x7000, SymbolBinding::Local, 2));
  // An archive member at the path of an object is not that object.
  InputFile Member;
  Member.Path = "/work/f3.o";
  Member.Member = "f3.o";
  C.Inputs.push_back(Member);
  C.Layouts = {{"struct P", "T struct P size=8\nE\n"}, {"struct Q", "T struct Q size=4\nE\n"}};
  return C;
}

std::string bytesOf(StringRef Path) {
  auto B = MemoryBuffer::getFile(Path);
  return B ? (*B)->getBuffer().str() : std::string();
}

void writeBytes(StringRef Path, StringRef Bytes) {
  std::ofstream(Path.str(), std::ios::binary) << Bytes.str();
}

TEST(CacheView, AnswersTheLookupsOfAThinLink) {
  TempDir D;
  std::string P = D.file("app.hpcache");
  ASSERT_FALSE(bool(writeModuleCache(program(), P)));
  auto V = CacheView::open(P);
  ASSERT_TRUE(bool(V)) << toString(V.takeError());
  const CacheView &View = **V;

  EXPECT_EQ(View.output(), "/work/app");
  EXPECT_EQ(View.numSymbols(), 601u);
  // All 300 `helper`s, or only those of the files asked for.
  EXPECT_EQ(View.symbolsNamed("helper").size(), 300u);
  uint32_t Files[] = {42, 299};
  auto Mine = View.symbolsNamed("helper", Files);
  ASSERT_EQ(Mine.size(), 2u);
  EXPECT_EQ(Mine[0].File, 42u);
  EXPECT_EQ(Mine[0].Address, 0x1000u + 42 * 16);
  EXPECT_EQ(Mine[1].File, 299u);
  // A global, from any file; a hidden global made local, from any file.
  auto G = View.symbolsNamed("f123", Files);
  ASSERT_EQ(G.size(), 1u);
  EXPECT_EQ(G[0].Binding, SymbolBinding::Global);
  auto H = View.symbolsNamed("shared_hidden", Files);
  ASSERT_EQ(H.size(), 1u);
  EXPECT_EQ(H[0].File, 7u);
  EXPECT_TRUE(View.symbolsNamed("nowhere", Files).empty());

  auto Named = View.filesNamed("f12.cpp");
  ASSERT_EQ(Named.size(), 1u);
  EXPECT_EQ(Named[0], 12u);
  EXPECT_TRUE(View.hasFile("f299.cpp"));
  EXPECT_FALSE(View.hasFile("f300.cpp"));

  // The object at a path, not the archive member at the same path.
  auto At = View.objectsAt("/work/f3.o");
  ASSERT_EQ(At.size(), 1u);
  InputFile In = View.input(At[0], true);
  EXPECT_EQ(In.Member, "");
  ASSERT_EQ(In.Sections.size(), 1u);
  EXPECT_EQ(In.Sections[0].Hash, 0x103u);
  EXPECT_TRUE(View.input(At[0], false).Sections.empty());
  EXPECT_TRUE(View.objectsAt("/work/other.o").empty());

  auto S = View.slotAt(0x20000 + 77 * 8);
  ASSERT_TRUE(S.has_value());
  EXPECT_EQ(S->Name, "f77");
  EXPECT_FALSE(View.slotAt(0x20001).has_value());

  ASSERT_TRUE(View.layoutOf("struct Q").has_value());
  EXPECT_EQ(*View.layoutOf("struct Q"), "T struct Q size=4\nE\n");
  EXPECT_FALSE(View.layoutOf("struct R").has_value());
  EXPECT_FALSE(View.corrupt());

  // The full read agrees with the lookups.
  ModuleCache Full = View.decode();
  EXPECT_EQ(Full.Symbols.size(), 601u);
  EXPECT_EQ(Full.Inputs.size(), 301u);
  EXPECT_EQ(Full.Slots.size(), 300u);
}

TEST(CacheView, ACorruptedBlockIsCaughtWhenItIsRead) {
  TempDir D;
  std::string Good = D.file("good.hpcache");
  ASSERT_FALSE(bool(writeModuleCache(program(), Good)));
  std::string Bytes = bytesOf(Good);
  ASSERT_GT(Bytes.size(), 4 * cacheformat::BlockSize);
  // The last byte belongs to the strings table, in the last block.
  std::string Bad = D.file("bad.hpcache");
  Bytes[Bytes.size() - 1] ^= 0x20;
  writeBytes(Bad, Bytes);

  auto V = CacheView::open(Bad);
  ASSERT_TRUE(bool(V)) << toString(V.takeError()); // the header is intact
  const CacheView &View = **V;
  // Lookups answered from intact blocks are good; reading the damaged one
  // marks the view corrupted, and the full read refuses.
  (void)View.decode();
  EXPECT_TRUE(View.corrupt());
  std::string Msg = toString(View.corruption());
  EXPECT_NE(Msg.find("is corrupted (checksum mismatch in block "), std::string::npos) << Msg;
  EXPECT_NE(Msg.find("relink the program with thinlink"), std::string::npos) << Msg;
  auto R = readModuleCache(Bad);
  ASSERT_FALSE(bool(R));
  EXPECT_NE(toString(R.takeError()).find("checksum mismatch in block"), std::string::npos);
  // The good file reads whole.
  EXPECT_TRUE(bool(readModuleCache(Good)));
}

TEST(CacheView, AProcessKeepsOneViewPerUnchangedFile) {
  TempDir D;
  std::string P = D.file("app.hpcache");
  ModuleCache C = program();
  ASSERT_FALSE(bool(writeModuleCache(C, P)));
  auto A = openCacheView(P);
  auto B = openCacheView(P);
  ASSERT_TRUE(A && B);
  EXPECT_EQ(A->get(), B->get());
  // The program relinked: a new file at the same path, a new view.
  C.Output = "/work/app2";
  ASSERT_FALSE(bool(writeModuleCache(C, P)));
  auto N = openCacheView(P);
  ASSERT_TRUE(bool(N));
  EXPECT_NE(A->get(), N->get());
  EXPECT_EQ((*N)->output(), "/work/app2");
  // The old view still reads the file it mapped.
  EXPECT_EQ((*A)->output(), "/work/app");
  EXPECT_EQ((*A)->symbolsNamed("f5").size(), 1u);
}

} // namespace
