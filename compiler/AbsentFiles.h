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
// from Clang's. Before a preamble is used, those paths are looked up again:
// one that exists now, or whose lookup fails otherwise than "no such file",
// makes the preamble stale. There are hundreds of them (a C library header
// is first looked for in the C++ library's directories), so they are looked
// up one directory at a time where the directory's stat shows that no entry
// was added since (AbsentFiles, below), and one by one elsewhere.
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

/// The paths one preamble's build found absent, grouped by the directory
/// each was looked for in, with that directory's stat(2) when the build was
/// over.
///
/// A name created in (or renamed into, or linked into) a directory sets the
/// directory's modification and status-change times to the current time
/// (POSIX). So a directory whose identity and times are those recorded, and
/// whose status last changed at least 2 s before the build started, has had
/// no entry added since: its absent paths are still absent, and one stat
/// answers for all of them. (The status-change time cannot be set back by a
/// user; 2 s covers the file system's timestamp granularity, git's "racily
/// clean" rule.) A directory that did not exist and still does not has no
/// entries. Otherwise each of its paths is looked up again.
class AbsentFiles {
public:
  AbsentFiles() = default;
  /// Groups Paths (absolute) by directory and stats each directory now.
  /// BuiltAfterNs: the realtime clock before the build looked anything up.
  AbsentFiles(std::vector<std::string> Paths, int64_t BuiltAfterNs);

  /// The first path that is no longer absent, with why ("<path> exists
  /// now"), or "" when every one still is.
  std::string firstNoLongerAbsent() const;

  size_t size() const { return Count; }

private:
  struct Dir {
    std::string Path;
    bool Existed = false; // something (a directory) was there
    bool Settled = false; // unchanged since: its stamp answers for its paths
    uint64_t Dev = 0, Ino = 0;
    int64_t MtimeNs = 0, CtimeNs = 0;
    std::vector<std::string> Paths;
  };
  std::vector<Dir> Dirs;
  size_t Count = 0;
};

} // namespace hotpatch

#endif
