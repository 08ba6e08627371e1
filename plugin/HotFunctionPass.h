//===- HotFunctionPass.h - route calls to hot functions through slots -----===//
//
// The IR half of hotpatch.so. Runs at the start of the optimisation pipeline,
// before the inliner can fold a call into its caller, and gives every hot
// function a slot in the jump table described in hotpatch/slot_table.h.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_PLUGIN_HOTFUNCTIONPASS_H
#define HOTPATCH_PLUGIN_HOTFUNCTIONPASS_H

#include "llvm/ADT/StringSet.h"
#include "llvm/IR/PassManager.h"

#include <memory>
#include <string>

namespace hotpatch {

/// How a hot function is reached. See docs/design.md, "Rewrite modes".
enum class RewriteMode {
  /// The public symbol becomes a thunk through the slot (every reference is
  /// redirected) and calls in the defining file load the slot directly.
  Both,
  /// Only the thunk: calls in the defining file go through it too.
  Thunk,
  /// Only calls in the defining file load the slot. Function pointers,
  /// vtables and callers in other files keep reaching the original body.
  CallSite,
};

struct PluginOptions {
  /// Every function defined in the file is hot, not only annotated ones.
  bool AllFunctions = false;
  /// With AllFunctions: the mangled names of the functions whose definition
  /// the user wrote (not in a system header), filled by the AST consumer
  /// before code generation. Null means every defined function.
  std::shared_ptr<llvm::StringSet<>> UserFunctions;
  /// The layouts of the records the user defined, one text block per type,
  /// filled by the AST consumer; emitted into the non-loaded section
  /// .hotpatch.layouts for thinlink to compare (linker/CacheBuilder.h).
  std::shared_ptr<std::string> Layouts;
  RewriteMode Mode = RewriteMode::Both;
  /// Calls between hot functions that are not annotated call the body
  /// directly, so that the inliner may inline them; HotCallLoweringPass
  /// routes the calls left after inlining through the slot. Set with
  /// AllFunctions when the pipeline inlines and runs OptimizerLast in this
  /// compile (-O1 and up, not an LTO pre-link). See docs/design.md,
  /// "Inlining in all mode".
  bool InlineHotCalls = false;
  /// The optimisation level of the compile ("O0" ... "O3", "Os", "Oz"),
  /// recorded in the object's build record (hotpatch/object_records.h).
  std::string OptLevel;
  /// Absolute path of the main source file, recorded in each table entry.
  std::string Unit;
};

class HotFunctionPass : public llvm::PassInfoMixin<HotFunctionPass> {
public:
  explicit HotFunctionPass(PluginOptions Opts) : Opts(std::move(Opts)) {}
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }

private:
  PluginOptions Opts;
};

} // namespace hotpatch

#endif
