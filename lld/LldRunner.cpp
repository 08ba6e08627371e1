//===- LldRunner.cpp - lld's ELF driver, in process -----------------------===//
#include "LldRunner.h"

#include "lld/Common/Driver.h"

LLD_HAS_DRIVER(elf)

using namespace llvm;

namespace hotpatch {

std::mutex &lldMutex() {
  static std::mutex M;
  return M;
}

static bool CannotRunAgain = false;

int runLld(ArrayRef<const char *> Args, raw_ostream &Out, raw_ostream &Err) {
  std::lock_guard<std::mutex> Lock(lldMutex());
  if (CannotRunAgain) {
    Err << "error: an earlier link left lld unable to link again in this process; "
           "restart it (hotpatch dev: stop and start it again)\n";
    return 1;
  }
  lld::Result R = lld::lldMain(Args, Out, Err, {{lld::Gnu, &lld::elf::link}});
  CannotRunAgain = !R.canRunAgain;
  return R.retCode;
}

} // namespace hotpatch
