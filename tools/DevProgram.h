//===- DevProgram.h - the program hotpatch dev runs, and its processes ----===//
//
// What talks to processes: starting and stopping hotpatch dev's own
// instance of the program, noticing that it exited, the build-id of the
// program on disk, events announced to every process of that build, and a
// patch sent to each of them. It knows nothing of compiles or links.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_DEVPROGRAM_H
#define HOTPATCH_TOOLS_DEVPROGRAM_H

#include "ControlClient.h"

#include "llvm/Support/Program.h"

#include <functional>
#include <string>
#include <vector>

namespace hotpatch {

class DevProgram {
public:
  using Say = std::function<void(const std::string &)>;
  DevProgram(std::vector<std::string> Argv, std::string Path, Say S)
      : Argv(std::move(Argv)), Path(std::move(Path)), SayLine(std::move(S)) {}

  /// Starts the program and waits (up to 1 s) for its runtime to listen.
  bool start(size_t WatchedFiles);
  void stop();
  bool running() const { return Running; }
  int pid() const { return Child.Pid; }
  /// Whether the program's process listens for patches.
  bool listens() const;
  /// Whether it listened once started (then a listing that misses it is
  /// looked at again before it counts as gone).
  bool listenedAtStart() const { return ListenedAtStart; }
  /// Notices (and says) that the program exited or crashed.
  void checkExited();

  /// The build-id (hex) of the program on disk, read once per build from
  /// its module cache; forget() after a rebuild.
  std::string buildId();
  void setBuildId(std::string Hex) { BuildIdHex = std::move(Hex); }
  void forgetBuildId() { BuildIdHex.clear(); }

  /// Sends "event <Event> <Message>" to every process of the program's
  /// build (To: those listed already).
  void announce(const std::string &Event, const std::string &Message = "",
                const std::vector<RunningProcess> *To = nullptr);

private:
  std::vector<std::string> Argv;
  std::string Path;
  Say SayLine;
  llvm::sys::ProcessInfo Child;
  bool Running = false;
  bool ListenedAtStart = false;
  std::string BuildIdHex;
};

/// What sending one patch to the processes of its build did.
struct ApplyOutcome {
  unsigned Applied = 0;
  unsigned Waiting = 0;     // a library's patch: the process has not loaded it yet
  bool OwnRefused = false;  // hotpatch dev's own instance refused it
  double Ms = 0;            // the slowest process's apply
};
ApplyOutcome applyToProcesses(const std::vector<RunningProcess> &Procs,
                              const std::string &Patch, bool ForLibrary, int OwnPid,
                              const DevProgram::Say &SayLine);

} // namespace hotpatch

#endif
