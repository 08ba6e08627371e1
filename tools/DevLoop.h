//===- DevLoop.h - hotpatch dev: save a file, the running program changes --===//
#ifndef HOTPATCH_TOOLS_DEVLOOP_H
#define HOTPATCH_TOOLS_DEVLOOP_H

#include <string>
#include <vector>

namespace hotpatch {

struct DevOptions {
  std::string BuildDir = ".";       // holds compile_commands.json
  bool Restart = true;              // rebuild and restart when a change cannot be patched
  bool Resident = true;             // compile in process (compiler/), else run each command
  unsigned KeepPreambles = 4;       // preambles of the most recently edited files kept
  bool Stats = false;               // after each change: memory and preambles
  std::vector<std::string> Program; // the program and its arguments
};

/// Runs `hotpatch dev` until interrupted (SIGINT/SIGTERM). Returns the exit
/// code.
int runDev(const DevOptions &Opts);

} // namespace hotpatch

#endif
