// Record layouts (cache/RecordLayouts.cpp): the plugin's records split by
// type, and a change told in the words the refusal uses; lld's --trace
// lines read as inputs (cache/CacheBuilder.cpp).
#include "CacheBuilder.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <fstream>

using namespace hotpatch;
using namespace llvm;

namespace {

// As the plugin writes them (bit offsets).
const char *Particle = "T struct Particle size=24 align=8\n"
                       "F pos offset=0 type=struct Particle::(anonymous struct #1)\n"
                       "F pos.x offset=0 type=float\n"
                       "F pos.y offset=32 type=float\n"
                       "F mass offset=64 type=double\n"
                       "F age offset=128 type=int\n"
                       "E\n";

TEST(Layouts, RecordsAreSplitByType) {
  std::string Text = std::string(Particle) + "T struct Other size=4 align=4\nF a offset=0 type=int\nE\n";
  auto L = parseLayouts(Text);
  ASSERT_EQ(L.size(), 2u);
  EXPECT_EQ(L["struct Particle"], Particle);
  EXPECT_EQ(L["struct Other"], "T struct Other size=4 align=4\nF a offset=0 type=int\nE\n");
  EXPECT_TRUE(parseLayouts("").empty());
  EXPECT_TRUE(parseLayouts("T struct Unterminated size=4 align=4\nF a offset=0 type=int\n").empty());
}

TEST(Layouts, AChangeIsToldFieldByField) {
  std::string Added = "T struct Particle size=32 align=8\n"
                      "F pos offset=0 type=struct Particle::(anonymous struct #1)\n"
                      "F pos.x offset=0 type=float\n"
                      "F pos.y offset=32 type=float\n"
                      "F id offset=64 type=long\n"
                      "F mass offset=128 type=double\n"
                      "F age offset=192 type=int\n"
                      "E\n";
  EXPECT_EQ(describeLayoutChange(Particle, Added),
            "field 'id' added at offset 8; field 'mass' moved from offset 8 to 16; field 'age' "
            "moved from offset 16 to 24; size 24 -> 32 bytes");
  std::string Typed = Particle;
  Typed.replace(Typed.find("type=double"), 11, "type=float");
  EXPECT_EQ(describeLayoutChange(Particle, Typed),
            "field 'mass' changed type from double to float");
  std::string Removed = "T struct Particle size=16 align=8\n"
                        "F pos offset=0 type=struct Particle::(anonymous struct #1)\n"
                        "F pos.x offset=0 type=float\n"
                        "F pos.y offset=32 type=float\n"
                        "F mass offset=64 type=double\n"
                        "E\n";
  EXPECT_EQ(describeLayoutChange(Particle, Removed), "field 'age' removed; size 24 -> 16 bytes");
}

TEST(Layouts, FieldsOfAMovedAnonymousStructAreNotRepeated) {
  std::string Moved = "T struct Particle size=32 align=8\n"
                      "F flags offset=0 type=long\n"
                      "F pos offset=64 type=struct Particle::(anonymous struct #1)\n"
                      "F pos.x offset=64 type=float\n"
                      "F pos.y offset=96 type=float\n"
                      "F mass offset=128 type=double\n"
                      "F age offset=192 type=int\n"
                      "E\n";
  std::string What = describeLayoutChange(Particle, Moved);
  EXPECT_NE(What.find("field 'pos' moved from offset 0 to 8"), std::string::npos) << What;
  EXPECT_EQ(What.find("pos.x"), std::string::npos) << What;
}

TEST(Layouts, BasesAndVirtualTablesAreCompared) {
  std::string Plain = "T struct S size=8 align=8\nF a offset=0 type=long\nE\n";
  std::string Virtual = "T struct S size=16 align=8\nV vptr offset=0\nF a offset=64 type=long\nE\n";
  std::string What = describeLayoutChange(Plain, Virtual);
  EXPECT_NE(What.find("its bases or virtual table pointer changed"), std::string::npos) << What;
  EXPECT_NE(What.find("size 8 -> 16 bytes"), std::string::npos) << What;
  // A change the words do not cover (alignment) is still a change.
  EXPECT_EQ(describeLayoutChange("T struct S size=8 align=8\nE\n", "T struct S size=8 align=4\nE\n"),
            "its layout changed");
  // A bit offset that is not a number is shown as it is, never thrown on.
  EXPECT_NE(describeLayoutChange("T struct S size=8 align=8\nE\n",
                                 "T struct S size=8 align=8\nF a offset=x type=int\nE\n")
                .find("'x' bits"),
            std::string::npos);
}

TEST(TraceLines, FilesAndArchiveMembersAreInputs) {
  SmallString<128> Dir;
  ASSERT_FALSE(sys::fs::createUniqueDirectory("hotpatch-trace", Dir));
  std::string Obj = (Dir + "/a.o").str(), Ar = (Dir + "/libx.a").str();
  std::ofstream(Obj) << "x";
  std::ofstream(Ar) << "x";
  TracedInput In;
  ASSERT_TRUE(parseTraceLine("  " + Obj + "\n", In));
  EXPECT_EQ(In.Path, Obj);
  EXPECT_EQ(In.Member, "");
  ASSERT_TRUE(parseTraceLine(Ar + "(m(1).o)", In));
  EXPECT_EQ(In.Path, Ar);
  EXPECT_EQ(In.Member, "m(1).o");
  EXPECT_FALSE(parseTraceLine("", In));
  EXPECT_FALSE(parseTraceLine("ld.lld: warning: something", In));
  EXPECT_FALSE(parseTraceLine((Dir + "/missing.o").str(), In));
  sys::fs::remove_directories(Dir);
}

} // namespace
