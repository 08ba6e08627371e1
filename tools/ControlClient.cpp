//===- ControlClient.cpp - talk to running programs' control sockets ------===//
//
// Finding listeners: the runtime listens on abstract Unix socket names
// (hotpatch/control_protocol.h), which no directory lists; the kernel's
// table of Unix sockets, /proc/net/unix, does. Every name there is
// untrusted (anyone can bind any abstract name, a name may even hold a
// newline): it is only a place to connect to, and who answers is what
// SO_PEERCRED says.
//
//===----------------------------------------------------------------------===//
#include "ControlClient.h"

#include "hotpatch/control_protocol.h"
#include "hotpatch/patch_format.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

using namespace llvm;

namespace hotpatch {

static std::string namePrefix() {
  char Buf[64];
  snprintf(Buf, sizeof Buf, HOTPATCH_CONTROL_PREFIX_FORMAT, unsigned(getuid()));
  return Buf;
}

/// The abstract names under this user's prefix on which a socket listens,
/// from the kernel's table. Lines read
///   Num RefCount Protocol Flags Type St Inode [Path]
/// with an abstract path shown as '@' and its name (NULs shown as '@').
static std::vector<std::string> listeningNames(std::string &Error) {
  std::vector<std::string> Out;
  auto Table = MemoryBuffer::getFileAsStream("/proc/net/unix");
  if (!Table) {
    Error = "cannot read /proc/net/unix (" + Table.getError().message() +
            "), where the processes' sockets are listed";
    return Out;
  }
  std::string Prefix = "@" + namePrefix();
  StringSet<> Seen;
  SmallVector<StringRef, 0> Lines;
  (*Table)->getBuffer().split(Lines, '\n');
  for (StringRef Line : Lines) {
    SmallVector<StringRef, 8> F;
    Line.split(F, ' ', /*MaxSplit=*/7, /*KeepEmpty=*/false);
    const unsigned kAcceptConn = 0x10000; // __SO_ACCEPTCON: a listener
    unsigned Flags = 0, Type = 0;
    if (F.size() != 8 || F[3].getAsInteger(16, Flags) || !(Flags & kAcceptConn) ||
        F[4].getAsInteger(16, Type) || Type != SOCK_STREAM || !F[7].starts_with(Prefix))
      continue;
    std::string Name = F[7].drop_front().str();
    if (Name.size() < sizeof(sockaddr_un::sun_path) && Seen.insert(Name).second)
      Out.push_back(Name);
  }
  return Out;
}

/// Connects to the abstract name `Name`; -1 if nothing listens there.
/// `Peer` gets the listener's credentials as the kernel recorded them.
static int connectTo(const std::string &Name, ucred &Peer, unsigned TimeoutMs) {
  sockaddr_un Addr;
  if (Name.size() + 1 > sizeof Addr.sun_path)
    return -1;
  int Fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (Fd < 0)
    return -1;
  // A stopped or hung process must not stop us talking to the others.
  timeval T = {time_t(TimeoutMs / 1000), suseconds_t(TimeoutMs % 1000 * 1000)};
  setsockopt(Fd, SOL_SOCKET, SO_RCVTIMEO, &T, sizeof T);
  setsockopt(Fd, SOL_SOCKET, SO_SNDTIMEO, &T, sizeof T);
  memset(&Addr, 0, sizeof Addr);
  Addr.sun_family = AF_UNIX;
  memcpy(Addr.sun_path + 1, Name.data(), Name.size());
  socklen_t Len = socklen_t(offsetof(sockaddr_un, sun_path) + 1 + Name.size());
  socklen_t CredLen = sizeof Peer;
  if (connect(Fd, reinterpret_cast<sockaddr *>(&Addr), Len) != 0 ||
      getsockopt(Fd, SOL_SOCKET, SO_PEERCRED, &Peer, &CredLen) != 0) {
    close(Fd);
    return -1;
  }
  return Fd;
}

/// One request and its reply line from the listener `Name` if it is this
/// user's (and process `Pid`'s, unless 0); "" otherwise. `Peer` gets who
/// listens.
static std::string askOnce(const std::string &Name, const std::string &Request,
                           unsigned TimeoutMs, int Pid, ucred &Peer) {
  Peer = ucred{0, uid_t(-1), gid_t(-1)};
  int Fd = connectTo(Name, Peer, TimeoutMs);
  if (Fd < 0)
    return "";
  std::string Reply;
  // Another user's listener is never told anything: a patch path or an
  // event is this user's business.
  if (Peer.uid == getuid() && (Pid == 0 || Peer.pid == Pid)) {
    std::string Line = Request + "\n";
    // MSG_NOSIGNAL: a process that answers and closes before reading the
    // request (it is busy) must not end this one with SIGPIPE.
    if (send(Fd, Line.data(), Line.size(), MSG_NOSIGNAL) == ssize_t(Line.size())) {
      char Buf[512];
      ssize_t N;
      while (Reply.find('\n') == std::string::npos && Reply.size() < 65536 &&
             (N = read(Fd, Buf, sizeof Buf)) > 0)
        Reply.append(Buf, N);
      Reply = Reply.substr(0, Reply.find('\n'));
    }
  }
  close(Fd);
  return Reply;
}

static std::string askRetrying(const std::string &Socket, const std::string &Request,
                               unsigned TimeoutMs, int Pid, ucred &Peer) {
  // A process serving as many clients as it will says so at once; those
  // clients are cut off within seconds, so ask again for a while.
  std::string Reply;
  for (int Try = 0; Try < 60; ++Try) {
    Reply = askOnce(Socket, Request, TimeoutMs, Pid, Peer);
    if (!StringRef(Reply).starts_with("error busy"))
      break;
    usleep(100 * 1000);
  }
  return Reply;
}

std::string askProcess(const std::string &Socket, const std::string &Request,
                       unsigned TimeoutMs, int Pid) {
  ucred Peer;
  return askRetrying(Socket, Request, TimeoutMs, Pid, Peer);
}

std::string controlSocketOf(int Pid) {
  char Own[96];
  snprintf(Own, sizeof Own, HOTPATCH_CONTROL_NAME_FORMAT, unsigned(getuid()), Pid);
  auto IsIt = [&](const std::string &Name) {
    ucred Peer;
    int Fd = connectTo(Name, Peer, 1000);
    if (Fd < 0)
      return false;
    close(Fd);
    return Peer.uid == getuid() && Peer.pid == Pid;
  };
  if (IsIt(Own))
    return Own;
  // Its name was taken (then it added a random suffix), or it lives in
  // another pid namespace and named itself after a pid we do not see.
  std::string Error;
  for (const std::string &Name : listeningNames(Error))
    if (Name != Own && IsIt(Name))
      return Name;
  return "";
}

/// Asks the listener Name who it is ("hello"), and files the answer in Scan.
static void greet(const std::string &Name, ProcessScan &Scan) {
  ucred Peer;
  std::string Hello = askRetrying(Name, "hello", 2000, 0, Peer);
  if (Peer.uid != uid_t(-1) && Peer.uid != getuid()) {
    Scan.Impostors.push_back("@" + Name + " (uid " + std::to_string(Peer.uid) + ")");
    return;
  }
  SmallVector<StringRef, 5> Words;
  StringRef(Hello).split(Words, ' ');
  unsigned Version = 0;
  if (Words.size() < 2 || Words[0] != "hotpatch" || Words[1].getAsInteger(10, Version))
    return; // gone meanwhile, or not the runtime
  if (Version != HOTPATCH_CONTROL_VERSION) {
    Scan.OtherVersions.push_back(std::to_string(Peer.pid) + " (version " +
                                 std::to_string(Version) + ")");
    return;
  }
  unsigned Applied = 0;
  if (Words.size() != 5 || Words[4].getAsInteger(10, Applied))
    return;
  Scan.Processes.push_back({int(Peer.pid), Name, Words[3].str(), Applied});
}

ProcessScan scanProcesses() {
  ProcessScan Scan;
  for (const std::string &Name : listeningNames(Scan.Error))
    greet(Name, Scan);
  return Scan;
}

std::vector<RunningProcess> listRunningProcesses() { return scanProcesses().Processes; }

std::string whyNoProcessListens(const ProcessScan &Scan) {
  if (!Scan.Error.empty())
    return Scan.Error;
  std::string Why;
  if (!Scan.Impostors.empty())
    Why += "ignored " + std::to_string(Scan.Impostors.size()) +
           " socket(s) named for this user but opened by another user (" +
           join(Scan.Impostors, ", ") + "); ";
  if (!Scan.OtherVersions.empty())
    Why += "process(es) " + join(Scan.OtherVersions, ", ") +
           " speak another control protocol than this hotpatch (version " +
           std::to_string(HOTPATCH_CONTROL_VERSION) +
           "): use the hotpatch of the build they are linked with; ";
  return Why + "no program of this user listens on @" + namePrefix() +
         "*: are they running, linked with libhotpatch, started without "
         "HOTPATCH_DISABLE, and in this network namespace?";
}

std::vector<RunningProcess> processesOfBuild(const std::string &BuildId) {
  std::vector<RunningProcess> Out;
  if (BuildId.empty())
    return Out;
  for (RunningProcess &P : listRunningProcesses())
    if (StringRef(P.BuildId).starts_with(BuildId))
      Out.push_back(std::move(P));
  return Out;
}

std::vector<RunningProcess> processesOfBuild(const std::string &BuildId,
                                             KnownProcesses &Known) {
  std::vector<RunningProcess> Out;
  if (BuildId.empty())
    return Out;
  std::string Error;
  KnownProcesses Now;
  ProcessScan New;
  for (const std::string &Name : listeningNames(Error)) {
    auto It = Known.find(Name);
    if (It != Known.end())
      Now.insert(*It);
    else
      greet(Name, New);
  }
  for (RunningProcess &P : New.Processes)
    Now[P.Socket] = P;
  Known.swap(Now);
  for (const auto &[Name, P] : Known)
    if (StringRef(P.BuildId).starts_with(BuildId))
      Out.push_back(P);
  return Out;
}

std::string buildIdOfPatch(const std::string &Path) {
  auto Buf = MemoryBuffer::getFile(Path);
  if (!Buf || (*Buf)->getBufferSize() < sizeof(hotpatch_patch_header))
    return "";
  hotpatch_patch_header H;
  memcpy(&H, (*Buf)->getBufferStart(), sizeof H);
  return toHex(ArrayRef<uint8_t>(H.build_id, std::min<uint32_t>(H.build_id_size, 20)),
               /*LowerCase=*/true);
}

ApplyReply applyPatchTo(const RunningProcess &P, const std::string &PatchPath) {
  ApplyReply R;
  R.Text = askProcess(P.Socket, "apply " + PatchPath, /*TimeoutMs=*/30000, P.Pid);
  if (R.Text.empty()) {
    R.Text = "process " + std::to_string(P.Pid) + " did not answer";
    return R;
  }
  R.Answered = true;
  SmallVector<StringRef, 6> W;
  StringRef(R.Text).split(W, ' ');
  if (W[0] == "ok" && W.size() == 6) {
    R.Ok = true;
    W[1].getAsInteger(10, R.ChainIndex);
    W[2].getAsInteger(10, R.Functions);
    R.CheckMs = std::strtod(W[3].str().c_str(), nullptr);
    R.MapMs = std::strtod(W[4].str().c_str(), nullptr);
    R.TotalMs = std::strtod(W[5].str().c_str(), nullptr);
  }
  return R;
}

bool refusedAsOtherBuild(const ApplyReply &R) {
  return R.Answered && !R.Ok && StringRef(R.Text).starts_with("error wrong build:");
}

} // namespace hotpatch
