//===- thinlink_lld.cpp - thinlink's linker ---------------------------------===//
//
// thinlink-lld (libexec/hotpatch/) is what the thinlink command runs
// (thinlink.cpp): a drop-in ld.lld. With --patch it is the thin link
// (patchlink/); otherwise a fat link (fatlink/), which also writes the
// module cache. Response files are expanded first, so that --patch is seen
// wherever the build put it. It is also a drop-in wasm-ld (wasmlink/): a
// link is a WebAssembly one when wasmlink's isWasmLink says so, a patch
// when its --base is a .wasm file.
//
// A thin link that the thinlink command could not hand to a resident thin
// linker starts one when it is done ($HOTPATCH_THINLINK_START_SERVER, set
// by the command); `--serve-thin-links` is that server (ThinlinkServer.h).
//
//===----------------------------------------------------------------------===//
#include "LinkDriver.h"
#include "LldRunner.h"
#include "PatchLinker.h"
#include "ThinlinkServer.h"
#include "WasmLink.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <unistd.h>

using namespace llvm;

namespace {

/// `thinlink --patch --base <program> -o <patch> [--keep-temps] [--phases] <objects>`
int patchMain(ArrayRef<const char *> Args, raw_ostream &Out,
                     raw_ostream &Err) {
  hotpatch::PatchOptions P;
  for (size_t I = 1; I < Args.size(); ++I) {
    StringRef A = Args[I];
    auto Value = [&]() -> std::string {
      return I + 1 < Args.size() ? Args[++I] : "";
    };
    if (A == "--patch")
      continue;
    if (A == "--base")
      P.Base = Value();
    else if (A.consume_front("--base="))
      P.Base = A.str();
    else if (A == "-o")
      P.Output = Value();
    else if (A == "--keep-temps")
      P.KeepTemps = true;
    else if (A == "--phases")
      P.ShowPhases = true;
    else if (A == "--serve-warm-up") // the resident thin linker's, unlisted
      P.WarmUpOnly = true;
    else if (A.starts_with("-")) {
      Err << "thinlink: error: unknown option '" << A
          << "' for --patch; usage: thinlink --patch --base <program> -o "
             "<patch> <rebuilt objects...>\n";
      return 1;
    } else
      P.Objects.push_back(A.str());
  }
  if (P.Base.empty() || P.Output.empty() || P.Objects.empty()) {
    Err << "thinlink: error: usage: thinlink --patch --base <program> -o "
           "<patch> <rebuilt objects...>\n";
    return 1;
  }
  if (P.WarmUpOnly && hotpatch::isWasmFile(P.Base))
    return 0;
  if (hotpatch::isWasmFile(P.Base)) {
    hotpatch::WasmPatchOptions W;
    W.Base = P.Base;
    W.Output = P.Output;
    W.Objects = P.Objects;
    W.KeepTemps = P.KeepTemps;
    return hotpatch::runWasmPatchLink(W, Out, Err);
  }
  return hotpatch::runPatchLink(P, Out, Err);
}


int thinlinkMain(ArrayRef<const char *> Argv, raw_ostream &Out, raw_ostream &Err) {
  BumpPtrAllocator Alloc;
  SmallVector<const char *, 64> Args(Argv.begin(), Argv.end());
  cl::ExpansionContext Expander(Alloc, cl::TokenizeGNUCommandLine);
  if (Error E = Expander.expandResponseFiles(Args)) {
    Err << "thinlink: error: " << toString(std::move(E)) << "\n";
    return 1;
  }
  for (const char *A : ArrayRef<const char *>(Args).drop_front())
    if (StringRef(A) == "--patch")
      return patchMain(Args, Out, Err);
  if (hotpatch::isWasmLink(Args))
    return hotpatch::wasmFatLinkMain(Args, Out, Err);
  return hotpatch::fatLinkMain(Args, Out, Err);
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM X(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "--serve-thin-links") == 0) {
    hotpatch::setPatchLinkDeferredTeardown(true);
    return hotpatch::serveThinLinks(ArrayRef<const char *>(argv, argc), thinlinkMain,
                                    hotpatch::lldCanRunAgain,
                                    hotpatch::releaseDeferredPatchLinks);
  }
  const char *Start = getenv("HOTPATCH_THINLINK_START_SERVER");
  bool StartServer = Start && strcmp(Start, "1") == 0;
  unsetenv("HOTPATCH_THINLINK_START_SERVER");
  hotpatch::setBackgroundCache(true);
  hotpatch::setPatchLinkFastExit(true);
  int RC = thinlinkMain(ArrayRef<const char *>(argv, argc), outs(), errs());
  // Every file is written and closed: leave without tearing down lld's and
  // the cache's memory, as ld.lld does.
  outs().flush();
  errs().flush();
  if (StartServer)
    hotpatch::startThinLinkServer("/proc/self/exe", ArrayRef<const char *>(argv, argc));
  _exit(RC);
}
