//===- LinkOptions.h - what thinlink needs to know of lld's options -------===//
//
// lld's own option table (ELF Options.td) is generated at lld's build and not
// installed by Debian's liblld-19-dev, so the few options thinlink acts on
// are scanned here; every option is still passed to lld untouched, and lld
// reports the ones it does not know.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_FATLINK_LINKOPTIONS_H
#define HOTPATCH_FATLINK_LINKOPTIONS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace hotpatch {

/// What thinlink needs to know of the user's options.
struct LinkOptions {
  std::string Output = "a.out";
  bool HasBuildId = false;
  bool BuildIdNone = false;
  bool StripAll = false;
  std::string Icf;          // value of --icf, "" if absent
  bool Relocatable = false; // -r: not an image
  bool Shared = false;      // -shared: a shared library
  bool Pie = false;         // -pie (the last of -pie and -no-pie wins)
  bool HasInputs = false;   // something to link
  bool InfoOnly = false;    // --version, --help: no output file
  bool Verbose = false;     // -v: the version, and a link if there are inputs
  bool UserTrace = false;
  std::string DumpCache;
  bool Json = false;
};

/// Scans a link command (Args[0] is the program's name).
LinkOptions scanOptions(llvm::ArrayRef<const char *> Args);

/// lld accepts long options with one or two dashes; compares without them.
llvm::StringRef longName(llvm::StringRef A);

} // namespace hotpatch

#endif
