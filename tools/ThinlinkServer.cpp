//===- ThinlinkServer.cpp - the resident thin linker -----------------------===//
//
// Started by a thinlink-lld that ran a thin link for the thinlink command
// (startThinLinkServer), it takes its socket under an exclusive lock, then
// serves requests one at a time: a request that breaks the contract is
// answered "refused" (the client then links in its own process) and the
// server goes on; one that is accepted runs in the client's working
// directory with the client's stdout and stderr on fds 1 and 2.
//
//===----------------------------------------------------------------------===//
#include "ThinlinkServer.h"
#include "ThinlinkProtocol.h"
#include "WasmLink.h"

#include "llvm/Support/Signals.h"

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

using namespace llvm;
namespace proto = hotpatch::thinlink_server;

namespace hotpatch {

void startThinLinkServer(const char *Self, ArrayRef<const char *> Args) {
  if (!proto::enabled())
    return;
  std::string Why;
  std::string Dir = proto::socketDir(Why);
  std::string Key = proto::keyOf(Self);
  if (Dir.empty() || Key.empty() ||
      proto::socketPath(Dir, Key).size() >= sizeof(sockaddr_un::sun_path))
    return;
  posix_spawn_file_actions_t Files;
  posix_spawnattr_t Attr;
  posix_spawn_file_actions_init(&Files);
  for (int Fd = 0; Fd <= 2; ++Fd)
    posix_spawn_file_actions_addopen(&Files, Fd, "/dev/null", Fd ? O_WRONLY : O_RDONLY, 0);
  // Nothing else of this process's: a pipe or a make jobserver that the
  // caller waits on is not held open by the server.
  posix_spawn_file_actions_addclosefrom_np(&Files, 3);
  posix_spawnattr_init(&Attr);
  posix_spawnattr_setflags(&Attr, POSIX_SPAWN_SETSID);
  char Cwd[PATH_MAX];
  std::vector<const char *> Argv = {Self, "--serve-thin-links", Dir.c_str(), Key.c_str()};
  if (getcwd(Cwd, sizeof Cwd)) {
    Argv.push_back(Cwd);
    Argv.insert(Argv.end(), Args.begin(), Args.end());
  }
  Argv.push_back(nullptr);
  pid_t Pid;
  posix_spawn(&Pid, Self, &Files, &Attr, const_cast<char **>(Argv.data()), environ);
  posix_spawn_file_actions_destroy(&Files);
  posix_spawnattr_destroy(&Attr);
}

namespace {

/// One connection's request and the two streams it carries.
struct Incoming {
  proto::Request Req;
  int Out = -1, Err = -1;
  ~Incoming() {
    if (Out >= 0)
      close(Out);
    if (Err >= 0)
      close(Err);
  }
};

/// Whether the thin link's --base is a WebAssembly module. lld's wasm
/// driver keeps state from one link to the next in a process (its synthetic
/// symbols), which a link of another program can trip over: a WebAssembly
/// thin link runs in the command, in a fresh process.
bool wasmBase(const proto::Request &R) {
  std::string Base;
  for (size_t I = 0; I < R.Args.size(); ++I) {
    StringRef A = R.Args[I];
    if (A == "--base" && I + 1 < R.Args.size())
      Base = R.Args[I + 1];
    else if (A.starts_with("--base="))
      Base = A.drop_front(7).str();
  }
  if (Base.empty())
    return false;
  return isWasmFile(Base[0] == '/' ? Base : R.Cwd + "/" + Base);
}

/// Reads a request; false, with Why set, when it breaks the contract.
bool receive(int Conn, Incoming &In, std::string &Why) {
  std::string Bytes;
  size_t HeaderSize = 0, PayloadLength = 0;
  std::vector<int> Fds;
  while (true) {
    char Buf[65536];
    alignas(cmsghdr) char Control[CMSG_SPACE(4 * sizeof(int))];
    iovec Iov{Buf, sizeof Buf};
    msghdr Msg{};
    Msg.msg_iov = &Iov;
    Msg.msg_iovlen = 1;
    Msg.msg_control = Control;
    Msg.msg_controllen = sizeof Control;
    ssize_t N = recvmsg(Conn, &Msg, MSG_CMSG_CLOEXEC);
    if (N < 0 && errno == EINTR)
      continue;
    for (cmsghdr *C = CMSG_FIRSTHDR(&Msg); C; C = CMSG_NXTHDR(&Msg, C))
      if (C->cmsg_level == SOL_SOCKET && C->cmsg_type == SCM_RIGHTS)
        for (size_t I = 0; I < (C->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++I) {
          int Fd;
          memcpy(&Fd, CMSG_DATA(C) + I * sizeof(int), sizeof Fd);
          Fds.push_back(Fd);
        }
    if (N <= 0) {
      Why = N == 0 ? "the request ended early" : "the request could not be read";
      break;
    }
    Bytes.append(Buf, size_t(N));
    if (!HeaderSize) {
      long H = proto::parseHeader(Bytes, PayloadLength, Why);
      if (H < 0)
        break;
      HeaderSize = size_t(H);
    }
    if (HeaderSize && Bytes.size() >= HeaderSize + PayloadLength)
      break;
  }
  bool Ok = Why.empty() && HeaderSize && Bytes.size() == HeaderSize + PayloadLength;
  if (Ok && Fds.size() != 2) {
    Why = "the request carries " + std::to_string(Fds.size()) +
          " file descriptors, not its stdout and stderr";
    Ok = false;
  }
  if (Ok) {
    if (auto R = proto::decodePayload(Bytes.substr(HeaderSize), Why))
      In.Req = std::move(*R);
    else
      Ok = false;
  } else if (Why.empty()) {
    Why = "the request is longer than its length says";
  }
  if (Ok && std::find(In.Req.Args.begin(), In.Req.Args.end(), "--patch") == In.Req.Args.end()) {
    Why = "the resident thin linker runs thin links (--patch) only";
    Ok = false;
  }
  if (Ok && wasmBase(In.Req)) {
    Why = "a WebAssembly thin link runs in the command's own process";
    Ok = false;
  }
  if (Ok) {
    In.Out = Fds[0];
    In.Err = Fds[1];
    Fds.clear();
  }
  for (int Fd : Fds)
    close(Fd);
  return Ok;
}

/// Runs an accepted request with its streams on fds 1 and 2.
int runRequest(const Incoming &In, unsigned Number, ThinLinkRunner Run) {
  int Null = open("/dev/null", O_RDWR | O_CLOEXEC);
  dup2(In.Out, 1);
  dup2(In.Err, 2);
  int RC;
  {
    raw_fd_ostream Out(1, /*shouldClose=*/false);
    raw_fd_ostream Err(2, /*shouldClose=*/false, /*unbuffered=*/true);
    if (chdir(In.Req.Cwd.c_str()) != 0) {
      Err << "thinlink: error: the resident thin linker cannot enter '" << In.Req.Cwd
          << "': " << strerror(errno) << "\n";
      RC = 1;
    } else {
      umask(In.Req.Umask);
      // The client's environment (TMPDIR and the like), as if in its
      // process; putenv keeps pointers: the strings live until the next.
      static std::vector<std::string> Environment;
      clearenv();
      Environment = In.Req.Env;
      for (std::string &E : Environment)
        putenv(E.data());
      std::vector<const char *> Argv;
      for (const std::string &A : In.Req.Args)
        Argv.push_back(A.c_str());
      if (std::find(In.Req.Args.begin(), In.Req.Args.end(), "--phases") != In.Req.Args.end())
        Out << "thin link in the resident thin linker (pid " << getpid() << ", request "
            << Number << ")\n";
      RC = Run(Argv, Out, Err);
    }
    Out.flush();
    // A client gone: its error is not the server's to report.
    Out.clear_error();
    Err.clear_error();
  }
  dup2(Null, 1);
  dup2(Null, 2);
  close(Null);
  [[maybe_unused]] int Root = chdir("/"); // hold no client's directory
  return RC;
}

/// Serves one connection; true if it ran a thin link (Number: its number).
bool handle(int Conn, unsigned Number, ThinLinkRunner Run) {
  ucred Cred{};
  socklen_t Len = sizeof Cred;
  if (getsockopt(Conn, SOL_SOCKET, SO_PEERCRED, &Cred, &Len) != 0 || Cred.uid != getuid())
    return false;
  timeval Timeout{5, 0};
  setsockopt(Conn, SOL_SOCKET, SO_RCVTIMEO, &Timeout, sizeof Timeout);
  Incoming In;
  std::string Why;
  if (!receive(Conn, In, Why)) {
    proto::sendAll(Conn, "refused " + Why + "\n");
    return false;
  }
  if (!proto::sendAll(Conn, "accepted\n"))
    return false; // the client is gone before anything ran
  int RC = runRequest(In, Number, Run);
  proto::sendAll(Conn, "exit " + std::to_string(RC) + "\n");
  return true;
}

} // namespace

int serveThinLinks(ArrayRef<const char *> Args, ThinLinkRunner Run,
                   function_ref<bool()> CanGoOn, function_ref<void()> AfterReply) {
  if (Args.size() < 4)
    return 2;
  std::string Dir = Args[2], Key = Args[3];
  // Nothing of the spawner's: no inherited descriptor keeps a pipe open.
  close_range(3, ~0u, 0);
  signal(SIGPIPE, SIG_IGN);
  sys::SetOneShotPipeSignalFunction(nullptr);
  unsigned Idle = proto::kDefaultIdleSeconds;
  if (const char *S = getenv("HOTPATCH_THINLINK_IDLE_SECONDS"))
    if (unsigned long V = strtoul(S, nullptr, 10); V > 0 && V < 86400 * 7)
      Idle = unsigned(V);

  std::string LockPath = proto::lockPath(Dir, Key), SockPath = proto::socketPath(Dir, Key);
  int Lock = open(LockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (Lock < 0 || flock(Lock, LOCK_EX | LOCK_NB) != 0)
    return 0; // another server has the key
  sockaddr_un Addr{};
  Addr.sun_family = AF_UNIX;
  if (SockPath.size() >= sizeof Addr.sun_path)
    return 1;
  memcpy(Addr.sun_path, SockPath.c_str(), SockPath.size() + 1);
  unlink(SockPath.c_str()); // a socket left by a server that was killed
  int Listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  mode_t Old = umask(077);
  bool Bound = Listen >= 0 && bind(Listen, reinterpret_cast<sockaddr *>(&Addr), sizeof Addr) == 0;
  umask(Old);
  if (!Bound || listen(Listen, 16) != 0)
    return 1;
  // Warm: the spawner's thin link again, up to lld's link and no further.
  // A request that comes meanwhile waits in the socket's backlog.
  if (Args.size() > 5 && chdir(Args[4]) == 0) {
    std::vector<const char *> Warm(Args.begin() + 5, Args.end());
    Warm.push_back("--serve-warm-up");
    Run(Warm, nulls(), nulls());
    AfterReply();
  }
  [[maybe_unused]] int Root = chdir("/"); // hold no directory busy
  // Idle counts from the last thin link: connections that run none (a
  // refused request, a probe) do not keep the server alive.
  using Clock = std::chrono::steady_clock;
  Clock::time_point LastLink = Clock::now();
  for (unsigned Served = 0;;) {
    auto Left = std::chrono::seconds(Idle) - (Clock::now() - LastLink);
    if (Left <= Clock::duration::zero())
      break;
    pollfd P{Listen, POLLIN, 0};
    int Ready = poll(
        &P, 1, int(std::chrono::ceil<std::chrono::milliseconds>(Left).count()));
    if (Ready < 0 && errno == EINTR)
      continue;
    if (Ready <= 0)
      continue; // the loop's check decides
    int Conn = accept4(Listen, nullptr, nullptr, SOCK_CLOEXEC);
    if (Conn < 0)
      continue;
    if (handle(Conn, Served + 1, Run)) {
      ++Served;
      LastLink = Clock::now();
    }
    close(Conn);
    AfterReply();
    if (!CanGoOn())
      break;
  }
  // Still under the lock: no other server's socket is removed.
  unlink(SockPath.c_str());
  close(Listen);
  return 0;
}

} // namespace hotpatch
