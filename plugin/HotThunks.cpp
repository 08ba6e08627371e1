//===- HotThunks.cpp - the thunk that takes a hot function's place --------===//
//
// A step of the slot rewrite (HotRewrite.h), in the modes with thunks. The
// hot function N is renamed N.hotpatch.body and reached only through its
// slot; in its place, a thunk named N with N's linkage, COMDAT and
// attributes loads the slot and tail-jumps through it. Every use of N
// (vtables, function pointers, aliases, calls) moves to the thunk, so that
// code that only knows the symbol N reaches the slot.
//
// Where LLVM cannot tail-call safely (by-value aggregates on x86-64) the
// thunk is naked and jumps by hand; on WebAssembly without tail calls it
// calls the body and returns the result.
//
//===----------------------------------------------------------------------===//
#include "HotRewrite.h"

#include "hotpatch/slot_table.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/Instructions.h"

using namespace llvm;

namespace hotpatch {
namespace {

/// Whether the thunk of F may tail-call the body. WebAssembly has tail calls
/// only with the tail-call feature (-mtail-call), and a `musttail` call
/// without it is a compile error. Without it the thunk makes an ordinary
/// call_indirect and returns the result: one more frame on the wasm stack,
/// which is invisible to the program (it has no addressable return
/// addresses). byval arguments are copied by the caller into its own frame
/// and passed as pointers on wasm, so the ordinary call is correct for every
/// signature there, and is also what a thunk with a by-value aggregate gets
/// when tail calls are on.
bool thunkMayTailCall(const Function &F, const Triple &TT) {
  if (!TT.isWasm())
    return true;
  if (hasByValueAggregate(F))
    return false;
  Attribute Features = F.getFnAttribute("target-features");
  return Features.isValid() &&
         Features.getValueAsString().contains("+tail-call");
}

Function *createThunk(RewriteContext &Cx, Function &Body, StringRef Name,
                      GlobalVariable &Slot, bool Naked) {
  LLVMContext &Ctx = Cx.Ctx;
  FunctionType *FTy = Body.getFunctionType();
  Function *Thunk = Function::Create(FTy, Body.getLinkage(),
                                     Body.getAddressSpace(), Name, &Cx.M);
  Thunk->copyAttributesFrom(&Body);
  Thunk->setComdat(Body.getComdat());
  Thunk->setSection(HOTPATCH_THUNK_SECTION);
  // The thunk must promise nothing about the body that a patch could
  // break: Clang already infers nounwind from the current body, and a new
  // body may throw. It must also stay a real function so that every
  // reference to N reaches the slot.
  for (Attribute::AttrKind K :
       {Attribute::NoUnwind, Attribute::WillReturn, Attribute::NoSync,
        Attribute::NoFree, Attribute::NoRecurse, Attribute::Memory,
        Attribute::Speculatable, Attribute::NoCallback, Attribute::MustProgress,
        Attribute::AlwaysInline, Attribute::InlineHint})
    Thunk->removeFnAttr(K);
  Thunk->addFnAttr(Attribute::NoInline);
  Thunk->setPersonalityFn(nullptr);

  BasicBlock *BB = BasicBlock::Create(Ctx, "entry", Thunk);
  IRBuilder<> B(BB);
  if (Naked) {
    // LLVM 19 miscompiles musttail with byval/inalloca arguments on x86-64
    // (llvm-project #56891, #72390): jump through the slot by hand, leaving
    // the caller's stack and registers exactly as they were.
    Thunk->addFnAttr(Attribute::Naked);
    Thunk->removeFnAttr(Attribute::OptimizeNone);
    for (Argument &A : Thunk->args())
      A.removeAttr(Attribute::NoUndef);
    std::string SlotRef = "\"" + Slot.getName().str() + "\"";
    std::string Asm =
        Slot.isDSOLocal()
            ? "jmpq *" + SlotRef + "(%rip)"
            : "movq " + SlotRef + "@GOTPCREL(%rip), %r11\n\tjmpq *(%r11)";
    auto *IA = InlineAsm::get(FunctionType::get(B.getVoidTy(), false), Asm, "",
                              /*hasSideEffects=*/true);
    B.CreateCall(IA);
    B.CreateUnreachable();
    return Thunk;
  }
  // The thunk only jumps: a frame (the body's "frame-pointer"="all" at -O0)
  // would cost every call through it a push and a pop for nothing.
  Thunk->addFnAttr("frame-pointer", "none");
  LoadInst *Target = B.CreateLoad(Cx.PtrTy, &Slot, Name + ".target");
  Target->setAtomic(AtomicOrdering::Acquire);
  Target->setAlignment(Slot.getAlign().valueOrOne());
  SmallVector<Value *, 8> Args;
  for (Argument &A : Thunk->args())
    Args.push_back(&A);
  CallInst *Call = B.CreateCall(FTy, Target, Args);
  Call->setCallingConv(Body.getCallingConv());
  Call->setAttributes(Body.getAttributes());
  // Attributes that describe the function rather than the call would make
  // the verifier reject the call; keep the ABI-relevant ones (params, ret).
  Call->setAttributes(Call->getAttributes().removeFnAttributes(Ctx));
  Call->setTailCallKind(thunkMayTailCall(Body, Cx.TT) ? CallInst::TCK_MustTail
                                                   : CallInst::TCK_None);
  if (FTy->getReturnType()->isVoidTy())
    B.CreateRetVoid();
  else
    B.CreateRet(Call);
  return Thunk;
}

} // namespace

bool hasByValueAggregate(const Function &F) {
  for (const Argument &A : F.args())
    if (A.hasByValAttr() || A.hasInAllocaAttr() || A.hasPreallocatedAttr())
      return true;
  return false;
}

void putBehindThunk(RewriteContext &Cx, HotFunction &HF, StringRef Name,
                    Comdat *SlotComdat, bool Naked) {
  Function &F = *HF.Body;
  F.setName(Name + HOTPATCH_BODY_SUFFIX);
  Function *Thunk = createThunk(Cx, F, Name, *HF.Slot, Naked);
  // Everything that named F now names the thunk, except block addresses,
  // which belong to the body's blocks.
  F.replaceUsesWithIf(Thunk, [](Use &U) {
    return !isa<BlockAddress>(U.getUser());
  });
  // The body is reached only through the slot.
  if (F.hasLocalLinkage()) {
    F.setLinkage(GlobalValue::InternalLinkage);
  } else {
    F.setLinkage(HF.Flags & HOTPATCH_ENTRY_ODR
                     ? GlobalValue::LinkOnceODRLinkage
                     : GlobalValue::ExternalLinkage);
    F.setVisibility(GlobalValue::HiddenVisibility);
    F.setDSOLocal(true);
  }
  F.setComdat(SlotComdat);
  F.setUnnamedAddr(GlobalValue::UnnamedAddr::None);
  HF.Public = Thunk;
  HF.Flags |= HOTPATCH_ENTRY_THUNK | (Naked ? HOTPATCH_ENTRY_NAKED_THUNK : 0);
}

} // namespace hotpatch
