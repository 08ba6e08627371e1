//===- thinlink.cpp - the thinlink command ---------------------------------===//
//
// thinlink is a drop-in ld.lld and wasm-ld. This program is its front: plain
// C++ and POSIX, so that it starts in a millisecond. It runs thinlink-lld
// (libexec/hotpatch/, thinlink_lld.cpp), the linker, in its own place (exec:
// same pid, same arguments), except that a thin link (--patch) is first
// handed to a resident thin linker, a thinlink-lld that stayed after an
// earlier thin link (ThinlinkProtocol.h): a thin link then costs neither
// LLVM's start-up nor a cold lld. When there is none, or it refuses the
// request, the thin link runs here as before and starts one for the next.
// $HOTPATCH_THINLINK_SERVER=0 turns the resident thin linker off.
//
//===----------------------------------------------------------------------===//
#include "ThinlinkProtocol.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

namespace proto = hotpatch::thinlink_server;

namespace {

/// Where thinlink-lld lies, relative to the directory of this program: in
/// an install and in the build tree (from CMake's directories).
const char *const kLldCandidates[] = {HOTPATCH_LLD_FROM_BIN, HOTPATCH_LLD_FROM_BUILD_BIN};

std::string findLld(std::string &Tried) {
  char Self[PATH_MAX];
  ssize_t N = readlink("/proc/self/exe", Self, sizeof Self - 1);
  if (N <= 0) {
    Tried = "(/proc/self/exe is unreadable: " + std::string(strerror(errno)) + ")";
    return {};
  }
  std::string Dir(Self, size_t(N));
  Dir.erase(Dir.rfind('/') + 1);
  for (const char *Rel : kLldCandidates) {
    std::string Path = Dir + Rel;
    if (access(Path.c_str(), X_OK) == 0)
      return Path;
    if (Tried.find(Path) == std::string::npos)
      Tried += (Tried.empty() ? "" : " or ") + Path;
  }
  return {};
}

/// A thin link whose arguments are all on the command line (a response
/// file is expanded by thinlink-lld).
bool isThinLink(int argc, char **argv) {
  bool Patch = false;
  for (int I = 1; I < argc; ++I) {
    if (argv[I][0] == '@')
      return false;
    Patch |= strcmp(argv[I], "--patch") == 0;
  }
  return Patch;
}

enum class Served { NoServer, Refused, Yes };

/// Reads one line of the server's answer; false at the end of the stream.
bool readLine(int Fd, std::string &Line) {
  Line.clear();
  char C;
  while (true) {
    ssize_t N = read(Fd, &C, 1);
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0)
      return false;
    if (C == '\n')
      return true;
    if (Line.size() < 4096)
      Line += C;
  }
}

bool sendRequest(int Fd, const std::string &Bytes) {
  // The first bytes carry the client's stdout and stderr.
  int Fds[2] = {1, 2};
  alignas(cmsghdr) char Control[CMSG_SPACE(sizeof Fds)] = {};
  iovec Iov{const_cast<char *>(Bytes.data()), Bytes.size()};
  msghdr Msg{};
  Msg.msg_iov = &Iov;
  Msg.msg_iovlen = 1;
  Msg.msg_control = Control;
  Msg.msg_controllen = sizeof Control;
  cmsghdr *C = CMSG_FIRSTHDR(&Msg);
  C->cmsg_level = SOL_SOCKET;
  C->cmsg_type = SCM_RIGHTS;
  C->cmsg_len = CMSG_LEN(sizeof Fds);
  memcpy(CMSG_DATA(C), Fds, sizeof Fds);
  ssize_t N;
  do
    N = sendmsg(Fd, &Msg, MSG_NOSIGNAL);
  while (N < 0 && errno == EINTR);
  return N > 0 && proto::sendAll(Fd, Bytes, size_t(N));
}

/// Hands the thin link to the resident thin linker of Lld, if one listens
/// and accepts it; RC is then its exit code. Refused: one listens but did
/// not take this thin link (a WebAssembly one, another protocol version).
Served tryResident(const std::string &Lld, int argc, char **argv, int &RC) {
  std::string Why;
  std::string Dir = proto::socketDir(Why), Key = proto::keyOf(Lld);
  if (Dir.empty() || Key.empty())
    return Served::NoServer;
  std::string Path = proto::socketPath(Dir, Key);
  sockaddr_un Addr{};
  Addr.sun_family = AF_UNIX;
  if (Path.size() >= sizeof Addr.sun_path)
    return Served::NoServer;
  memcpy(Addr.sun_path, Path.c_str(), Path.size() + 1);
  int Fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (Fd < 0)
    return Served::NoServer;
  ucred Cred{};
  socklen_t Len = sizeof Cred;
  if (connect(Fd, reinterpret_cast<sockaddr *>(&Addr), sizeof Addr) != 0 ||
      getsockopt(Fd, SOL_SOCKET, SO_PEERCRED, &Cred, &Len) != 0 || Cred.uid != getuid()) {
    close(Fd);
    return Served::NoServer;
  }
  proto::Request R;
  char Cwd[PATH_MAX];
  if (!getcwd(Cwd, sizeof Cwd)) {
    close(Fd);
    return Served::Refused;
  }
  R.Cwd = Cwd;
  for (char **E = environ; *E; ++E)
    R.Env.push_back(*E);
  R.Umask = umask(022);
  umask(R.Umask);
  R.Args.assign(argv, argv + argc);
  std::string Line;
  if (!sendRequest(Fd, proto::encode(R)) || !readLine(Fd, Line) || Line != "accepted") {
    close(Fd);
    return Served::Refused;
  }
  if (readLine(Fd, Line) && Line.compare(0, 5, "exit ") == 0) {
    RC = atoi(Line.c_str() + 5);
    close(Fd);
    return Served::Yes;
  }
  fprintf(stderr,
          "thinlink: error: the resident thin linker (pid %d) stopped during this thin "
          "link, before it said how it went: the patch and the chain state beside the "
          "program may be incomplete. Do not apply this patch; relink and restart the "
          "program. HOTPATCH_THINLINK_SERVER=0 runs thin links in the thinlink process.\n",
          int(Cred.pid));
  RC = 1;
  close(Fd);
  return Served::Yes;
}

} // namespace

int main(int argc, char **argv) {
  std::string Tried;
  std::string Lld = findLld(Tried);
  if (Lld.empty()) {
    fprintf(stderr, "thinlink: error: thinlink runs thinlink-lld, which is not at %s: install "
                    "Hotpatch whole (cmake --install) or run the thinlink of a build tree\n",
            Tried.c_str());
    return 1;
  }
  if (isThinLink(argc, argv) && proto::enabled()) {
    int RC = 1;
    Served S = tryResident(Lld, argc, argv, RC);
    if (S == Served::Yes)
      return RC;
    // A server that refused this thin link stays; another would only find
    // its lock taken.
    if (S == Served::NoServer)
      setenv("HOTPATCH_THINLINK_START_SERVER", "1", 1);
  }
  execv(Lld.c_str(), argv);
  fprintf(stderr, "thinlink: error: cannot run %s: %s\n", Lld.c_str(), strerror(errno));
  return 1;
}
