//===- hotpatch_cli.cpp - the hotpatch command ----------------------------===//
//
//   hotpatch apply --pid <pid> <patch>   send a patch to one process
//   hotpatch apply --all <patch>         to every running process of the
//                                        build the patch was made for
//   hotpatch list                        the processes listening for patches
//   hotpatch dev [-p dir] -- prog args   watch, recompile, patch (DevLoop.cpp)
//
// Talks to the runtime's control socket (runtime/src/server_linux.cpp has
// the protocol) and prints what each process answered.
//
//===----------------------------------------------------------------------===//
#include "ControlClient.h"
#include "DevLoop.h"
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

using namespace hotpatch;

int usage() {
  errs() << "usage: hotpatch apply --pid <pid> <patch>\n"
            "       hotpatch apply --all <patch>\n"
            "       hotpatch list\n"
            "       hotpatch dev [-p <build dir>] [--no-restart] -- <program> [args...]\n";
  return 2;
}

int devMain(const std::vector<std::string> &Args) {
  DevOptions O;
  size_t I = 1;
  for (; I < Args.size(); ++I) {
    if (Args[I] == "--") {
      ++I;
      break;
    }
    if (Args[I] == "-p" && I + 1 < Args.size())
      O.BuildDir = Args[++I];
    else if (Args[I] == "--no-restart")
      O.Restart = false;
    else
      return usage();
  }
  O.Program.assign(Args.begin() + I, Args.end());
  if (O.Program.empty())
    return usage();
  return runDev(O);
}

int applyTo(const RunningProcess &P, const std::string &Patch) {
  ApplyReply R = applyPatchTo(P, Patch);
  if (R.Text.find("did not answer") != std::string::npos) {
    errs() << "hotpatch: error: " << R.Text << "\n";
    return 1;
  }
  SmallVector<StringRef, 6> W;
  StringRef(R.Text).split(W, ' ');
  if (R.Ok) {
    outs() << "process " << P.Pid << ": applied patch " << W[1] << ", " << W[2]
           << " functions, in " << W[5] << " ms (check " << W[3] << " ms, map "
           << W[4] << " ms)\n";
    return 0;
  }
  errs() << "process " << P.Pid << ": " << R.Text << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM X(argc, argv);
  std::vector<std::string> Args(argv + 1, argv + argc);
  if (Args.empty())
    return usage();
  if (Args[0] == "dev")
    return devMain(Args);
  if (Args[0] == "list") {
    for (const RunningProcess &P : listRunningProcesses())
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
    std::string Socket = controlSocketDir() + "/" + std::to_string(Pid) + ".sock";
    if (!sys::fs::exists(Socket)) {
      errs() << "hotpatch: error: process " << Pid
             << " is not listening for patches (" << Socket
             << " does not exist): is it running, linked with libhotpatch, and "
                "started without HOTPATCH_DISABLE?\n";
      return 1;
    }
    return applyTo(RunningProcess{Pid, Socket, "", 0}, Patch);
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
  for (const RunningProcess &P : listRunningProcesses()) {
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
