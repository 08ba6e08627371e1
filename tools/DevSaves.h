//===- DevSaves.h - which saves make a change, and when it is complete ----===//
//
// hotpatch dev's queue of saves: the files saved since the last change was
// taken, the files being written (a save in progress holds the change
// back), and whether the kernel lost events. A change is taken when a save
// is complete; one whose files changed again during its compile goes back
// in the queue, keeping its start time and compile time.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_DEVSAVES_H
#define HOTPATCH_TOOLS_DEVSAVES_H

#include "DevCommands.h"
#include "DevCompile.h"
#include "DevWatcher.h"

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace hotpatch {

using DevClock = std::chrono::steady_clock;

inline double msSince(DevClock::time_point T) {
  return std::chrono::duration<double, std::milli>(DevClock::now() - T).count();
}

/// One change: from the first save seen to the line that reports it.
struct Change {
  std::set<std::string> Saved;
  DevClock::time_point Since;
  unsigned Recompiles = 0;
  double CompileMs = 0;
  std::vector<CompileCommand *> Commands;
  std::map<CompileCommand *, DevCompileResult> Results;
};

/// --stats: one line a script can read. apply_ms is the runtime's own
/// figure (the slowest process); deliver_ms is the wall time of talking to
/// the processes: listing those of the build (a round trip to each process
/// of the user), announcing the patch, sending it and reading the replies.
/// other_ms is everything else from the save seen to the line: hotpatch
/// dev's own bookkeeping.
std::string timingLine(const Change &C, double LinkMs, double ApplyMs, double DeliverMs,
                       size_t Commands, size_t Watched);

class SaveQueue {
public:
  /// Adds what the watcher reported.
  void take(const FileEvents &E);
  /// Whether a change is complete: saves are waiting and no watched file is
  /// being written.
  bool ready() { return !Pending.empty() && !writingAny(); }
  bool empty() const { return Pending.empty(); }
  /// The change of the saves waiting; the queue is empty after.
  Change next();
  /// C's files changed during its compile: it is compiled again with the
  /// saves that come, counted as one more recompile.
  void retry(const Change &C);
  /// Events were lost and no file is being written any more: what changed
  /// is not known. Clears the queue and the flag.
  bool takeLostEvents();

private:
  bool writingAny();

  std::set<std::string> Pending; // saved, not compiled yet
  bool LostEvents = false;
  DevClock::time_point PendingSince;
  unsigned PendingRecompiles = 0;
  double PendingCompileMs = 0; // compiles dropped because their files changed
  std::map<std::string, DevClock::time_point> Writing; // written to, not closed
};

} // namespace hotpatch

#endif
