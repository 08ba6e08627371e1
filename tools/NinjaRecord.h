//===- NinjaRecord.h - tell Ninja that an object is up to date ------------===//
//
// hotpatch dev compiles a saved file with the build's own command and writes
// the object where the build expects it. Ninja still compiles the file again
// at the next build, because it does not look at the object alone: it
// compares the output's time with what its two logs recorded when it last
// ran the command (Ninja 1.11, graph.cc):
//
//   - .ninja_deps (the headers of each output, from its depfile): an output
//     newer than its record there is dirty ("stored deps info out of date");
//   - .ninja_log (one line per command run: start, end, the output's mtime,
//     the output, the hash of the command): an output whose recorded mtime is
//     older than its newest input is dirty ("recorded mtime ... older than
//     most recent input"); a different command hash is dirty too.
//
// recordCompile() appends what Ninja itself would have appended had it run
// the command: a deps record (the files the compile read, the object's new
// mtime) and a log line (the object's new mtime, the command hash of the
// previous line for that output: if build.ninja's command changed since,
// the hash differs and Ninja rebuilds). Both logs are append-only and Ninja
// lets the last record of an output win, so nothing is rewritten.
//
// It refuses, and Ninja then simply compiles again, whenever it cannot be
// sure: a log format other than the one it knows (deps v4, log v5), an
// output Ninja never built, no deps record to replace, an input newer than
// (or as new as) the object, or a Ninja running in the build directory
// (it assigns ids to the paths it appends from its own count: an append of
// ours in between would shift them).
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_NINJARECORD_H
#define HOTPATCH_TOOLS_NINJARECORD_H

#include "llvm/ADT/StringRef.h"

#include <set>
#include <string>

namespace hotpatch {

/// Records in BuildDir's Ninja logs that Object (absolute) was built from
/// Inputs (absolute: the source and every file the compile read). Returns
/// "" when recorded, else why not.
std::string recordCompile(llvm::StringRef BuildDir, llvm::StringRef Object,
                          const std::set<std::string> &Inputs);

} // namespace hotpatch

#endif
