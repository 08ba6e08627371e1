//===- thinlink.cpp - the thinlink command ---------------------------------===//
//
// A thin main over the linker library (LinkDriver.cpp), which the tests use
// directly.
//
//===----------------------------------------------------------------------===//
#include "LinkDriver.h"
#include "PatchLinker.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <unistd.h>

int main(int argc, char **argv) {
  llvm::InitLLVM X(argc, argv);
  hotpatch::setBackgroundCache(true);
  hotpatch::setPatchLinkFastExit(true);
  int RC = hotpatch::thinlinkMain(llvm::ArrayRef<const char *>(argv, argc),
                                  llvm::outs(), llvm::errs());
  // Every file is written and closed: leave without tearing down lld's and
  // the cache's memory, as ld.lld does.
  llvm::outs().flush();
  llvm::errs().flush();
  _exit(RC);
}
