//===- hotpatch_cli.cpp - the hotpatch command ----------------------------===//
//
//   hotpatch apply --pid <pid> <patch>   send a patch to one process
//   hotpatch apply --all <patch>         to every running process of the
//                                        build the patch was made for
//   hotpatch list                        the processes listening for patches
//
// Talks to the runtime's control socket (runtime/src/server_linux.cpp has
// the protocol) and prints what each process answered.
//
//===----------------------------------------------------------------------===//
#include "hotpatch/patch_format.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using namespace llvm;

namespace {

std::string socketDir() { return "/tmp/hotpatch-" + std::to_string(getuid()); }

/// One request, one reply line; "" when the process does not answer.
std::string ask(const std::string &Socket, const std::string &Request) {
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

struct Process {
  int Pid;
  std::string Socket, BuildId;
  unsigned Applied;
};

std::vector<Process> listProcesses() {
  std::vector<Process> Out;
  std::error_code EC;
  for (sys::fs::directory_iterator It(socketDir(), EC), End; It != End && !EC;
       It.increment(EC)) {
    StringRef Name = sys::path::filename(It->path());
    if (!Name.consume_back(".sock"))
      continue;
    int Pid;
    if (Name.getAsInteger(10, Pid))
      continue;
    if (kill(Pid, 0) != 0 && errno == ESRCH) {
      sys::fs::remove(It->path()); // the process is gone
      continue;
    }
    std::string Hello = ask(It->path(), "hello");
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

int usage() {
  errs() << "usage: hotpatch apply --pid <pid> <patch>\n"
            "       hotpatch apply --all <patch>\n"
            "       hotpatch list\n";
  return 2;
}

int applyTo(const Process &P, const std::string &Patch) {
  std::string Reply = ask(P.Socket, "apply " + Patch);
  if (Reply.empty()) {
    errs() << "hotpatch: error: process " << P.Pid << " did not answer\n";
    return 1;
  }
  SmallVector<StringRef, 6> W;
  StringRef(Reply).split(W, ' ');
  if (W[0] == "ok" && W.size() == 6) {
    outs() << "process " << P.Pid << ": applied patch " << W[1] << ", " << W[2]
           << " functions, in " << W[5] << " ms (check " << W[3] << " ms, map "
           << W[4] << " ms)\n";
    return 0;
  }
  errs() << "process " << P.Pid << ": " << Reply << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM X(argc, argv);
  std::vector<std::string> Args(argv + 1, argv + argc);
  if (Args.empty())
    return usage();
  if (Args[0] == "list") {
    for (const Process &P : listProcesses())
      outs() << P.Pid << " build " << P.BuildId << ", " << P.Applied
             << " patches applied\n";
    return 0;
  }
  if (Args[0] != "apply")
    return usage();
  int Pid = 0;
  bool All = false;
  std::string Patch;
  for (size_t I = 1; I < Args.size(); ++I) {
    if (Args[I] == "--pid" && I + 1 < Args.size()) {
      if (StringRef(Args[++I]).getAsInteger(10, Pid))
        return usage();
    } else if (Args[I] == "--all") {
      All = true;
    } else if (Patch.empty() && !StringRef(Args[I]).starts_with("-")) {
      Patch = Args[I];
    } else {
      return usage();
    }
  }
  if (Patch.empty() || (All == (Pid != 0)))
    return usage();
  SmallString<256> Abs(Patch);
  sys::fs::make_absolute(Abs);
  Patch = std::string(Abs);

  if (!All) {
    std::string Socket = socketDir() + "/" + std::to_string(Pid) + ".sock";
    if (!sys::fs::exists(Socket)) {
      errs() << "hotpatch: error: process " << Pid
             << " is not listening for patches (" << Socket
             << " does not exist): is it running, linked with libhotpatch, and "
                "started without HOTPATCH_DISABLE?\n";
      return 1;
    }
    return applyTo({Pid, Socket, "", 0}, Patch);
  }
  auto Buf = MemoryBuffer::getFile(Patch);
  if (!Buf || (*Buf)->getBufferSize() < sizeof(hotpatch_patch_header)) {
    errs() << "hotpatch: error: cannot read the patch '" << Patch << "'\n";
    return 1;
  }
  hotpatch_patch_header H;
  memcpy(&H, (*Buf)->getBufferStart(), sizeof H);
  std::string Id = toHex(ArrayRef<uint8_t>(H.build_id, std::min<uint32_t>(H.build_id_size, 20)),
                         /*LowerCase=*/true);
  int Failures = 0, Matched = 0;
  for (const Process &P : listProcesses()) {
    if (P.BuildId.substr(0, Id.size()) != Id)
      continue;
    ++Matched;
    Failures += applyTo(P, Patch);
  }
  if (!Matched) {
    errs() << "hotpatch: error: no running process is of build " << Id << "\n";
    return 1;
  }
  return Failures ? 1 : 0;
}
