//===- AbsentFiles.h - the paths a preamble looked for and did not find ---===//
//
// A preamble depends on what is absent as much as on what it read. The
// preprocessor looks a header up in one directory after another and takes
// the first that has it; `__has_include` asks the same question and only
// keeps the answer. Each of these lookups that found nothing is a file whose
// creation changes the include block's meaning:
//
//   - `#if __has_include("feature.h")` takes the other branch;
//   - `#include "x.h"`, found in the second -I directory, now finds the new
//     x.h of the first one (or of the including file's directory), and the
//     same for `#include_next` and `__has_include_next`;
//   - an -I directory that did not exist is not searched at all
//     (InitHeaderSearch drops it), and searched once it does.
//
// PrecompiledPreamble::CanReuse records only the `#include`s that found
// nothing at all, and none of the rest. So the preamble is built on a file
// system that passes everything to the real one and remembers every path
// the build asked about (stat, open) that did not exist: below the
// preprocessor, below the FileManager's cache, every directory of every
// search whatever its kind, with no copy of HeaderSearch's rules to drift
// from Clang's. Before a preamble is used, each of those paths is looked up
// again (stat); one that exists now, or whose lookup fails otherwise than
// "no such file", makes the preamble stale.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_COMPILER_ABSENTFILES_H
#define HOTPATCH_COMPILER_ABSENTFILES_H

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/VirtualFileSystem.h"

#include <string>
#include <vector>

namespace hotpatch {

/// A file system that forwards to another and records, as absolute paths,
/// every path whose stat or open failed because it does not exist (ENOENT,
/// or ENOTDIR: a component is not a directory). One build's, one thread's.
class AbsentFileRecorder : public llvm::vfs::ProxyFileSystem {
public:
  explicit AbsentFileRecorder(llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> FS)
      : ProxyFileSystem(std::move(FS)) {}

  llvm::ErrorOr<llvm::vfs::Status> status(const llvm::Twine &Path) override;
  llvm::ErrorOr<std::unique_ptr<llvm::vfs::File>>
  openFileForRead(const llvm::Twine &Path) override;
  bool exists(const llvm::Twine &Path) override { return bool(status(Path)); }

  /// The paths recorded so far, each once, in the order first asked.
  std::vector<std::string> take();

private:
  void noteFailure(const llvm::Twine &Path, std::error_code EC);

  llvm::StringSet<> Seen;
  std::vector<std::string> Paths;
};

/// The first of Paths that is no longer absent, with why ("<path> exists
/// now"), or "" when every one still is.
std::string firstNoLongerAbsent(const std::vector<std::string> &Paths);

} // namespace hotpatch

#endif
