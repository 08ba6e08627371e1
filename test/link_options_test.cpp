// What thinlink reads of a link command (fatlink/LinkOptions.cpp): the
// output in each of lld's spellings, the options it acts on, and which
// arguments are inputs.
#include "LinkOptions.h"

#include <gtest/gtest.h>

#include <vector>

using namespace hotpatch;

namespace {

LinkOptions scan(std::vector<const char *> Args) {
  Args.insert(Args.begin(), "thinlink");
  return scanOptions(Args);
}

TEST(LinkOptions, TheOutputInEverySpelling) {
  EXPECT_EQ(scan({"a.o"}).Output, "a.out");
  EXPECT_EQ(scan({"-o", "app", "a.o"}).Output, "app");
  EXPECT_EQ(scan({"-oapp", "a.o"}).Output, "app");
  EXPECT_EQ(scan({"--output", "app"}).Output, "app");
  EXPECT_EQ(scan({"--output=app"}).Output, "app");
  EXPECT_EQ(scan({"-output=app"}).Output, "app");
  // Options that start with -o but are not the output.
  EXPECT_EQ(scan({"-omagic", "a.o"}).Output, "a.out");
  EXPECT_EQ(scan({"-oformat", "binary", "a.o"}).Output, "a.out");
  EXPECT_EQ(scan({"-o", "first", "-o", "last"}).Output, "last");
}

TEST(LinkOptions, TheOptionsThatDecideHowToLink) {
  EXPECT_TRUE(scan({"--build-id"}).HasBuildId);
  LinkOptions None = scan({"--build-id=none"});
  EXPECT_TRUE(None.HasBuildId);
  EXPECT_TRUE(None.BuildIdNone);
  EXPECT_FALSE(scan({"--build-id=sha1"}).BuildIdNone);
  EXPECT_TRUE(scan({"-s"}).StripAll);
  EXPECT_TRUE(scan({"--strip-all"}).StripAll);
  EXPECT_EQ(scan({"--icf=all"}).Icf, "all");
  EXPECT_EQ(scan({"--icf", "safe"}).Icf, "safe");
  EXPECT_TRUE(scan({"-r"}).Relocatable);
  EXPECT_TRUE(scan({"-shared"}).Shared);
  EXPECT_TRUE(scan({"--shared"}).Shared);
  EXPECT_TRUE(scan({"-pie"}).Pie);
  EXPECT_FALSE(scan({"-pie", "-no-pie"}).Pie); // the last one wins
  EXPECT_TRUE(scan({"-no-pie", "--pic-executable"}).Pie);
  EXPECT_TRUE(scan({"--version"}).InfoOnly);
  EXPECT_TRUE(scan({"-v", "a.o"}).Verbose);
  EXPECT_FALSE(scan({"-v", "a.o"}).InfoOnly);
  EXPECT_TRUE(scan({"-t"}).UserTrace);
  EXPECT_TRUE(scan({"--trace"}).UserTrace);
  EXPECT_EQ(scan({"--dump-cache", "app.hpcache"}).DumpCache, "app.hpcache");
  EXPECT_EQ(scan({"--dump-cache=app.hpcache", "--json"}).DumpCache, "app.hpcache");
  EXPECT_TRUE(scan({"--dump-cache=x", "--json"}).Json);
}

TEST(LinkOptions, ValuesOfOptionsAreNotInputs) {
  // What clang passes around the inputs, without any input.
  EXPECT_FALSE(scan({"-m", "elf_x86_64", "-z", "relro", "-dynamic-linker",
                     "/lib64/ld-linux-x86-64.so.2", "-L", "/usr/lib", "-soname", "libx.so.1",
                     "-o", "app"})
                   .HasInputs);
  EXPECT_FALSE(scan({"--version"}).HasInputs);
  EXPECT_TRUE(scan({"-m", "elf_x86_64", "main.o"}).HasInputs);
  EXPECT_TRUE(scan({"-lm", "-L/usr/lib", "x.a"}).HasInputs);
  // A separate value is consumed only for the option that takes one.
  EXPECT_TRUE(scan({"-pie", "main.o"}).HasInputs);
}

} // namespace
