//===- HotSelection.cpp - which functions of a module are hot -------------===//
//
// The first step of the slot rewrite (HotRewrite.h): the functions given the
// `hotpatch` annotation, read from llvm.global.annotations, and in all mode
// every other function the user wrote, less those that cannot have a slot
// (declarations, naked, weak definitions another object may win over) and
// the compiler's glue (static initialisers, C++ thunks, main).
//
//===----------------------------------------------------------------------===//
#include "HotRewrite.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/GlobalVariable.h"

using namespace llvm;

namespace hotpatch {
namespace {

constexpr StringLiteral Annotation = "hotpatch";

/// Functions the `all` argument never makes hot: compiler-generated glue that
/// runs once (static initialisers), forwards to a hot function anyway (C++
/// this-adjusting thunks, TLS wrappers), or is the program's entry point.
bool isCompilerGlue(const Function &F) {
  StringRef N = F.getName();
  return N == "main" || N.starts_with("__cxx_global_var_init") ||
         N.starts_with("_GLOBAL__") || N.starts_with("__cxx_global_array_dtor") ||
         N.starts_with("__dtor_") || N.starts_with("_ZTh") ||
         N.starts_with("_ZTv") || N.starts_with("_ZTc") ||
         N.starts_with("_ZTW") || N.starts_with("_ZTH") ||
         N == "__clang_call_terminate" || N.starts_with("__hotpatch") ||
         N.starts_with("hotpatch.") || N.contains(".hotpatch.");
}

/// Whether F can be given a slot at all. Weak (non-ODR) definitions cannot:
/// another object's definition may win, and the slot would keep pointing at
/// the loser.
bool canBeHot(const Function &F) {
  if (F.isDeclaration() || F.isIntrinsic() || F.hasAvailableExternallyLinkage())
    return false;
  if (F.hasFnAttribute(Attribute::Naked) ||
      F.hasFnAttribute(Attribute::AlwaysInline))
    return false;
  if (F.isInterposable() && !F.hasLocalLinkage())
    return false; // weak, linkonce (non-ODR), common
  if (F.hasPrefixData() || F.hasPrologueData())
    return false;
  return true;
}

} // namespace

SetVector<Function *> collectHotFunctions(RewriteContext &Cx) {
  SetVector<Function *> Hot;
  // llvm.global.annotations = [{ptr fn, ptr str, ptr file, i32 line, ptr args}]
  if (GlobalVariable *GA = Cx.M.getNamedGlobal("llvm.global.annotations")) {
    if (auto *Arr = dyn_cast_or_null<ConstantArray>(GA->getInitializer())) {
      for (Value *Op : Arr->operands()) {
        auto *E = dyn_cast<ConstantStruct>(Op);
        if (!E || E->getNumOperands() < 2)
          continue;
        auto *F = dyn_cast<Function>(E->getOperand(0)->stripPointerCasts());
        auto *Str =
            dyn_cast<GlobalVariable>(E->getOperand(1)->stripPointerCasts());
        if (!F || !Str || !Str->hasInitializer())
          continue;
        auto *Data = dyn_cast<ConstantDataArray>(Str->getInitializer());
        if (Data && Data->isCString() && Data->getAsCString() == Annotation &&
            canBeHot(*F) && F->getName() != "main") {
          Hot.insert(F);
          Cx.AnnotatedNames.insert(F->getName());
          Cx.Annotated.insert(F);
        }
      }
    }
  }
  if (Cx.Opts.AllFunctions)
    for (Function &F : Cx.M)
      if (canBeHot(F) && !isCompilerGlue(F) &&
          (!Cx.Opts.UserFunctions || Cx.Opts.UserFunctions->contains(F.getName())))
        Hot.insert(&F);
  return Hot;
}

} // namespace hotpatch
