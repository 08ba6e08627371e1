//===- hotpatch_cli.cpp - the hotpatch command ----------------------------===//
//
//   hotpatch apply --pid <pid> <patch>   send a patch to one process
//   hotpatch apply --all <patch>         to every running process of the
//                                        build the patch was made for
//   hotpatch list                        the processes listening for patches
//   hotpatch dev [-p dir] -- prog args   watch, recompile, patch (DevLoop.cpp)
//   hotpatch compile [-p dir] files      compile as hotpatch dev does
//                                        (ResidentCompile.cpp)
//
// Talks to the runtime's control socket (the protocol:
// runtime/include/hotpatch/control_protocol.h) and prints what each process
// answered.
//
//===----------------------------------------------------------------------===//
#include "ControlClient.h"
#include "DevLoop.h"
#include "ResidentCompile.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <string>
#include <vector>

using namespace llvm;

namespace {

using namespace hotpatch;

int usage() {
  errs() << "usage: hotpatch apply --pid <pid> <patch>\n"
            "       hotpatch apply --all <patch>\n"
            "       hotpatch list\n"
            "       hotpatch dev [-p <build dir>] [--no-restart] [--no-resident-compiler]\n"
            "                    [--keep-preambles <n>] [--stats] -- <program> [args...]\n"
            "       hotpatch compile [-p <build dir>] [--preamble] <source>...\n";
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
    else if (Args[I] == "--no-resident-compiler")
      O.Resident = false;
    else if (Args[I] == "--stats")
      O.Stats = true;
    else if (Args[I] == "--keep-preambles" && I + 1 < Args.size()) {
      if (StringRef(Args[++I]).getAsInteger(10, O.KeepPreambles)) {
        errs() << "hotpatch dev: error: --keep-preambles takes a number, not '" << Args[I]
               << "'\n";
        return 2;
      }
    } else
      return usage();
  }
  // HOTPATCH_RESIDENT_COMPILER=0 in the environment: every compile runs its
  // command, as with --no-resident-compiler.
  if (const char *E = getenv("HOTPATCH_RESIDENT_COMPILER"))
    if (StringRef(E) == "0" || StringRef(E) == "off")
      O.Resident = false;
  O.Program.assign(Args.begin() + I, Args.end());
  if (O.Program.empty())
    return usage();
  return runDev(O);
}

int compileMain(const std::vector<std::string> &Args) {
  CompileOptions O;
  for (size_t I = 1; I < Args.size(); ++I) {
    if (Args[I] == "-p" && I + 1 < Args.size())
      O.BuildDir = Args[++I];
    else if (Args[I] == "--preamble")
      O.Preamble = true;
    else if (StringRef(Args[I]).starts_with("-"))
      return usage();
    else
      O.Sources.push_back(Args[I]);
  }
  if (O.Sources.empty())
    return usage();
  return runCompile(O);
}

int applyTo(const RunningProcess &P, const std::string &Patch,
            const ApplyReply *Done = nullptr) {
  ApplyReply R = Done ? *Done : applyPatchTo(P, Patch);
  if (!R.Answered) {
    errs() << "hotpatch: error: " << R.Text << "\n";
    return 1;
  }
  if (R.Ok) {
    outs() << formatv("process {0}: applied patch {1}, {2} functions, in {3:F3} ms "
                      "(check {4:F3} ms, map {5:F3} ms)\n",
                      P.Pid, R.ChainIndex, R.Functions, R.TotalMs, R.CheckMs, R.MapMs);
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
  if (Args[0] == "compile")
    return compileMain(Args);
  if (Args[0] == "list") {
    ProcessScan Scan = scanProcesses();
    for (const RunningProcess &P : Scan.Processes)
      outs() << P.Pid << " build " << P.BuildId << ", " << P.Applied
             << " patches applied\n";
    if (!Scan.Processes.empty())
      return 0;
    errs() << "hotpatch: no process is listening for patches: " << whyNoProcessListens(Scan)
           << "\n";
    // A socket table we cannot read is a problem to fix, not an empty list.
    return Scan.Error.empty() ? 0 : 1;
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
    std::string Socket = controlSocketOf(Pid);
    if (Socket.empty()) {
      errs() << "hotpatch: error: process " << Pid
             << " of this user is not listening for patches: is it running as this "
                "user, linked with libhotpatch, and started without HOTPATCH_DISABLE?\n";
      return 1;
    }
    return applyTo(RunningProcess{Pid, Socket, "", 0}, Patch);
  }
  std::string Id = buildIdOfPatch(Patch);
  if (Id.empty()) {
    errs() << "hotpatch: error: cannot read the patch '" << Patch << "'\n";
    return 1;
  }
  int Failures = 0, Matched = 0, NotLoaded = 0;
  for (const RunningProcess &P : processesOfBuild(Id)) {
    ++Matched;
    Failures += applyTo(P, Patch);
  }
  if (!Matched) {
    // Not a program's build: a shared library's patch goes to every
    // process that has that library loaded.
    for (const RunningProcess &P : listRunningProcesses()) {
      ApplyReply R = applyPatchTo(P, Patch);
      if (refusedAsOtherBuild(R)) {
        ++NotLoaded;
        continue;
      }
      ++Matched;
      Failures += applyTo(P, Patch, &R);
    }
    if (Matched && NotLoaded)
      outs() << NotLoaded << " other process" << (NotLoaded == 1 ? " has" : "es have")
             << " not loaded the library; a process that loads it later applies the "
                "patch then\n";
  }
  if (!Matched) {
    errs() << "hotpatch: error: no running process is of build " << Id
           << " or has loaded a library of that build";
    ProcessScan Scan = scanProcesses();
    if (Scan.Processes.empty())
      errs() << " (" << whyNoProcessListens(Scan) << ")";
    errs() << "\n";
    return 1;
  }
  return Failures ? 1 : 0;
}
