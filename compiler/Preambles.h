//===- Preambles.h - precompiled preambles kept in memory -----------------===//
//
// A preamble is the include block at the top of a source file (the
// directives and comments before the first declaration), parsed once and
// kept as a precompiled header in memory (clang::PrecompiledPreamble, the
// mechanism clangd re-parses with after each keystroke). A compile against it
// parses only the rest of the file.
//
// A kept preamble is used only if it is the one the compile would build now:
//
//   - same command (arguments and directory);
//   - PrecompiledPreamble::CanReuse: the file's include block is the same
//     bytes, and every file the preamble read has the size and the
//     modification time (in seconds) it had, and no file it looked for and did
//     not find exists now (only the `#include`s that found nothing at all);
//   - no path the preamble's build looked up and found absent exists now
//     (AbsentFiles.h): a `__has_include` that said no, a header in an
//     earlier search directory that would now shadow the one it read, an -I
//     directory that now exists;
//   - and every file it read has the same content (a 64-bit hash of the text
//     the preamble was built from): a header saved twice in the same second
//     with the same size, or with its old time restored, is a different
//     header, and CanReuse alone would not see it. The hash is compared
//     unless stat(2) shows the very inode the preamble read, unchanged
//     (identity, size, modification and status-change times in
//     nanoseconds), whose status last changed at least 2 s before the
//     preamble's build started: git's rule for a "racily clean" file. The
//     status-change time cannot be set back by a user.
//
// Otherwise the compile goes without it (a full parse, as the command would
// do), and the preamble is rebuilt in the background for the next save. The
// preambles of the N most recently compiled files are kept; building one
// waits for nobody (a worker thread).
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_COMPILER_PREAMBLES_H
#define HOTPATCH_COMPILER_PREAMBLES_H

#include "AbsentFiles.h"
#include "Invocation.h"

#include "clang/Frontend/PrecompiledPreamble.h"
#include "llvm/Support/MemoryBuffer.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace hotpatch {

/// What stat(2) says of a file: identity, size and both times in
/// nanoseconds. The status change time (ctime) cannot be set back by a
/// user, unlike the modification time (touch -r, rsync -t).
struct FileStamp {
  uint64_t Dev = 0, Ino = 0, Size = 0;
  int64_t MtimeNs = 0, CtimeNs = 0;
  bool Valid = false;
  bool operator==(const FileStamp &O) const {
    return Valid && O.Valid && Dev == O.Dev && Ino == O.Ino && Size == O.Size &&
           MtimeNs == O.MtimeNs && CtimeNs == O.CtimeNs;
  }
};
FileStamp stampOf(const std::string &AbsolutePath);

/// One kept preamble and what it was built from.
struct KeptPreamble {
  KeptPreamble(clang::PrecompiledPreamble P) : Preamble(std::move(P)) {}
  clang::PrecompiledPreamble Preamble;
  std::string Command; // arguments and directory, joined
  /// Every file the preamble read but the source itself: name as clang
  /// looked it up (relative names resolve in the command's directory), the
  /// hash of the text it parsed, and its inode's status when the preamble
  /// was built.
  struct File {
    std::string Name;
    uint64_t Hash = 0;
    FileStamp Stamp;
  };
  std::vector<File> Files;
  /// Every path the build looked up and did not find.
  AbsentFiles Absent;
  int64_t BuiltAfterNs = 0; // the realtime clock before any file was read
  double BuildMs = 0;
};

/// A kept preamble, for --stats.
struct PreambleStat {
  std::string Source;
  size_t Bytes = 0;   // the precompiled header in memory
  unsigned Files = 0; // files it read
  unsigned Absent = 0; // paths it looked up and did not find
  double BuildMs = 0;
  bool Building = false;
};

class PreambleStore {
public:
  /// Builds an invocation for a command (the worker thread needs one).
  using InvocationMaker = std::function<llvm::Expected<ResidentInvocation>(const CompileCommandLine &)>;

  PreambleStore(unsigned Keep, InvocationMaker Make);
  ~PreambleStore();

  /// The kept preamble of C.Source if it is still the one to use for the
  /// file's current text Main, else null and, in Stale, why not ("" when
  /// there was none). Waits for a build of this file under way.
  std::shared_ptr<const KeptPreamble> find(const CompileCommandLine &C,
                                           const ResidentInvocation &RI,
                                           const llvm::MemoryBuffer &Main,
                                           std::string &Stale);

  /// Builds the preamble of C in this thread and keeps it.
  std::shared_ptr<const KeptPreamble> buildNow(const CompileCommandLine &C, std::string &Err);

  /// Builds the preamble of C on the worker thread.
  void buildInBackground(const CompileCommandLine &C);

  /// Marks C.Source as just edited (the most recent of the kept).
  void touch(const std::string &Source);

  /// Queues a rebuild of every kept preamble a changed file makes stale.
  void rebuildStale();

  std::vector<PreambleStat> stats();

private:
  struct Entry {
    std::shared_ptr<const KeptPreamble> Kept;
    CompileCommandLine Command;
    bool Building = false;
    uint64_t LastUse = 0;
  };
  std::shared_ptr<const KeptPreamble> build(const CompileCommandLine &C, std::string &Err);
  void worker();
  void evict(); // holds Lock

  unsigned Keep;
  InvocationMaker Make;
  std::mutex Lock;
  std::condition_variable Changed;
  std::map<std::string, Entry> Entries; // by source
  std::deque<std::string> Queue;        // sources to build
  uint64_t Clock = 0;
  bool Stopping = false;
  std::thread Worker;
};

/// Why a kept preamble cannot be used for the file's current state, or "".
std::string preambleStaleness(const KeptPreamble &K, const CompileCommandLine &C,
                              const ResidentInvocation &RI, const llvm::MemoryBuffer &Main);

/// Arguments and directory of a command, as one key.
std::string commandKey(const CompileCommandLine &C);

} // namespace hotpatch

#endif
