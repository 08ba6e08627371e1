//===- PatchLinker.h - thin links: build a patch against a running base ---===//
//
// `thinlink --patch --base <program> -o <patch> <rebuilt objects...>`
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_LINKER_PATCHLINKER_H
#define HOTPATCH_LINKER_PATCHLINKER_H

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
};

/// Builds a patch and prints its summary to Out. Refusals and errors go to
/// Err, name the file, function or section and what to do; exit code 1.
int runPatchLink(const PatchOptions &Opts, llvm::raw_ostream &Out,
                 llvm::raw_ostream &Err);

/// For a process that exits right after the thin link (the thinlink
/// command): skip freeing what the link built.
void setPatchLinkFastExit(bool On);

} // namespace hotpatch

#endif
