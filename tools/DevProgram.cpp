//===- DevProgram.cpp - the program hotpatch dev runs, and its processes --===//
#include "DevProgram.h"

#include "CacheView.h"
#include "ModuleCache.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace llvm;

namespace hotpatch {

bool DevProgram::start(size_t WatchedFiles) {
  std::vector<StringRef> Args(Argv.begin(), Argv.end());
  std::string Err;
  Child = sys::ExecuteNoWait(Path, Args, std::nullopt, {}, 0, &Err);
  if (Child.Pid <= 0) {
    errs() << "hotpatch dev: error: cannot start " << Path << ": " << Err << "\n";
    Running = false;
    return false;
  }
  Running = true;
  // The runtime's listener starts in a constructor; give it a moment.
  for (int I = 0; I < 200 && !listens(); ++I)
    usleep(5000);
  ListenedAtStart = listens();
  if (!ListenedAtStart)
    SayLine("warning: the program does not listen for patches: is it linked with "
            "libhotpatch (hotpatch_enable) and started without HOTPATCH_DISABLE?");
  else
    SayLine(("started " + sys::path::filename(Path) + " (pid " + Twine(Child.Pid) +
             "), watching " + Twine(WatchedFiles) + " files")
                .str());
  return true;
}

bool DevProgram::listens() const { return !controlSocketOf(Child.Pid).empty(); }

void DevProgram::stop() {
  if (!Running)
    return;
  kill(Child.Pid, SIGTERM);
  for (int I = 0; I < 200; ++I) {
    if (waitpid(Child.Pid, nullptr, WNOHANG) == Child.Pid) {
      Running = false;
      return;
    }
    usleep(10000);
  }
  kill(Child.Pid, SIGKILL);
  waitpid(Child.Pid, nullptr, 0);
  Running = false;
}

void DevProgram::checkExited() {
  int Status;
  if (!Running || waitpid(Child.Pid, &Status, WNOHANG) != Child.Pid)
    return;
  Running = false;
  if (WIFSIGNALED(Status))
    SayLine(("the program crashed (signal " + Twine(WTERMSIG(Status)) +
             "); it restarts after the next change")
                .str());
  else
    SayLine(("the program exited with status " + Twine(WEXITSTATUS(Status)) +
             "; it restarts after the next change")
                .str());
}

/// announce() and every change need the build-id: read once per build
/// (from the mapped cache the thin links use too).
std::string DevProgram::buildId() {
  if (BuildIdHex.empty()) {
    if (auto C = openCacheView(cachePathFor(Path)))
      BuildIdHex = toHex((*C)->image().BuildId, true);
    else
      consumeError(C.takeError());
  }
  return BuildIdHex;
}

void DevProgram::announce(const std::string &Event, const std::string &Message,
                          const std::vector<RunningProcess> *To) {
  // Only to processes of this program's build: other programs of the user
  // have their own hotpatch dev, or none.
  std::vector<RunningProcess> Listed;
  if (!To)
    To = &(Listed = processesOfBuild(buildId()));
  for (const RunningProcess &P : *To)
    askProcess(P.Socket, "event " + Event + (Message.empty() ? "" : " " + Message),
               /*TimeoutMs=*/2000, P.Pid);
}

ApplyOutcome applyToProcesses(const std::vector<RunningProcess> &Procs,
                              const std::string &Patch, bool ForLibrary, int OwnPid,
                              const DevProgram::Say &SayLine) {
  ApplyOutcome O;
  for (const RunningProcess &Proc : Procs) {
    ApplyReply R = applyPatchTo(Proc, Patch);
    if (ForLibrary && refusedAsOtherBuild(R)) {
      // Saved beside the library: applied when the process loads it.
      ++O.Waiting;
      continue;
    }
    if (!R.Ok) {
      SayLine(("process " + Twine(Proc.Pid) + " refused: " + R.Text).str());
      O.OwnRefused |= Proc.Pid == OwnPid;
      continue;
    }
    ++O.Applied;
    O.Ms = std::max(O.Ms, R.TotalMs);
  }
  return O;
}

} // namespace hotpatch
