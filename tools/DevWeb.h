//===- DevWeb.h - hotpatch dev --web: the dev server for WebAssembly --------===//
//
//   hotpatch dev --web --root <page dir> [-p <build dir>] [--port <n>]
//                [--rebuild <command>] -- <program.wasm>
//
// Runs the web's dev server (web/dev-server.mjs, installed beside the
// JavaScript runtime in share/hotpatch/web) with Node, in place of this
// process, with the thinlink of this installation.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_DEVWEB_H
#define HOTPATCH_TOOLS_DEVWEB_H

#include <string>

namespace hotpatch {

struct DevWebOptions {
  std::string BuildDir = "."; // where compile_commands.json is
  std::string Root;           // the page's directory
  std::string Program;        // the .wasm program
  std::string Port = "0";     // 0: any free port
  std::string Rebuild;        // the command a full reload rebuilds with
};

/// Execs Node on the dev server; returns (with the error printed) only when
/// that cannot be done.
int runDevWeb(const DevWebOptions &O);

} // namespace hotpatch

#endif
