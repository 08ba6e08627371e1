//===- LldRunner.h - lld's ELF driver, in process -------------------------===//
//
// The one place that calls lld: the fat link (LinkDriver) and the patch link
// (PatchScript) both link through runLld; the WebAssembly links (wasmlink/)
// through runWasmLld.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_LLD_LLDRUNNER_H
#define HOTPATCH_LLD_LLDRUNNER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

namespace hotpatch {

/// lld keeps global state per link: every in-process link takes this lock.
std::mutex &lldMutex();

/// Runs lld's ELF driver in-process under lldMutex(); returns its exit code.
/// lld says after each link whether it can run again in this process; once
/// it cannot, every later call fails with a message saying to restart.
int runLld(llvm::ArrayRef<const char *> Args, llvm::raw_ostream &Out,
           llvm::raw_ostream &Err);

/// False once a link said lld cannot run again in this process.
bool lldCanRunAgain();

/// The same for lld's WebAssembly driver (wasm-ld); Args[0] is replaced by
/// "wasm-ld", which is how lld chooses the flavor.
int runWasmLld(llvm::ArrayRef<const char *> Args, llvm::raw_ostream &Out,
               llvm::raw_ostream &Err);

} // namespace hotpatch

#endif
