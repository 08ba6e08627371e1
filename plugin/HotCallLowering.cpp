//===- HotCallLowering.cpp - route the calls left after inlining ----------===//
//
// The table entries HotFunctionPass emitted name, per hot function, its slot,
// its body and its public symbol (hotpatch/slot_table.h). After inlining,
// every remaining call whose callee is a body is one HotFunctionPass let
// through for the inliner: it now loads the slot (entry flag CALLSITE) or
// calls the public symbol, the thunk (thunk mode). Nothing else calls a body
// directly, so nothing else is touched.
//
// The entries are the record to read because they survive the pipeline: they
// are in llvm.used, so no pass removes or rewrites them, and they hold the
// body even when every call to it was inlined.
//
//===----------------------------------------------------------------------===//
#include "HotCallLowering.h"

#include "hotpatch/slot_table.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Module.h"

using namespace llvm;

namespace hotpatch {

PreservedAnalyses HotCallLoweringPass::run(Module &M, ModuleAnalysisManager &) {
  bool Changed = false;
  for (GlobalVariable &GV : M.globals()) {
    if (GV.getSection() != HOTPATCH_TABLE_SECTION || !GV.hasInitializer())
      continue;
    // {version, flags, name, slot, body, symbol, unit}
    auto *E = dyn_cast<ConstantStruct>(GV.getInitializer());
    if (!E || E->getNumOperands() < 6)
      continue;
    auto *Flags = dyn_cast<ConstantInt>(E->getOperand(1));
    auto *Slot = dyn_cast<GlobalVariable>(E->getOperand(3)->stripPointerCasts());
    auto *Body = dyn_cast<Function>(E->getOperand(4)->stripPointerCasts());
    auto *Public = dyn_cast<Function>(E->getOperand(5)->stripPointerCasts());
    if (!Flags || !Slot || !Body || !Public)
      continue;
    bool LoadSlot = Flags->getZExtValue() & HOTPATCH_ENTRY_CALLSITE;
    SmallVector<CallBase *, 8> Calls;
    for (Use &U : Body->uses())
      if (auto *CB = dyn_cast<CallBase>(U.getUser()))
        if (CB->isCallee(&U))
          Calls.push_back(CB);
    for (CallBase *CB : Calls) {
      Changed = true;
      if (!LoadSlot) {
        CB->setCalledOperand(Public);
        continue;
      }
      IRBuilder<> B(CB);
      LoadInst *Target =
          B.CreateLoad(PointerType::getUnqual(M.getContext()), Slot, "hotpatch.callee");
      Target->setAtomic(AtomicOrdering::Acquire);
      Target->setAlignment(Slot->getAlign().valueOrOne());
      CB->setCalledOperand(Target);
    }
  }
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

} // namespace hotpatch
