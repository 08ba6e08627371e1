//===- Usage.h - the hotpatch command's usage text -------------------------===//
//
// Printed by `hotpatch` (hotpatch_cli.cpp) for apply and list, and by the
// program it runs for dev and compile (hotpatch_dev.cpp), so that a mistake
// in either shows the whole command.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_USAGE_H
#define HOTPATCH_TOOLS_USAGE_H

namespace hotpatch {

inline constexpr char kUsage[] =
    "usage: hotpatch apply --pid <pid> <patch>\n"
    "       hotpatch apply --all <patch>\n"
    "       hotpatch list\n"
    "       hotpatch dev [-p <build dir>] [--no-restart] [--no-resident-compiler]\n"
    "                    [--keep-preambles <n>] [--stats] -- <program> [args...]\n"
    "       hotpatch dev --web --root <page dir> [-p <build dir>] [--port <n>]\n"
    "                    [--rebuild <command>] -- <program.wasm>\n"
    "       hotpatch compile [-p <build dir>] [--preamble] <source>...\n";

/// The exit code of a command line that is not one of kUsage's.
inline constexpr int kUsageExit = 2;

} // namespace hotpatch

#endif
