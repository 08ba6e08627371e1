//===- HotCallSites.cpp - the calls of hot functions in the defining file -===//
//
// A step of the slot rewrite (HotRewrite.h). In the modes that rewrite call
// sites, direct calls of a hot function in this module skip the thunk and
// load the slot themselves.
//
// With PluginOptions::InlineHotCalls (all mode, optimised, no LTO), a call
// from a hot function that is not annotated to a hot function that is not
// annotated calls the body instead, so the inliner may inline it: the caller
// is recompiled and patched with its callee. Calls from functions that are
// not hot (main, static initialisers, library templates) always load the
// slot here, before the inliner: nothing could patch a copy inlined into
// them. HotCallLoweringPass routes the direct calls left after inlining.
//
// Where nothing inlines (-O0, and an all-mode LTO pre-link), calls of
// a complete-object constructor or destructor (C1, D1) that only forwards to
// its base-object variant (C2, D2) call the C2 instead, as Clang does when it
// may alias them: otherwise every construction is two calls.
//
//===----------------------------------------------------------------------===//
#include "HotRewrite.h"

#include "hotpatch/slot_table.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"

#include <cstdlib>

using namespace llvm;

namespace hotpatch {
namespace {

/// Whether the names of two functions say they are variants of one C++
/// constructor or destructor: the same name but for the variant code (C1 for
/// C2, D1 for D2), which the demangled text does not show.
bool areStructorVariants(StringRef Complete, StringRef Base) {
  if (!Complete.starts_with("_Z") || Complete.size() != Base.size())
    return false;
  size_t I = 0;
  while (I < Complete.size() && Complete[I] == Base[I])
    ++I;
  if (I == 0 || I + 1 >= Complete.size() || Complete.substr(I + 1) != Base.substr(I + 1) ||
      Complete[I] != '1' || Base[I] != '2' ||
      (Complete[I - 1] != 'C' && Complete[I - 1] != 'D'))
    return false;
  char *A = itaniumDemangle(Complete);
  char *B = itaniumDemangle(Base);
  bool Same = A && B && StringRef(A) == StringRef(B);
  std::free(A);
  std::free(B);
  return Same;
}

/// The base-object variant (C2, D2) that F, a complete-object constructor or
/// destructor (C1, D1), only forwards to, or null. Itanium C++: for a class
/// without virtual bases the two variants do the same thing, and Clang, told
/// not to alias them (CXXCtorDtorAliases, see HotpatchPlugin.cpp), emits C1
/// as a call of C2 with the same arguments. At pipeline start the body is
/// Clang's: the arguments stored into allocas and loaded back, the call, the
/// return. Anything else (virtual bases, a function-try-block, a copy of a
/// by-value argument) means F does more than forward, and null is returned.
Function *forwardedBaseVariant(Function &F) {
  if (F.isDeclaration() || F.size() != 1 || F.isVarArg())
    return nullptr;
  DenseMap<const Value *, const Argument *> Spilled; // alloca -> argument
  CallInst *Call = nullptr;
  for (Instruction &I : F.getEntryBlock()) {
    if (isa<AllocaInst>(I) || isa<DbgInfoIntrinsic>(I))
      continue;
    if (auto *S = dyn_cast<StoreInst>(&I)) {
      auto *A = dyn_cast<Argument>(S->getValueOperand());
      if (!A || S->isVolatile() || !isa<AllocaInst>(S->getPointerOperand()) ||
          !Spilled.try_emplace(S->getPointerOperand(), A).second)
        return nullptr;
      continue;
    }
    if (auto *L = dyn_cast<LoadInst>(&I)) {
      if (L->isVolatile() || !Spilled.count(L->getPointerOperand()))
        return nullptr;
      continue;
    }
    if (auto *C = dyn_cast<CallInst>(&I); C && !Call) {
      Call = C;
      continue;
    }
    if (auto *R = dyn_cast<ReturnInst>(&I);
        R && (!R->getReturnValue() || R->getReturnValue() == Call))
      continue;
    return nullptr;
  }
  Function *Base = Call ? Call->getCalledFunction() : nullptr;
  if (!Base || Base == &F || F.isInterposable() || Base->isInterposable() || Base->getFunctionType() != F.getFunctionType() ||
      Call->hasOperandBundles() || Call->isMustTailCall() ||
      Base->getCallingConv() != F.getCallingConv())
    return nullptr;
  for (unsigned I = 0, E = Call->arg_size(); I != E; ++I) {
    const Value *V = Call->getArgOperand(I);
    if (auto *L = dyn_cast<LoadInst>(V))
      V = Spilled.lookup(L->getPointerOperand());
    if (V != F.getArg(I))
      return nullptr;
  }
  return areStructorVariants(F.getName(), Base->getName()) ? Base : nullptr;
}

/// Whether a call may reach the body directly until HotCallLoweringPass runs,
/// and so be inlined. Only a hot caller may inline a hot function: a patch
/// recompiles the caller's file and republishes the caller with the callee.
/// An annotated callee keeps its promise that every call goes through its
/// slot (hotpatch_redirect reaches them all). An annotated caller inlines
/// none: a function that runs for long (a worker's loop) is annotated so
/// that its calls reach every patch while it runs, since a running call
/// keeps the code it started with, inlined callees included.
bool mayInline(const RewriteContext &Cx, const CallBase &CB,
               const HotFunction &HF) {
  const Function *Caller = CB.getFunction();
  return Cx.Opts.InlineHotCalls && !(HF.Flags & HOTPATCH_ENTRY_ANNOTATED) &&
         !isa<CallBrInst>(CB) && !Cx.Annotated.contains(Caller) &&
         Cx.Hot.contains(const_cast<Function *>(Caller));
}

} // namespace

void rewriteCallSites(RewriteContext &Cx, HotFunction &HF, bool LoadSlot) {
  SmallVector<CallBase *, 16> Calls;
  for (Use &U : HF.Public->uses())
    if (auto *CB = dyn_cast<CallBase>(U.getUser()))
      if (CB->isCallee(&U) && !isa<CallBrInst>(CB))
        Calls.push_back(CB);
  for (CallBase *CB : Calls) {
    if (mayInline(Cx, *CB, HF)) {
      CB->setCalledOperand(HF.Body);
      continue;
    }
    if (!LoadSlot)
      continue;
    IRBuilder<> B(CB);
    LoadInst *Target = B.CreateLoad(Cx.PtrTy, HF.Slot, "hotpatch.callee");
    Target->setAtomic(AtomicOrdering::Acquire);
    Target->setAlignment(HF.Slot->getAlign().valueOrOne());
    CB->setCalledOperand(Target);
  }
}

/// Where nothing inlines C2 into C1 (at -O0, and hot ones in an all-mode LTO
/// pre-link), every constructor or destructor call would be two
/// calls, C1 then C2: Clang itself calls C2 directly when it may alias the
/// variants, which the plugin forbids so that each has a body to patch. Calls
/// in this module to a C1 (D1) that only forwards to its C2 (D2) call the C2
/// instead, which is what they did before the plugin. A patch still reaches
/// them: C1 and C2 are the same source, so an edit changes C2 (and C1, whose
/// body calls C2 through C2's slot); callers in other files still call C1.
/// Annotated variants keep their calls, so that hotpatch_redirect of a C1
/// reaches every call of it. A C1 left without uses and discardable is
/// dropped, as Clang does not emit an unused inline function.
bool callBaseVariants(RewriteContext &Cx) {
  bool Changed = false;
  SmallVector<Function *, 16> Unused;
  for (Function &F : Cx.M) {
    Function *Base = forwardedBaseVariant(F);
    if (!Base || Cx.Annotated.contains(&F) || Cx.Annotated.contains(Base))
      continue;
    for (Use &U : make_early_inc_range(F.uses()))
      if (auto *CB = dyn_cast<CallBase>(U.getUser());
          CB && CB->isCallee(&U) && !isa<CallBrInst>(CB) &&
          CB->getFunctionType() == Base->getFunctionType()) {
        U.set(Base);
        Changed = true;
      }
    if (F.use_empty() && F.isDiscardableIfUnused())
      Unused.push_back(&F);
  }
  for (Function *F : Unused) {
    Cx.Hot.remove(F);
    F->eraseFromParent();
  }
  return Changed;
}

} // namespace hotpatch
