//===- LinkDriver.h - thinlink's command line ------------------------------===//
//
// thinlink is a drop-in ld.lld: `clang -fuse-ld=lld --ld-path=thinlink`.
// A normal ("fat") link runs lld in-process with the user's arguments, plus
// what patching needs (a build-id when none was asked for, --trace to learn
// the inputs lld actually used), then writes the HotpatchModuleCache beside
// the output.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_FATLINK_LINKDRIVER_H
#define HOTPATCH_FATLINK_LINKDRIVER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

namespace hotpatch {

/// Whether fat links finish the module cache in a background process once
/// the output is written (the thinlink command does; a library caller, which
/// may have threads of its own, does not by default).
void setBackgroundCache(bool On);

/// Runs a fat link (or --dump-cache) with `Args`, response files already
/// expanded (Args[0] is the program name). Returns the exit code: lld's for
/// links, 1 for refused options and cache failures.
int fatLinkMain(llvm::ArrayRef<const char *> Args, llvm::raw_ostream &Out,
                llvm::raw_ostream &Err);

} // namespace hotpatch

#endif
