// The chain state (<program>.hpchain): a round trip keeps every field, and
// every kind of malformed file is reported with what is wrong and what to do.
#include "ChainState.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace hotpatch;

namespace {

ChainState sample() {
  ChainState S;
  S.BuildId = "0123abcd";
  S.Count = 7;
  S.Sections["/a/b.o|.text.f|"] = {0xfeedfacecafebeefULL, 0x7ff000001000ULL, 48};
  S.Sections["/a/b.o|.data.g|g"] = {1, 2, 3};
  S.Globals["_Z3newv"] = 0x7ff000002000ULL;
  for (int I = 1; I <= 7; ++I)
    S.Patches.push_back("/build/.hotpatch/patch-" + std::to_string(I) + ".hpp");
  return S;
}

std::string errorOf(llvm::StringRef Text) {
  auto S = ChainState::parse(Text, "prog.hpchain");
  if (S)
    return "";
  return llvm::toString(S.takeError());
}

TEST(ChainState, RoundTripsEveryField) {
  ChainState In = sample();
  auto Out = ChainState::parse(In.serialize(), "prog.hpchain");
  ASSERT_TRUE(bool(Out)) << llvm::toString(Out.takeError());
  EXPECT_EQ(Out->BuildId, In.BuildId);
  EXPECT_EQ(Out->Count, In.Count);
  ASSERT_EQ(Out->Sections.size(), 2u);
  const auto &P = Out->Sections.at("/a/b.o|.text.f|");
  EXPECT_EQ(P.Hash, 0xfeedfacecafebeefULL);
  EXPECT_EQ(P.Address, 0x7ff000001000ULL);
  EXPECT_EQ(P.Size, 48u);
  EXPECT_EQ(Out->Globals.at("_Z3newv"), 0x7ff000002000ULL);
  // The patch files are the journal's, not the chain file's: the chain file
  // does not grow with the chain.
  EXPECT_TRUE(Out->Patches.empty());
  EXPECT_EQ(In.serialize().find("patch-7.hpp"), std::string::npos);
}

TEST(ChainState, JournalListsThePatchesInOrder) {
  EXPECT_EQ(sample().journal(),
            "hotpatch-journal 1 0123abcd\n"
            "1 /build/.hotpatch/patch-1.hpp\n2 /build/.hotpatch/patch-2.hpp\n"
            "3 /build/.hotpatch/patch-3.hpp\n4 /build/.hotpatch/patch-4.hpp\n"
            "5 /build/.hotpatch/patch-5.hpp\n6 /build/.hotpatch/patch-6.hpp\n"
            "7 /build/.hotpatch/patch-7.hpp\n");
}

TEST(ChainState, SavedAndLoadedWithItsJournal) {
  llvm::SmallString<64> Dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("chain-test", Dir));
  std::string Prog = (Dir + "/prog").str();
  ChainState S = sample();
  ASSERT_FALSE(bool(S.save(Prog)));
  auto Back = ChainState::load(Prog, "0123abcd");
  ASSERT_TRUE(bool(Back)) << llvm::toString(Back.takeError());
  EXPECT_EQ(Back->Patches, S.Patches);
  // One patch more: the journal gets one line more (appended), and reads
  // back as the whole list, in a fresh read as in this process's.
  ChainState More = *Back;
  More.Count++;
  More.Patches.push_back("/build/.hotpatch/patch-8.hpp");
  llvm::sys::fs::UniqueID Before, After;
  ASSERT_FALSE(llvm::sys::fs::getUniqueID(ChainState::journalPathFor(Prog), Before));
  ASSERT_FALSE(bool(More.save(Prog)));
  // The same file, one line longer: not a new file renamed over it.
  ASSERT_FALSE(llvm::sys::fs::getUniqueID(ChainState::journalPathFor(Prog), After));
  EXPECT_EQ(Before, After);
  ChainState Eight = sample();
  Eight.Count = 8;
  Eight.Patches.push_back("/build/.hotpatch/patch-8.hpp");
  {
    auto J = llvm::MemoryBuffer::getFile(ChainState::journalPathFor(Prog));
    ASSERT_TRUE(bool(J));
    EXPECT_EQ((*J)->getBuffer(), Eight.journal());
  }
  auto Again = ChainState::load(Prog, "0123abcd");
  ASSERT_TRUE(bool(Again)) << llvm::toString(Again.takeError());
  EXPECT_EQ(Again->Patches, Eight.Patches);
  ASSERT_FALSE(bool(S.save(Prog))); // back to seven: written whole
  ASSERT_FALSE(llvm::sys::fs::getUniqueID(ChainState::journalPathFor(Prog), After));
  EXPECT_NE(Before, After);
  {
    auto J = llvm::MemoryBuffer::getFile(ChainState::journalPathFor(Prog));
    ASSERT_TRUE(bool(J));
    EXPECT_EQ((*J)->getBuffer(), S.journal());
  }
  // A journal that lists one patch fewer than the chain counts, or that
  // belongs to another chain, is named as what is wrong.
  ChainState Short = sample();
  Short.Patches.pop_back();
  std::string J = Short.journal();
  {
    std::error_code EC;
    llvm::raw_fd_ostream(ChainState::journalPathFor(Prog), EC) << J;
  }
  auto E = ChainState::load(Prog, "0123abcd");
  ASSERT_FALSE(bool(E));
  std::string Msg = llvm::toString(E.takeError());
  EXPECT_NE(Msg.find("lists 6 patch files for 7 patches"), std::string::npos) << Msg;
  EXPECT_NE(Msg.find("delete it"), std::string::npos) << Msg;
  {
    std::error_code EC;
    llvm::raw_fd_ostream(ChainState::journalPathFor(Prog), EC)
        << "hotpatch-journal 1 ffff\n1 /p.hpp\n";
  }
  auto Other = ChainState::load(Prog, "0123abcd");
  ASSERT_FALSE(bool(Other));
  Msg = llvm::toString(Other.takeError());
  EXPECT_NE(Msg.find("is not this chain's"), std::string::npos) << Msg;
  llvm::sys::fs::remove(ChainState::journalPathFor(Prog));
  auto Missing = ChainState::load(Prog, "0123abcd");
  ASSERT_FALSE(bool(Missing));
  Msg = llvm::toString(Missing.takeError());
  EXPECT_NE(Msg.find("cannot be read"), std::string::npos) << Msg;
  llvm::sys::fs::remove_directories(Dir);
}

TEST(ChainState, BadHashIsAnErrorNotAnAbort) {
  std::string T = sample().serialize();
  size_t At = T.find("FEEDFACECAFEBEEF");
  ASSERT_NE(At, std::string::npos);
  T.replace(At, 16, "not-a-number!!!!");
  std::string E = errorOf(T);
  EXPECT_NE(E.find("'hash' is not a hexadecimal number"), std::string::npos) << E;
  EXPECT_NE(E.find("delete it"), std::string::npos) << E;
}

TEST(ChainState, EachKindOfBadFileIsNamed) {
  EXPECT_NE(errorOf("{").find("is corrupted"), std::string::npos);
  EXPECT_NE(errorOf("[1,2]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(errorOf("{\"build_id\": \"ab\", \"count\": 1}").find("hotpatch-chain"),
            std::string::npos);
  std::string T = sample().serialize();
  std::string Newer = T;
  Newer.replace(Newer.find("\"version\": 2"), 12, "\"version\": 9");
  EXPECT_NE(errorOf(Newer).find("has version 9, this thinlink reads version 2"),
            std::string::npos)
      << errorOf(Newer);
  std::string NegCount = T;
  NegCount.replace(NegCount.find("\"count\": 7"), 10, "\"count\": -7");
  EXPECT_NE(errorOf(NegCount).find("'count' is not a non-negative integer"), std::string::npos);
  std::string NoAddr = T;
  NoAddr.replace(NoAddr.find("\"address\": 2,"), 13, "\"address\": \"x\",");
  EXPECT_NE(errorOf(NoAddr).find("'address'"), std::string::npos) << errorOf(NoAddr);
  std::string BadGlobal = T;
  BadGlobal.replace(BadGlobal.find("\"_Z3newv\": "), 11, "\"_Z3newv\": null, \"x\": ");
  EXPECT_NE(errorOf(BadGlobal).find("global '_Z3newv' has no address"), std::string::npos)
      << errorOf(BadGlobal);
}

TEST(ChainState, AnotherBuildStartsANewChain) {
  llvm::SmallString<64> Dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("chain-test", Dir));
  std::string Prog = (Dir + "/prog").str();
  ChainState S = sample();
  ASSERT_FALSE(bool(S.save(Prog)));
  auto Same = ChainState::load(Prog, "0123abcd");
  ASSERT_TRUE(bool(Same));
  EXPECT_EQ(Same->Count, 7u);
  auto Other = ChainState::load(Prog, "ffff");
  ASSERT_TRUE(bool(Other));
  EXPECT_EQ(Other->Count, 0u);
  EXPECT_TRUE(Other->Sections.empty());
  auto None = ChainState::load((Dir + "/none").str(), "0123abcd");
  ASSERT_TRUE(bool(None));
  EXPECT_EQ(None->Count, 0u);
  llvm::sys::fs::remove_directories(Dir);
}

} // namespace
