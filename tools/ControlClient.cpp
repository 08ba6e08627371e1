//===- ControlClient.cpp - talk to running programs' control sockets ------===//
#include "ControlClient.h"

#include "hotpatch/patch_format.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace llvm;

namespace hotpatch {

std::string controlSocketDir() {
  char Dir[64];
  snprintf(Dir, sizeof Dir, HOTPATCH_SOCKET_DIR_FORMAT, unsigned(getuid()));
  return Dir;
}

std::string controlSocketOf(int Pid) {
  std::string S = controlSocketDir() + "/" + std::to_string(Pid) + ".sock";
  return sys::fs::exists(S) ? S : "";
}

static std::string askOnce(const std::string &Socket, const std::string &Request,
                           unsigned TimeoutMs) {
  int Fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (Fd < 0)
    return "";
  // A stopped or hung process must not stop us talking to the others.
  timeval T = {time_t(TimeoutMs / 1000), suseconds_t(TimeoutMs % 1000 * 1000)};
  setsockopt(Fd, SOL_SOCKET, SO_RCVTIMEO, &T, sizeof T);
  setsockopt(Fd, SOL_SOCKET, SO_SNDTIMEO, &T, sizeof T);
  sockaddr_un Addr;
  memset(&Addr, 0, sizeof Addr);
  Addr.sun_family = AF_UNIX;
  strncpy(Addr.sun_path, Socket.c_str(), sizeof Addr.sun_path - 1);
  std::string Reply;
  if (connect(Fd, reinterpret_cast<sockaddr *>(&Addr), sizeof Addr) == 0) {
    std::string Line = Request + "\n";
    // MSG_NOSIGNAL: a process that answers and closes before reading the
    // request (it is busy) must not end this one with SIGPIPE.
    if (send(Fd, Line.data(), Line.size(), MSG_NOSIGNAL) == ssize_t(Line.size())) {
      char Buf[512];
      ssize_t N;
      while (Reply.find('\n') == std::string::npos && (N = read(Fd, Buf, sizeof Buf)) > 0)
        Reply.append(Buf, N);
      Reply = Reply.substr(0, Reply.find('\n'));
    }
  }
  close(Fd);
  return Reply;
}

std::string askProcess(const std::string &Socket, const std::string &Request,
                       unsigned TimeoutMs) {
  // A process serving as many clients as it will says so at once; those
  // clients are cut off within seconds, so ask again for a while.
  std::string Reply;
  for (int Try = 0; Try < 60; ++Try) {
    Reply = askOnce(Socket, Request, TimeoutMs);
    if (!StringRef(Reply).starts_with("error busy"))
      break;
    usleep(100 * 1000);
  }
  return Reply;
}

std::vector<RunningProcess> listRunningProcesses() {
  std::vector<RunningProcess> Out;
  std::error_code EC;
  for (sys::fs::directory_iterator It(controlSocketDir(), EC), End; It != End && !EC;
       It.increment(EC)) {
    StringRef Name = sys::path::filename(It->path());
    if (!Name.consume_back(".sock"))
      continue;
    int Pid;
    if (Name.getAsInteger(10, Pid))
      continue;
    if (kill(Pid, 0) != 0 && errno == ESRCH) {
      ::unlink(It->path().c_str()); // the process is gone (fs::remove skips sockets)
      continue;
    }
    std::string Hello = askProcess(It->path(), "hello");
    SmallVector<StringRef, 5> Words;
    StringRef(Hello).split(Words, ' ');
    if (Words.size() != 5 || Words[0] != "hotpatch")
      continue;
    unsigned Applied = 0;
    Words[4].getAsInteger(10, Applied);
    Out.push_back({Pid, It->path(), Words[3].str(), Applied});
  }
  return Out;
}

static std::string octal(unsigned Mode) {
  char Buf[8];
  snprintf(Buf, sizeof Buf, "%03o", Mode);
  return Buf;
}

bool controlSocketDirIsPrivate() {
  struct stat St;
  return lstat(controlSocketDir().c_str(), &St) == 0 && S_ISDIR(St.st_mode) &&
         St.st_uid == getuid() && !(St.st_mode & 077);
}

std::string whyNoProcessListens() {
  std::string Dir = controlSocketDir();
  struct stat St;
  if (lstat(Dir.c_str(), &St) != 0)
    return Dir + " does not exist: no program linked with libhotpatch has run as "
                 "this user since the machine started";
  if (!S_ISDIR(St.st_mode) || St.st_uid != getuid() || (St.st_mode & 077))
    return Dir + " is not a private directory of this user (owner uid " +
           std::to_string(St.st_uid) + ", mode " + octal(St.st_mode & 0777) +
           "): programs refuse to listen there, so that no other "
           "user can send them patches; remove it (another user may have made it to "
           "block patching) and restart the programs";
  return "no program listens in " + Dir +
         ": are they running, linked with libhotpatch, and started without "
         "HOTPATCH_DISABLE?";
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
  R.Text = askProcess(P.Socket, "apply " + PatchPath, /*TimeoutMs=*/30000);
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

} // namespace hotpatch
