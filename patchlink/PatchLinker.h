//===- PatchLinker.h - thin links: build a patch against a running base ---===//
//
// `thinlink --patch --base <program> -o <patch> <rebuilt objects...>`
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_PATCHLINK_PATCHLINKER_H
#define HOTPATCH_PATCHLINK_PATCHLINKER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace hotpatch {

struct PatchOptions {
  std::string Base;                 // the running program (its cache is beside it)
  std::string Output;               // the patch file to write
  std::vector<std::string> Objects; // rebuilt objects
  bool KeepTemps = false;           // keep the work directory (debugging)
  bool ShowPhases = false;          // print where the time went
  /// Run every pass up to lld's link in the work directory, then stop:
  /// nothing is written beside the program (no patch, no chain state). The
  /// resident thin linker warms itself so (tools/ThinlinkServer.h).
  bool WarmUpOnly = false;
};

/// What a thin link did.
struct PatchResult {
  /// A patch was written, or there was nothing to patch. When false, Error
  /// says what was refused and what to do.
  bool Ok = false;
  bool NothingToPatch = false; // no code that runs changed: no patch written
  std::string Error;
  unsigned ChainIndex = 0;     // position of the written patch in its chain
  /// Mangled names of the functions the user's edit changed or added, and
  /// of the library functions (std::, __gnu_cxx::, compiler helpers) that
  /// came along with them.
  std::vector<std::string> Changed, Added, Library;
  /// Changed functions that are not hot: only calls from patched code and
  /// hotpatch_current() reach them.
  std::vector<std::string> NotHot;
  std::vector<std::string> Notes;
  unsigned SlotUpdates = 0, NewData = 0, NewGlobals = 0;
  uint64_t PatchBytes = 0;
  double Ms = 0; // the whole thin link
  /// Each pass and its time in ms, in order.
  std::vector<std::pair<std::string, double>> Phases;
};

/// Builds a patch. Never prints.
PatchResult buildPatch(const PatchOptions &Opts);

/// Prints a result as the thinlink command does: the summary to Out, a
/// refusal to Err. Returns the command's exit code.
int printPatchResult(const PatchResult &R, const PatchOptions &Opts,
                     llvm::raw_ostream &Out, llvm::raw_ostream &Err);

/// Whether a mangled name is a function of the C++ library or the compiler
/// (std::, __gnu_cxx::, __cxxabiv1::, __clang_call_terminate) rather than
/// one the user wrote.
bool isLibraryFunction(llvm::StringRef Mangled);

/// buildPatch, then printPatchResult.
int runPatchLink(const PatchOptions &Opts, llvm::raw_ostream &Out,
                 llvm::raw_ostream &Err);

/// For a process that exits right after the thin link (the thinlink
/// command): skip freeing what the link built.
void setPatchLinkFastExit(bool On);

/// For a process that answers first and tidies up after (the resident thin
/// linker): each thin link's memory and work directory are kept until
/// releaseDeferredPatchLinks().
void setPatchLinkDeferredTeardown(bool On);
void releaseDeferredPatchLinks();

} // namespace hotpatch

#endif
