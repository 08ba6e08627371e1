//===- LldRunner.cpp - lld's ELF driver, in process -----------------------===//
#include "LldRunner.h"

#include "lld/Common/Driver.h"

LLD_HAS_DRIVER(elf)
LLD_HAS_DRIVER(wasm)

using namespace llvm;

namespace hotpatch {

std::mutex &lldMutex() {
  static std::mutex M;
  return M;
}

static bool CannotRunAgain = false;

static int runDriver(ArrayRef<const char *> Args, raw_ostream &Out,
                     raw_ostream &Err, lld::DriverDef Driver) {
  std::lock_guard<std::mutex> Lock(lldMutex());
  if (CannotRunAgain) {
    Err << "error: an earlier link left lld unable to link again in this process; "
           "restart it (hotpatch dev: stop and start it again)\n";
    return 1;
  }
  lld::Result R = lld::lldMain(Args, Out, Err, {Driver});
  CannotRunAgain = !R.canRunAgain;
  return R.retCode;
}

bool lldCanRunAgain() {
  std::lock_guard<std::mutex> Lock(lldMutex());
  return !CannotRunAgain;
}

int runLld(ArrayRef<const char *> Args, raw_ostream &Out, raw_ostream &Err) {
  return runDriver(Args, Out, Err, {lld::Gnu, &lld::elf::link});
}

int runWasmLld(ArrayRef<const char *> Args, raw_ostream &Out, raw_ostream &Err) {
  // lldMain picks the flavor from argv[0] (or -flavor): name it wasm-ld
  // whatever the command was called.
  SmallVector<const char *, 64> Argv(Args.begin(), Args.end());
  if (Argv.empty())
    Argv.push_back("wasm-ld");
  else
    Argv[0] = "wasm-ld";
  return runDriver(Argv, Out, Err, {lld::Wasm, &lld::wasm::link});
}

} // namespace hotpatch
