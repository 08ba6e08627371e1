//===- ResidentCompile.h - hotpatch compile: one file as hotpatch dev would --===//
#ifndef HOTPATCH_TOOLS_RESIDENTCOMPILE_H
#define HOTPATCH_TOOLS_RESIDENTCOMPILE_H

#include <string>
#include <vector>

namespace hotpatch {

struct CompileOptions {
  std::string BuildDir = ".";       // holds compile_commands.json
  bool Preamble = false;            // build the preamble first, compile against it
  std::vector<std::string> Sources; // compiled in this order, in one process
};

/// `hotpatch compile`: compiles each source with its compile command, in
/// process, the way hotpatch dev does, and writes its object where the build
/// expects it. Returns the exit code.
int runCompile(const CompileOptions &Opts);

} // namespace hotpatch

#endif
