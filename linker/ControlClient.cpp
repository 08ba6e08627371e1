//===- ControlClient.cpp - talk to running programs' control sockets ------===//
#include "ControlClient.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace llvm;

namespace hotpatch {

std::string controlSocketDir() { return "/tmp/hotpatch-" + std::to_string(getuid()); }

std::string controlSocketOf(int Pid) {
  std::string S = controlSocketDir() + "/" + std::to_string(Pid) + ".sock";
  return sys::fs::exists(S) ? S : "";
}

std::string askProcess(const std::string &Socket, const std::string &Request) {
  int Fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (Fd < 0)
    return "";
  sockaddr_un Addr;
  memset(&Addr, 0, sizeof Addr);
  Addr.sun_family = AF_UNIX;
  strncpy(Addr.sun_path, Socket.c_str(), sizeof Addr.sun_path - 1);
  std::string Reply;
  if (connect(Fd, reinterpret_cast<sockaddr *>(&Addr), sizeof Addr) == 0) {
    std::string Line = Request + "\n";
    if (write(Fd, Line.data(), Line.size()) == ssize_t(Line.size())) {
      char C;
      while (read(Fd, &C, 1) == 1 && C != '\n')
        Reply += C;
    }
  }
  close(Fd);
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

ApplyReply applyPatchTo(const RunningProcess &P, const std::string &PatchPath) {
  ApplyReply R;
  R.Text = askProcess(P.Socket, "apply " + PatchPath);
  if (R.Text.empty()) {
    R.Text = "process " + std::to_string(P.Pid) + " did not answer";
    return R;
  }
  SmallVector<StringRef, 6> W;
  StringRef(R.Text).split(W, ' ');
  if (W[0] == "ok" && W.size() == 6) {
    R.Ok = true;
    W[1].getAsInteger(10, R.ChainIndex);
    W[2].getAsInteger(10, R.Functions);
    R.TotalMs = std::strtod(W[5].str().c_str(), nullptr);
  }
  return R;
}

} // namespace hotpatch
