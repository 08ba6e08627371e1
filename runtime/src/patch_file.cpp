// patch_file.cpp - reading a patch file without ever blocking: anything but
// a regular file (a FIFO would block open() or read() forever, a device may
// never end) is refused before it is opened, and again after the
// non-blocking open, in case the path changed in between.
#include "internal.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace hotpatch_rt {
namespace {

const char *file_kind(mode_t mode) {
  switch (mode & S_IFMT) {
  case S_IFIFO: return "a FIFO";
  case S_IFDIR: return "a directory";
  case S_IFCHR: return "a character device";
  case S_IFBLK: return "a block device";
  case S_IFSOCK: return "a socket";
  }
  return "not a regular file";
}

// Patches are a few megabytes at most; a larger file is not one.
constexpr off_t kMaxPatchFile = off_t(256) << 20;

} // namespace

bool read_patch_file(const char *path, std::string &out, std::string &err) {
  struct stat st;
  auto not_regular = [&](mode_t mode) {
    err = std::string("'") + path + "' is " + file_kind(mode) +
          ", not a regular file: pass the patch file written by thinlink --patch";
    return false;
  };
  if (stat(path, &st) != 0) {
    err = std::string("cannot open '") + path + "': " + strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode))
    return not_regular(st.st_mode);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    err = std::string("cannot open '") + path + "': " + strerror(errno);
    return false;
  }
  if (fstat(fd, &st) != 0) {
    err = std::string("cannot read '") + path + "': " + strerror(errno);
    close(fd);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return not_regular(st.st_mode);
  }
  if (st.st_size > kMaxPatchFile) {
    err = std::string("'") + path + "' is " + std::to_string(st.st_size >> 20) +
          " MiB, too large to be a patch: pass the patch file written by thinlink --patch";
    close(fd);
    return false;
  }
  out.resize(st.st_size);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = read(fd, &out[done], out.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      err = std::string("cannot read '") + path + "'";
      close(fd);
      return false;
    }
    done += n;
  }
  close(fd);
  return true;
}

} // namespace hotpatch_rt
