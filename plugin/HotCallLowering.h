//===- HotCallLowering.h - route the calls left after inlining ------------===//
//
// The second half of the all-mode rewrite, run at the end of the optimisation
// pipeline (OptimizerLast). HotFunctionPass lets calls between hot functions
// call the bodies so that the inliner can inline them; this pass routes every
// such call the inliner left through the slot (or, in thunk mode, the thunk),
// so that each call still reaches the newest code.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_PLUGIN_HOTCALLLOWERING_H
#define HOTPATCH_PLUGIN_HOTCALLLOWERING_H

#include "llvm/IR/PassManager.h"

namespace hotpatch {

class HotCallLoweringPass : public llvm::PassInfoMixin<HotCallLoweringPass> {
public:
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
};

} // namespace hotpatch

#endif
