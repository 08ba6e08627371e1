//===- Plugins.h - Clang plugins loaded into this process -----------------===//
//
// A command's -fplugin=<library> is loaded the way clang loads it: the
// library is opened for good (llvm::sys::DynamicLibrary) and its static
// FrontendPluginRegistry::Add registers the plugin with the Clang libraries of
// this process, whose symbols it binds to (hotpatch links libclang-cpp and
// libLLVM, the ones the clang binary uses). FrontendAction then instantiates
// every registered plugin that adds itself before or after the main action,
// with its -fplugin-arg-<name>- arguments, for each compile: exactly what the
// command-line clang does.
//
// A library cannot be unloaded, and a registered plugin runs in every later
// compile of the process. So a command is compiled in process only if it
// loads every plugin already loaded (usually the one hotpatch.so); one that
// loads fewer (a file of the build compiled without the plugin) runs as a
// command.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_COMPILER_PLUGINS_H
#define HOTPATCH_COMPILER_PLUGINS_H

#include "llvm/Support/Error.h"

#include <mutex>
#include <string>
#include <vector>

namespace hotpatch {

class LoadedPlugins {
public:
  /// Loads the plugins a command names (real paths) that are not loaded yet.
  /// An error is the reason the command must run as a command.
  llvm::Error admit(const std::vector<std::string> &Wanted);

private:
  std::mutex Lock;
  std::vector<std::string> Loaded;
};

} // namespace hotpatch

#endif
