// TempDir.h - a directory of its own for one test, removed with its files.
#ifndef HOTPATCH_TEST_TEMPDIR_H
#define HOTPATCH_TEST_TEMPDIR_H

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace hotpatch_test {

class TempDir {
public:
  explicit TempDir(llvm::StringRef Prefix = "hotpatch-test") {
    llvm::SmallString<128> P;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory(Prefix, P));
    Path = std::string(P);
  }
  ~TempDir() { llvm::sys::fs::remove_directories(Path); }
  std::string file(llvm::StringRef Name) const { return (Path + "/" + Name).str(); }
  std::string write(llvm::StringRef Name, llvm::StringRef Text) const {
    std::string F = file(Name);
    std::ofstream(F, std::ios::binary) << Text.str();
    return F;
  }
  std::string Path;
};

} // namespace hotpatch_test

#endif
