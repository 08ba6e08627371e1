//===- thinlink.cpp - the thinlink command ---------------------------------===//
//
// A thin main over the linker library (LinkDriver.cpp), which the tests use
// directly.
//
//===----------------------------------------------------------------------===//
#include "LinkDriver.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  llvm::InitLLVM X(argc, argv);
  return hotpatch::thinlinkMain(llvm::ArrayRef<const char *>(argv, argc),
                                llvm::outs(), llvm::errs());
}
