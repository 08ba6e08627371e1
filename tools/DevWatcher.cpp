//===- DevWatcher.cpp - the files hotpatch dev watches, and their saves ---===//
#include "DevWatcher.h"

#include "llvm/Support/Path.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace hotpatch {

FileWatcher::FileWatcher() : Fd(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {}

FileWatcher::~FileWatcher() {
  if (Fd >= 0)
    close(Fd);
}

void FileWatcher::watch(const std::string &File) {
  if (!Files.insert(File).second)
    return;
  std::string Dir = llvm::sys::path::parent_path(File).str();
  if (!WatchedDirs.insert(Dir).second)
    return;
  int Wd = inotify_add_watch(Fd, Dir.c_str(),
                             IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY);
  if (Wd >= 0)
    Dirs[Wd] = Dir;
}

FileEvents FileWatcher::wait(int TimeoutMs) {
  FileEvents Events;
  pollfd Pfd = {Fd, POLLIN, 0};
  if (poll(&Pfd, 1, TimeoutMs) <= 0)
    return Events;
  alignas(inotify_event) char Buf[16384];
  ssize_t Len;
  while ((Len = read(Fd, Buf, sizeof Buf)) > 0) {
    for (char *P = Buf; P < Buf + Len;) {
      auto *E = reinterpret_cast<inotify_event *>(P);
      P += sizeof(inotify_event) + E->len;
      if (E->mask & IN_Q_OVERFLOW)
        Events.Overflowed = true;
      auto Dir = Dirs.find(E->wd);
      if (Dir == Dirs.end() || !E->len)
        continue;
      std::string File = Dir->second + "/" + E->name;
      if (!Files.count(File))
        continue;
      Events.Touched.insert(File);
      if (E->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
        Events.Saved.insert(File);
    }
  }
  return Events;
}

} // namespace hotpatch
