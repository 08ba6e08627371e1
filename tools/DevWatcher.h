//===- DevWatcher.h - the files hotpatch dev watches, and their saves -----===//
//
// inotify on the directory of every watched file, so that editors that save
// through a rename (write a temporary, rename it over the file) are seen
// like those that write in place. A file counts as saved when it is closed
// after writing (IN_CLOSE_WRITE) or renamed into place (IN_MOVED_TO): the
// text is complete then, and the compile starts at once. Every other event
// (a write, a creation) only says that the file is being changed: a compile
// that read it must not be patched in (see DevLoop.cpp).
//
// Not LLVM's DirectoryWatcher: it reports every write (IN_MODIFY) as a
// modification and never the close, so the end of a save could only be
// guessed by waiting for quiet; it also runs a thread per directory.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_DEVWATCHER_H
#define HOTPATCH_TOOLS_DEVWATCHER_H

#include <map>
#include <set>
#include <string>

namespace hotpatch {

struct FileEvents {
  std::set<std::string> Saved;   // closed after writing, or renamed into place
  std::set<std::string> Touched; // any event, the saved ones included
  /// The kernel's event queue overflowed: saves were lost, which ones is
  /// not known.
  bool Overflowed = false;
  bool empty() const { return Touched.empty() && !Overflowed; }
};

class FileWatcher {
public:
  FileWatcher();
  ~FileWatcher();
  bool ok() const { return Fd >= 0; }

  /// Watches File (absolute); its directory is watched once.
  void watch(const std::string &File);
  bool watches(const std::string &File) const { return Files.count(File); }
  size_t size() const { return Files.size(); }

  /// Waits up to TimeoutMs (0: only what is queued) and returns the events
  /// of watched files.
  FileEvents wait(int TimeoutMs);

private:
  int Fd = -1;
  std::map<int, std::string> Dirs; // watch descriptor -> directory
  std::set<std::string> WatchedDirs;
  std::set<std::string> Files;
};

} // namespace hotpatch

#endif
