//===- CacheWriter.cpp - one background writer of a cache, and its readers ===//
//
// The fat link finishes the module cache in a forked child after the link
// returns (fatlink/LinkDriver.cpp). The child owns "<cache>.lock": it takes
// an exclusive lock on it (llvm::sys::fs::lockFile, a record lock the
// kernel drops when the process ends, however it ends), then writes
// "<cache>.pending", and removes that marker when the cache (or
// "<cache>.error") is in place. A reader that finds the marker waits for
// the lock: when it gets it the writer is gone, and a marker still there
// means it died before finishing. No pid is polled.
//
//===----------------------------------------------------------------------===//
#include "ModuleCache.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <chrono>
#include <unistd.h>

using namespace llvm;

namespace hotpatch {

static std::string lockPathFor(StringRef Cache) { return (Cache + ".lock").str(); }
static std::string pendingPathFor(StringRef Cache) { return (Cache + ".pending").str(); }

static Error writerError(StringRef Path, const Twine &What) {
  return createStringError(inconvertibleErrorCode(),
                           "module cache '" + Path + "' " + What + ": relink the program with "
                           "thinlink");
}

Expected<int> becomeCacheWriter(StringRef Path) {
  int FD;
  if (std::error_code EC = sys::fs::openFileForReadWrite(lockPathFor(Path), FD,
                                                         sys::fs::CD_OpenAlways, sys::fs::OF_None))
    return createStringError(EC, "cannot open '" + lockPathFor(Path) + "': " + EC.message());
  if (std::error_code EC = sys::fs::lockFile(FD)) {
    ::close(FD);
    return createStringError(EC, "cannot lock '" + lockPathFor(Path) + "': " + EC.message());
  }
  sys::fs::remove(Path + ".error");
  int Marker;
  if (std::error_code EC = sys::fs::openFileForWrite(pendingPathFor(Path), Marker)) {
    ::close(FD);
    return createStringError(EC, "cannot write '" + pendingPathFor(Path) + "': " + EC.message());
  }
  ::close(Marker);
  return FD;
}

void finishCacheWriter(StringRef Path, int LockFD) {
  sys::fs::remove(pendingPathFor(Path));
  sys::fs::unlockFile(LockFD);
  ::close(LockFD);
}

Error waitForCacheWriter(StringRef Path) {
  if (sys::fs::exists(pendingPathFor(Path))) {
    int FD;
    // Opened for writing: the lock is a write lock (fcntl F_WRLCK).
    if (std::error_code EC = sys::fs::openFileForReadWrite(
            lockPathFor(Path), FD, sys::fs::CD_OpenExisting, sys::fs::OF_None))
      return writerError(Path, "is marked as being written, but its lock '" + lockPathFor(Path) +
                                   "' cannot be opened (" + EC.message() + ")");
    // A reader holds the lock only for an instant: while a marker exists,
    // the writer has it from before the marker to after.
    std::error_code EC = sys::fs::tryLockFile(FD, std::chrono::seconds(60));
    if (!EC)
      sys::fs::unlockFile(FD);
    ::close(FD);
    if (EC)
      return writerError(Path, "is still being written after 60 s");
    // The lock is free, so the writer is gone: it removes its marker when
    // it has finished.
    if (sys::fs::exists(pendingPathFor(Path)))
      return writerError(Path, "was never finished (thinlink's background writer died)");
  }
  std::string Failed = (Path + ".error").str();
  if (!sys::fs::exists(Path) && sys::fs::exists(Failed)) {
    auto B = MemoryBuffer::getFile(Failed);
    return createStringError(inconvertibleErrorCode(),
                             "module cache '" + Path + "' was not written: " +
                                 (B ? (*B)->getBuffer().str() : std::string("unknown error")));
  }
  return Error::success();
}

} // namespace hotpatch
