//===- DevWeb.cpp - hotpatch dev --web ---------------------------------------===//
//
// The dev server for the web is JavaScript (it serves the page and pushes
// Server-Sent Events; the compile and the thin link are thinlink's): this
// finds Node, the server and thinlink, and execs the server so that signals
// and the exit status are its own.
//
// From this program (libexec/hotpatch/hotpatch-dev, in an install and in the
// build tree alike), the server is ../../share/hotpatch/web/dev-server.mjs
// and thinlink ../../bin/thinlink.
//
//===----------------------------------------------------------------------===//
#include "DevWeb.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>
#include <vector>

using namespace llvm;

namespace hotpatch {

static int fail(const Twine &Msg) {
  errs() << "hotpatch dev: error: " << Msg << "\n";
  return 1;
}

int runDevWeb(const DevWebOptions &O) {
  if (O.Root.empty())
    return fail("--web needs --root <the page's directory>");
  if (!StringRef(O.Program).ends_with(".wasm"))
    return fail("--web runs a WebAssembly program: '" + O.Program +
                "' is not a .wasm file (hotpatch dev without --web runs native programs)");
  for (const std::string &Dir : {O.Root, O.BuildDir})
    if (!sys::fs::is_directory(Dir))
      return fail("'" + Dir + "' is not a directory");
  if (!sys::fs::exists(O.Program))
    return fail("'" + O.Program + "' does not exist; build it first");
  static int Anchor;
  std::string Self = sys::fs::getMainExecutable("hotpatch-dev", &Anchor);
  SmallString<256> Top(sys::path::parent_path(sys::path::parent_path(
      sys::path::parent_path(Self))));
  SmallString<256> Server(Top), Thinlink(Top);
  sys::path::append(Server, "share", "hotpatch", "web", "dev-server.mjs");
  sys::path::append(Thinlink, "bin", "thinlink");
  if (!sys::fs::exists(Server))
    return fail("the web's dev server is not at " + Server +
                ": install Hotpatch whole (cmake --install), or build the hotpatch_web target");
  if (!sys::fs::can_execute(Thinlink))
    return fail("thinlink is not at " + Thinlink + ": install Hotpatch whole");
  auto Node = sys::findProgramByName("node");
  if (!Node)
    Node = sys::findProgramByName("nodejs");
  if (!Node)
    return fail("--web needs Node.js (node) on the PATH; install it (Debian: apt-get install nodejs)");
  std::vector<std::string> Args = {*Node,           std::string(Server), "--build", O.BuildDir,
                                   "--program",     O.Program,           "--thinlink",
                                   std::string(Thinlink), "--root",      O.Root,
                                   "--port",        O.Port};
  if (!O.Rebuild.empty()) {
    Args.push_back("--rebuild");
    Args.push_back(O.Rebuild);
  }
  std::vector<char *> Argv;
  for (std::string &A : Args)
    Argv.push_back(A.data());
  Argv.push_back(nullptr);
  outs().flush();
  errs().flush();
  execv(Node->c_str(), Argv.data());
  return fail("cannot run " + *Node + ": " + strerror(errno));
}

} // namespace hotpatch
