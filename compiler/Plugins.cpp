//===- Plugins.cpp - Clang plugins loaded into this process ---------------===//
#include "Plugins.h"

#include "clang/Frontend/FrontendPluginRegistry.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/DynamicLibrary.h"

using namespace llvm;

namespace hotpatch {

Error LoadedPlugins::admit(const std::vector<std::string> &Wanted) {
  std::lock_guard<std::mutex> G(Lock);
  for (const std::string &L : Loaded)
    if (!is_contained(Wanted, L))
      return createStringError(inconvertibleErrorCode(),
                               "the command does not load " + L +
                                   ", which runs in every compile of this process once loaded");
  for (const std::string &W : Wanted) {
    if (is_contained(Loaded, W))
      continue;
    std::string Err;
    if (sys::DynamicLibrary::LoadLibraryPermanently(W.c_str(), &Err))
      return createStringError(inconvertibleErrorCode(),
                               "cannot load the plugin " + W + ": " + Err);
    Loaded.push_back(W);
  }
  // A plugin that replaces the main action makes no object: clang would run
  // it instead of the compile.
  for (const clang::FrontendPluginRegistry::entry &E : clang::FrontendPluginRegistry::entries())
    if (E.instantiate()->getActionType() == clang::PluginASTAction::ReplaceAction)
      return createStringError(inconvertibleErrorCode(),
                               "the plugin " + E.getName() + " replaces the compile");
  return Error::success();
}

} // namespace hotpatch
