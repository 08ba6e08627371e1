//===- ResidentCompiler.h - compile commands in this process --------------===//
//
// hotpatch dev's compiler: a compile command of compile_commands.json, run
// by Clang's frontend in this process rather than as a command, against a
// precompiled preamble of the file's include block kept in memory
// (Preambles.h). The result is the object the command would have made: the
// same invocation (Invocation.h), the same plugins with the same arguments
// in the same pipeline (Plugins.h). The object is written where the build
// expects it, atomically (a temporary file renamed into place: a build or a
// thin link reading it never sees half an object).
//
// Commands it cannot honour are not compiled here: compile() says why, and
// the caller runs the command.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_COMPILER_RESIDENTCOMPILER_H
#define HOTPATCH_COMPILER_RESIDENTCOMPILER_H

#include "Invocation.h"
#include "Plugins.h"
#include "Preambles.h"

#include "llvm/Support/raw_ostream.h"

#include <map>
#include <memory>
#include <set>
#include <string>

namespace hotpatch {

struct ResidentOptions {
  unsigned KeepPreambles = 4; // 0: no preambles, every compile parses everything
};

struct CompileResult {
  enum Kind {
    Compiled,    // the object is written
    Failed,      // compile errors, printed as clang prints them
    NotResident, // Reason says why; run the command instead
  } Outcome = NotResident;
  std::string Reason;
  enum PreambleUse { None, Reused, Stale } Preamble = None;
  std::string StaleBecause; // when Preamble == Stale
  double PreambleCheckMs = 0; // finding and checking the kept preamble
  /// Every file the compile read (absolute), the preamble's included.
  std::set<std::string> Files;
  double Ms = 0;
};

class ResidentCompiler {
public:
  explicit ResidentCompiler(ResidentOptions Opts);
  ~ResidentCompiler();

  /// Compiles C in process; diagnostics go to Diags (colours as the
  /// command's options say).
  CompileResult compile(const CompileCommandLine &C, llvm::raw_ostream &Diags);

  /// Builds the preamble of C on the worker thread, if there is none yet:
  /// so that the first save of a recently edited file is fast too.
  void prepare(const CompileCommandLine &C);

  /// Builds the preamble of C now, in this thread. Err says why not.
  bool preambleNow(const CompileCommandLine &C, std::string &Err);

  /// Rebuilds, on the worker thread, the kept preambles an edit made stale.
  void refreshPreambles() { Preambles.rebuildStale(); }

  std::vector<PreambleStat> preambleStats() { return Preambles.stats(); }

private:
  llvm::Expected<ResidentInvocation> invocation(const CompileCommandLine &C);

  ResidentOptions Opts;
  LoadedPlugins Plugins;
  std::mutex InvocationsLock;
  std::map<std::string, ResidentInvocation> Invocations; // by commandKey
  PreambleStore Preambles;
};

/// This process's resident memory in bytes (/proc/self/statm).
uint64_t residentMemory();

} // namespace hotpatch

#endif
