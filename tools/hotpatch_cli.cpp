//===- hotpatch_cli.cpp - the hotpatch command ----------------------------===//
//
//   hotpatch apply --pid <pid> <patch>   send a patch to one process
//   hotpatch apply --all <patch>         to every running process of the
//                                        build the patch was made for
//   hotpatch list                        the processes listening for patches
//   hotpatch dev [-p dir] -- prog args   watch, recompile, patch
//   hotpatch compile [-p dir] files      compile as hotpatch dev does
//
// Talks to the runtime's control socket (the protocol:
// runtime/include/hotpatch/control_protocol.h) and prints what each process
// answered.
//
// This program is plain C++ and POSIX, like the runtime: an apply is a
// tenth of a millisecond in the process, and loading libLLVM and
// libclang-cpp took a hundred times that. dev and compile need Clang, lld
// and the thin link: they are a second program, hotpatch-dev (hotpatch_dev.cpp),
// found relative to this one and exec'd with the same arguments.
//
//===----------------------------------------------------------------------===//
#include "ControlClient.h"
#include "Usage.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace hotpatch;

int usage() {
  fputs(kUsage, stderr);
  return kUsageExit;
}

/// Where hotpatch-dev lies, relative to the directory of this program: in
/// an install (HOTPATCH_DEV_FROM_BIN, from CMake's install directories) and
/// in the build tree (HOTPATCH_DEV_FROM_BUILD_BIN).
const char *const kDevCandidates[] = {HOTPATCH_DEV_FROM_BIN, HOTPATCH_DEV_FROM_BUILD_BIN};

/// Runs hotpatch-dev with this process's arguments in its place (same pid:
/// signals to `hotpatch dev` reach the dev loop). Returns only on failure.
int execDev(char **argv) {
  char Self[PATH_MAX];
  ssize_t N = readlink("/proc/self/exe", Self, sizeof Self - 1);
  if (N <= 0) {
    fprintf(stderr, "hotpatch: error: cannot find hotpatch-dev, which runs '%s': "
                    "/proc/self/exe is unreadable (%s)\n", argv[1], strerror(errno));
    return 1;
  }
  std::string Dir(Self, size_t(N));
  Dir.erase(Dir.rfind('/') + 1);
  std::string Tried;
  for (const char *Rel : kDevCandidates) {
    std::string Path = Dir + Rel;
    if (access(Path.c_str(), X_OK) == 0) {
      argv[0] = const_cast<char *>(Path.c_str());
      execv(Path.c_str(), argv);
      fprintf(stderr, "hotpatch: error: cannot run %s: %s\n", Path.c_str(), strerror(errno));
      return 1;
    }
    if (Tried.find(Path) == std::string::npos)
      Tried += (Tried.empty() ? "" : " or ") + Path;
  }
  fprintf(stderr, "hotpatch: error: 'hotpatch %s' runs hotpatch-dev, which is not at %s: "
                  "install Hotpatch whole (cmake --install) or run the hotpatch of a build "
                  "tree\n", argv[1], Tried.c_str());
  return 1;
}

/// `Path` made absolute against the working directory (not resolved: the
/// process opens what this user named).
std::string absolute(const std::string &Path) {
  if (!Path.empty() && Path[0] == '/')
    return Path;
  std::string Cwd;
  for (size_t Size = 256; Size <= 65536; Size *= 2) {
    std::vector<char> Buf(Size);
    if (getcwd(Buf.data(), Size)) {
      Cwd = Buf.data();
      break;
    }
    if (errno != ERANGE)
      break;
  }
  if (Cwd.empty())
    return Path; // the process will say it cannot open a relative path
  return Cwd + (Cwd.back() == '/' ? "" : "/") + Path;
}

int applyTo(const RunningProcess &P, const std::string &Patch,
            const ApplyReply *Done = nullptr) {
  ApplyReply R = Done ? *Done : applyPatchTo(P, Patch);
  if (!R.Answered) {
    fprintf(stderr, "hotpatch: error: %s\n", R.Text.c_str());
    return 1;
  }
  if (R.Ok) {
    printf("process %d: applied patch %u, %u functions, in %.3f ms "
           "(check %.3f ms, map %.3f ms)\n",
           P.Pid, R.ChainIndex, R.Functions, R.TotalMs, R.CheckMs, R.MapMs);
    return 0;
  }
  fprintf(stderr, "process %d: %s\n", P.Pid, R.Text.c_str());
  return 1;
}

int listMain() {
  ProcessScan Scan = scanProcesses();
  for (const RunningProcess &P : Scan.Processes)
    printf("%d build %s, %u patches applied\n", P.Pid, P.BuildId.c_str(), P.Applied);
  if (!Scan.Processes.empty())
    return 0;
  fprintf(stderr, "hotpatch: no process is listening for patches: %s\n",
          whyNoProcessListens(Scan).c_str());
  // A socket table we cannot read is a problem to fix, not an empty list.
  return Scan.Error.empty() ? 0 : 1;
}

int applyMain(const std::vector<std::string> &Args) {
  int Pid = 0;
  bool All = false;
  std::string Patch;
  for (size_t I = 1; I < Args.size(); ++I) {
    if (Args[I] == "--pid" && I + 1 < Args.size()) {
      if (!parseInt(Args[++I], Pid))
        return usage();
    } else if (Args[I] == "--all") {
      All = true;
    } else if (Patch.empty() && Args[I].compare(0, 1, "-") != 0) {
      Patch = Args[I];
    } else {
      return usage();
    }
  }
  if (Patch.empty() || (All == (Pid != 0)))
    return usage();
  Patch = absolute(Patch);

  if (!All) {
    std::string Socket = controlSocketOf(Pid);
    if (Socket.empty()) {
      fprintf(stderr, "hotpatch: error: process %d of this user is not listening for "
                      "patches: is it running as this user, linked with libhotpatch, and "
                      "started without HOTPATCH_DISABLE?\n", Pid);
      return 1;
    }
    return applyTo(RunningProcess{Pid, Socket, "", 0}, Patch);
  }
  std::string Id = buildIdOfPatch(Patch);
  if (Id.empty()) {
    fprintf(stderr, "hotpatch: error: cannot read the patch '%s'\n", Patch.c_str());
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
      printf("%d other process%s not loaded the library; a process that loads it later "
             "applies the patch then\n", NotLoaded, NotLoaded == 1 ? " has" : "es have");
  }
  if (!Matched) {
    std::string Why;
    ProcessScan Scan = scanProcesses();
    if (Scan.Processes.empty())
      Why = " (" + whyNoProcessListens(Scan) + ")";
    fprintf(stderr, "hotpatch: error: no running process is of build %s or has loaded a "
                    "library of that build%s\n", Id.c_str(), Why.c_str());
    return 1;
  }
  return Failures ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> Args(argv + 1, argv + argc);
  if (Args.empty())
    return usage();
  if (Args[0] == "dev" || Args[0] == "compile")
    return execDev(argv);
  if (Args[0] == "list")
    return listMain();
  if (Args[0] == "apply")
    return applyMain(Args);
  return usage();
}
