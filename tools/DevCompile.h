//===- DevCompile.h - hotpatch dev's compiles ------------------------------===//
//
// One compile of one command: in this process by the resident compiler
// (compiler/), or, for a command it cannot honour, by running the command
// in its directory (said once per file, with the reason). Either way the
// object is written where the build expects it, and the result says what
// the compile read, so that the build graph follows the edit (a new
// #include is watched at once).
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_DEVCOMPILE_H
#define HOTPATCH_TOOLS_DEVCOMPILE_H

#include "DevCommands.h"
#include "ResidentCompiler.h"

#include <functional>
#include <memory>
#include <set>
#include <string>

namespace hotpatch {

struct DevCompileResult {
  bool Ok = false;
  bool InProcess = false;
  /// The object is byte for byte what the command writes: the command ran,
  /// or the resident compiler compiled without a preamble, or with one and
  /// without debug information (a preamble changes only the DWARF).
  bool SameAsCommand = false;
  double Ms = 0;
  std::set<std::string> Read; // every file the compile read; empty if unknown
};

/// Tells the build's Ninja that the object R wrote is up to date, when it is
/// what Cmd writes and the files it read are known (NinjaRecord.h).
/// Returns "" when recorded, else why not.
std::string recordInNinja(const CompileCommand &Cmd, const DevCompileResult &R);

class DevCompiler {
public:
  using Say = std::function<void(const std::string &)>;
  DevCompiler(bool Resident, unsigned KeepPreambles, Say S);

  DevCompileResult compile(const CompileCommand &C);

  /// The preambles of the KeepPreambles sources modified last, built in the
  /// background before the first save.
  void preparePreambles(const std::deque<CompileCommand> &Commands);

  /// After a patch is out: preambles the change made stale are rebuilt.
  void refreshPreambles();

  /// --stats: memory, how the last compile went, the kept preambles.
  void printStats();

private:
  DevCompileResult runCommand(const CompileCommand &C);

  std::unique_ptr<ResidentCompiler> Compiler; // null: --no-resident-compiler
  unsigned KeepPreambles;
  Say SayLine;
  std::set<std::string> SaidRunsCommand; // sources whose command runs, said once
  CompileResult LastResident;
  bool LastInProcess = false;
};

} // namespace hotpatch

#endif
