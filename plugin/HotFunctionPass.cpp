//===- HotFunctionPass.cpp - route calls to hot functions through slots ---===//
//
// For each hot function F (mangled name N) this pass builds, in the module
// that defines F:
//
//   N.hotpatch.slot   the slot, initialised to the code calls should reach;
//   N.hotpatch.body   F's original body, renamed (thunk modes);
//   N                 a thunk with F's linkage, COMDAT and attributes that
//                     loads the slot and tail-jumps through it (thunk modes);
//   N.hotpatch.entry  the table entry the runtime enumerates.
//
// Every use of F (vtables, function pointers, aliases, calls) is moved to the
// thunk, so code that only knows the symbol N reaches the slot. In the modes
// that rewrite call sites, direct calls in this module skip the thunk and load
// the slot themselves.
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
// The slot of a non-local F is linkonce_odr in its own COMDAT: every object
// that emits F (inline functions, templates) emits the same slot, and the
// linkers keep one per image and merge the images' copies at run time. The
// slot and the entry are in llvm.used: without that, LTO internalises the slot
// and folds the loads back into direct calls.
//
// This pass never decides *whether* a use of the annotation is legal: the AST
// half (HotpatchPlugin.cpp) diagnoses misuse with source locations. Here,
// functions that cannot be hot are skipped.
//
//===----------------------------------------------------------------------===//
#include "HotFunctionPass.h"

#include "hotpatch/object_records.h"
#include "hotpatch/slot_table.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InlineAsm.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/xxhash.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

using namespace llvm;

namespace hotpatch {
namespace {

constexpr StringLiteral ProcessedMD = "hotpatch.processed";
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

bool hasByValueAggregate(const Function &F) {
  for (const Argument &A : F.args())
    if (A.hasByValAttr() || A.hasInAllocaAttr() || A.hasPreallocatedAttr())
      return true;
  return false;
}

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

class HotFunctionRewriter {
public:
  HotFunctionRewriter(Module &M, const PluginOptions &Opts)
      : M(M), Opts(Opts), Ctx(M.getContext()), TT(M.getTargetTriple()),
        PtrTy(PointerType::getUnqual(Ctx)), I32Ty(Type::getInt32Ty(Ctx)),
        EntryTy(StructType::get(Ctx, {I32Ty, I32Ty, PtrTy, PtrTy, PtrTy, PtrTy,
                                      PtrTy})) {}

  bool run();

private:
  struct HotFunction {
    Function *Body = nullptr;  // the original function, renamed in thunk modes
    Function *Public = nullptr; // what the symbol N is after the rewrite
    GlobalVariable *Slot = nullptr;
    uint32_t Flags = 0;
  };

  SetVector<Function *> collectHotFunctions();
  HotFunction makeHot(Function &F, bool Annotated);
  GlobalVariable *createSlot(Function &F, StringRef Name, Comdat *&SlotComdat);
  Function *createThunk(Function &Body, StringRef Name, GlobalVariable &Slot,
                        bool Naked);
  void rewriteCallSites(HotFunction &HF, bool LoadSlot);
  bool mayInline(const CallBase &CB, const HotFunction &HF) const;
  bool callBaseVariants();
  void emitEntry(HotFunction &HF, StringRef Name, Comdat *SlotComdat);
  void emitModuleConstructor();
  bool exposeFileLocalData();
  Constant *cString(StringRef S);
  StringRef unitName() const {
    return Opts.Unit.empty() ? StringRef(M.getSourceFileName()) : Opts.Unit;
  }
  /// The defining file's name, one string shared by all of the module's entries.
  Constant *unitString() {
    if (!Unit)
      Unit = cString(unitName());
    return Unit;
  }
  Constant *Unit = nullptr;

  Module &M;
  const PluginOptions &Opts;
  LLVMContext &Ctx;
  Triple TT;
  PointerType *PtrTy;
  IntegerType *I32Ty;
  StructType *EntryTy;
  StringSet<> AnnotatedNames;
  SetVector<Function *> Hot; // the original functions, later the bodies
  SmallPtrSet<const Function *, 8> Annotated;
  SmallVector<GlobalValue *, 32> Used;
};

SetVector<Function *> HotFunctionRewriter::collectHotFunctions() {
  SetVector<Function *> Hot;
  // llvm.global.annotations = [{ptr fn, ptr str, ptr file, i32 line, ptr args}]
  if (GlobalVariable *GA = M.getNamedGlobal("llvm.global.annotations")) {
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
          AnnotatedNames.insert(F->getName());
          Annotated.insert(F);
        }
      }
    }
  }
  if (Opts.AllFunctions)
    for (Function &F : M)
      if (canBeHot(F) && !isCompilerGlue(F) &&
          (!Opts.UserFunctions || Opts.UserFunctions->contains(F.getName())))
        Hot.insert(&F);
  return Hot;
}

Constant *HotFunctionRewriter::cString(StringRef S) {
  Constant *Init = ConstantDataArray::getString(Ctx, S, /*AddNull=*/true);
  auto *GV = new GlobalVariable(M, Init->getType(), /*isConstant=*/true,
                                GlobalValue::PrivateLinkage, Init,
                                ".hotpatch.str");
  GV->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
  GV->setAlignment(Align(1));
  return GV;
}

GlobalVariable *HotFunctionRewriter::createSlot(Function &F, StringRef Name,
                                                Comdat *&SlotComdat) {
  std::string SlotName = (Name + HOTPATCH_SLOT_SUFFIX).str();
  bool Local = F.hasLocalLinkage();
  // On WebAssembly a patch finds the program's slot of a file-local F by
  // name, like any other: the slot is a strong, visible symbol named after
  // F and its file (a file compiled twice into one program is a duplicate
  // symbol error, not two functions sharing a slot).
  bool WasmLocal = Local && TT.isWasm();
  if (WasmLocal)
    SlotName += "." + utohexstr(xxh3_64bits(unitName()));
  auto *Slot = new GlobalVariable(
      M, PtrTy, /*isConstant=*/false,
      WasmLocal ? GlobalValue::ExternalLinkage
      : Local   ? GlobalValue::InternalLinkage
                : GlobalValue::LinkOnceODRLinkage,
      /*Initializer=*/nullptr, SlotName);
  Slot->setAlignment(M.getDataLayout().getPointerABIAlignment(0));
  SlotComdat = nullptr;
  if (WasmLocal) {
    Slot->setVisibility(GlobalValue::DefaultVisibility);
  } else if (!Local) {
    // On WebAssembly the slot is always visible: a patch (a side module)
    // finds the program's slot by its exported name, and a hidden slot
    // would bind to the patch's own copy, which no caller reads.
    Slot->setVisibility(TT.isWasm() ? GlobalValue::DefaultVisibility
                                    : F.getVisibility());
    // Preemptible in a shared library, so every image uses the one slot the
    // dynamic linker picks; local to the image in executables.
    Slot->setDSOLocal(F.hasHiddenVisibility() || F.hasProtectedVisibility() ||
                      M.getPICLevel() == PICLevel::NotPIC ||
                      M.getPIELevel() != PIELevel::Default);
    if (TT.supportsCOMDAT()) {
      SlotComdat = M.getOrInsertComdat(SlotName);
      Slot->setComdat(SlotComdat);
    }
  } else {
    Slot->setDSOLocal(true);
  }
  return Slot;
}

Function *HotFunctionRewriter::createThunk(Function &Body, StringRef Name,
                                           GlobalVariable &Slot, bool Naked) {
  FunctionType *FTy = Body.getFunctionType();
  Function *Thunk = Function::Create(FTy, Body.getLinkage(),
                                     Body.getAddressSpace(), Name, &M);
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
  LoadInst *Target = B.CreateLoad(PtrTy, &Slot, Name + ".target");
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
  Call->setTailCallKind(thunkMayTailCall(Body, TT) ? CallInst::TCK_MustTail
                                                   : CallInst::TCK_None);
  if (FTy->getReturnType()->isVoidTy())
    B.CreateRetVoid();
  else
    B.CreateRet(Call);
  return Thunk;
}

/// Whether a call may reach the body directly until HotCallLoweringPass runs,
/// and so be inlined. Only a hot caller may inline a hot function: a patch
/// recompiles the caller's file and republishes the caller with the callee.
/// An annotated callee keeps its promise that every call goes through its
/// slot (hotpatch_redirect reaches them all). An annotated caller inlines
/// none: a function that runs for long (a worker's loop) is annotated so
/// that its calls reach every patch while it runs, since a running call
/// keeps the code it started with, inlined callees included.
bool HotFunctionRewriter::mayInline(const CallBase &CB,
                                    const HotFunction &HF) const {
  const Function *Caller = CB.getFunction();
  return Opts.InlineHotCalls && !(HF.Flags & HOTPATCH_ENTRY_ANNOTATED) &&
         !isa<CallBrInst>(CB) && !Annotated.contains(Caller) &&
         Hot.contains(const_cast<Function *>(Caller));
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
bool HotFunctionRewriter::callBaseVariants() {
  bool Changed = false;
  SmallVector<Function *, 16> Unused;
  for (Function &F : M) {
    Function *Base = forwardedBaseVariant(F);
    if (!Base || Annotated.contains(&F) || Annotated.contains(Base))
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
    Hot.remove(F);
    F->eraseFromParent();
  }
  return Changed;
}

void HotFunctionRewriter::rewriteCallSites(HotFunction &HF, bool LoadSlot) {
  SmallVector<CallBase *, 16> Calls;
  for (Use &U : HF.Public->uses())
    if (auto *CB = dyn_cast<CallBase>(U.getUser()))
      if (CB->isCallee(&U) && !isa<CallBrInst>(CB))
        Calls.push_back(CB);
  for (CallBase *CB : Calls) {
    if (mayInline(*CB, HF)) {
      CB->setCalledOperand(HF.Body);
      continue;
    }
    if (!LoadSlot)
      continue;
    IRBuilder<> B(CB);
    LoadInst *Target = B.CreateLoad(PtrTy, HF.Slot, "hotpatch.callee");
    Target->setAtomic(AtomicOrdering::Acquire);
    Target->setAlignment(HF.Slot->getAlign().valueOrOne());
    CB->setCalledOperand(Target);
  }
}

void HotFunctionRewriter::emitEntry(HotFunction &HF, StringRef Name,
                                    Comdat *SlotComdat) {
  Constant *Fields[] = {
      ConstantInt::get(I32Ty, HOTPATCH_SLOT_TABLE_VERSION),
      ConstantInt::get(I32Ty, HF.Flags),
      cString(Name),
      HF.Slot,
      HF.Body,
      HF.Public,
      unitString(),
  };
  auto *Entry = new GlobalVariable(
      M, EntryTy, /*isConstant=*/false, GlobalValue::InternalLinkage,
      ConstantStruct::get(EntryTy, Fields), Name + HOTPATCH_ENTRY_SUFFIX);
  Entry->setSection(HOTPATCH_TABLE_SECTION);
  // The ABI alignment of the struct (8 on LP64, 4 on wasm32), so that the
  // entries of a section are exactly sizeof(struct hotpatch_slot_entry)
  // apart, which is how readers walk them.
  Entry->setAlignment(M.getDataLayout().getABITypeAlign(EntryTy));
  // In the slot's group: when the linker drops a duplicate slot it drops the
  // duplicate entry with it, leaving one entry per slot and image.
  Entry->setComdat(SlotComdat);
  Used.push_back(Entry);
  Used.push_back(HF.Slot);
}

HotFunctionRewriter::HotFunction HotFunctionRewriter::makeHot(Function &F,
                                                              bool Annotated) {
  HotFunction HF;
  std::string Name = F.getName().str();
  bool Thunked = Opts.Mode != RewriteMode::CallSite;
  // WebAssembly needs no naked thunk: its thunk calls the body ordinarily
  // when it cannot tail-call (see thunkMayTailCall).
  bool Naked = Thunked && !TT.isWasm() && hasByValueAggregate(F);
  if (Naked && TT.getArch() != Triple::x86_64)
    Thunked = Naked = false; // no safe thunk: call sites only

  Comdat *SlotComdat = nullptr;
  HF.Slot = createSlot(F, Name, SlotComdat);
  HF.Body = &F;
  HF.Public = &F;
  HF.Flags = (F.hasLocalLinkage() ? HOTPATCH_ENTRY_LOCAL : 0) |
             (Annotated ? HOTPATCH_ENTRY_ANNOTATED : 0) |
             (F.hasLinkOnceODRLinkage() || F.hasWeakODRLinkage()
                  ? HOTPATCH_ENTRY_ODR
                  : 0);

  if (Thunked) {
    F.setName(Name + HOTPATCH_BODY_SUFFIX);
    Function *Thunk = createThunk(F, Name, *HF.Slot, Naked);
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
  HF.Slot->setInitializer(HF.Body);
  bool LoadSlot = Opts.Mode != RewriteMode::Thunk || !Thunked;
  if (LoadSlot)
    HF.Flags |= HOTPATCH_ENTRY_CALLSITE;
  rewriteCallSites(HF, LoadSlot);
  emitEntry(HF, Name, SlotComdat);
  return HF;
}

void HotFunctionRewriter::emitModuleConstructor() {
  // One constructor per image (COMDAT): it hands the image's table to the
  // runtime if the runtime is there. References are weak so that an image
  // without thunks, or a program without the runtime, still links.
  auto WeakHidden = [&](StringRef Name) {
    GlobalVariable *GV = M.getNamedGlobal(Name);
    if (!GV)
      GV = new GlobalVariable(M, Type::getInt8Ty(Ctx), /*isConstant=*/false,
                              GlobalValue::ExternalWeakLinkage, nullptr, Name);
    GV->setVisibility(GlobalValue::HiddenVisibility);
    return GV;
  };
  GlobalVariable *TableBegin = WeakHidden("__start_" HOTPATCH_TABLE_SECTION);
  GlobalVariable *TableEnd = WeakHidden("__stop_" HOTPATCH_TABLE_SECTION);
  GlobalVariable *ThunkBegin = WeakHidden("__start_" HOTPATCH_THUNK_SECTION);
  GlobalVariable *ThunkEnd = WeakHidden("__stop_" HOTPATCH_THUNK_SECTION);

  auto *RegTy = FunctionType::get(Type::getVoidTy(Ctx), {PtrTy, PtrTy}, false);
  auto Runtime = [&](StringRef Name) {
    Function *Fn = M.getFunction(Name);
    if (!Fn)
      Fn = Function::Create(RegTy, GlobalValue::ExternalWeakLinkage, Name, &M);
    return Fn;
  };
  Function *RegisterTable = Runtime(HOTPATCH_REGISTER_FN);
  Function *RegisterThunks = Runtime("hotpatch_register_thunks");

  if (M.getFunction(HOTPATCH_MODULE_CTOR))
    return;
  Function *Ctor =
      Function::Create(FunctionType::get(Type::getVoidTy(Ctx), false),
                       GlobalValue::LinkOnceODRLinkage, HOTPATCH_MODULE_CTOR, &M);
  Ctor->setVisibility(GlobalValue::HiddenVisibility);
  Ctor->setDSOLocal(true);
  Ctor->addFnAttr(Attribute::NoInline);
  Ctor->addFnAttr(Attribute::NoUnwind);
  Comdat *CtorComdat = nullptr;
  if (TT.supportsCOMDAT()) {
    CtorComdat = M.getOrInsertComdat(HOTPATCH_MODULE_CTOR);
    Ctor->setComdat(CtorComdat);
  }

  BasicBlock *Entry = BasicBlock::Create(Ctx, "entry", Ctor);
  BasicBlock *DoTable = BasicBlock::Create(Ctx, "register.table", Ctor);
  BasicBlock *CheckThunks = BasicBlock::Create(Ctx, "check.thunks", Ctor);
  BasicBlock *DoThunks = BasicBlock::Create(Ctx, "register.thunks", Ctor);
  BasicBlock *Done = BasicBlock::Create(Ctx, "done", Ctor);
  IRBuilder<> B(Entry);
  B.CreateCondBr(B.CreateIsNotNull(RegisterTable), DoTable, Done);
  B.SetInsertPoint(DoTable);
  B.CreateCall(RegTy, RegisterTable, {TableBegin, TableEnd});
  B.CreateBr(CheckThunks);
  B.SetInsertPoint(CheckThunks);
  // Registered even when empty: an image whose every thunk lost its COMDAT
  // to a copy built without the plugin has no thunk section at all, and
  // that is exactly what the runtime must be able to see.
  B.CreateCondBr(B.CreateIsNotNull(RegisterThunks), DoThunks, Done);
  B.SetInsertPoint(DoThunks);
  B.CreateCall(RegTy, RegisterThunks, {ThunkBegin, ThunkEnd});
  B.CreateBr(Done);
  B.SetInsertPoint(Done);
  B.CreateRetVoid();

  // Priority 101, the first one available to programs: the table is there
  // before any ordinary static constructor can ask for it.
  appendToGlobalCtors(M, Ctor, 101, CtorComdat ? Ctor : nullptr);
}

/// Escapes bytes for an assembler .ascii directive.
static std::string asciiEscape(StringRef S) {
  std::string Out;
  for (unsigned char C : S) {
    if (C == '"' || C == '\\')
      Out += '\\', Out += char(C);
    else if (C >= 32 && C < 127)
      Out += char(C);
    else {
      char Buf[8];
      snprintf(Buf, sizeof Buf, "\\%03o", C);
      Out += Buf;
    }
  }
  return Out;
}

/// On WebAssembly, gives every file-local writable variable a visible name
/// made unique by its file: a patch (a side module) reaches the program's
/// copy by name through a GOT.mem import, so its state is kept, where a
/// local symbol would bind to a fresh copy in the patch. Names of C++
/// statics are stable across builds (`_ZL7counter`, `_ZZ4tickvE5calls`);
/// numbered ones (`x.1`, `..._0`) shift when another static of that name is
/// added before them, which the patch link refuses (docs/design.md).
bool HotFunctionRewriter::exposeFileLocalData() {
  std::string Suffix = ".hotpatch.static." + utohexstr(xxh3_64bits(unitName()));
  bool Changed = false;
  for (GlobalVariable &GV : M.globals()) {
    if (!GV.hasLocalLinkage() || GV.isConstant() || GV.isDeclaration() ||
        GV.getName().starts_with("llvm."))
      continue;
    GV.setName(GV.getName() + Suffix);
    GV.setLinkage(GlobalValue::ExternalLinkage);
    GV.setVisibility(GlobalValue::DefaultVisibility);
    GV.setDSOLocal(false);
    Changed = true;
  }
  return Changed;
}

bool HotFunctionRewriter::run() {
  if (M.getNamedMetadata(ProcessedMD))
    return false; // already rewritten (e.g. once before an LTO link)
  M.getOrInsertNamedMetadata(ProcessedMD);
  bool Exposed = TT.isWasm() && exposeFileLocalData();

  // Record layouts go in a section that is never loaded: module assembly,
  // because an IR global would be allocated in the program's memory.
  if (Opts.Layouts && !Opts.Layouts->empty() && TT.isOSBinFormatELF())
    M.appendModuleInlineAsm(".pushsection " HOTPATCH_LAYOUTS_SECTION ",\"\",@progbits\n.ascii \"" +
                            asciiEscape(*Opts.Layouts) + "\"\n.popsection");
  // On wasm, a section named .custom_section.<name> in assembly is a custom
  // section of the object (never memory); wasm-ld concatenates those of
  // every input into the program, where the patch link finds them. (An IR
  // global in such a section becomes a data segment in LLVM 19, and wasm
  // assembly has no .pushsection: what follows module assembly sets its
  // own section.)
  if (Opts.Layouts && !Opts.Layouts->empty() && TT.isWasm())
    M.appendModuleInlineAsm(".section .custom_section" HOTPATCH_LAYOUTS_SECTION
                            ",\"\",@\n.ascii \"" +
                            asciiEscape(*Opts.Layouts) + "\"\n.text");
  // How this object was built, for the thin link to compare with the
  // program's copy (hotpatch/object_records.h).
  if (TT.isOSBinFormatELF() && !Opts.OptLevel.empty()) {
    const char *Mode = Opts.Mode == RewriteMode::Both    ? "both"
                       : Opts.Mode == RewriteMode::Thunk ? "thunk"
                                                         : "callsite";
    M.appendModuleInlineAsm(
        (".pushsection " HOTPATCH_BUILD_RECORD_PREFIX HOTPATCH_BUILD_RECORD_VERSION "." +
         Opts.OptLevel + "." + (Opts.AllFunctions ? "all" : "annotated") + "." + Mode +
         ",\"e\",@progbits\n.popsection"));
  }

  // Each global's dynamic initialiser stays a function of its own, in a
  // section of its own: a patch that adds a global must run that global's
  // initialiser, and only that one, not the file's whole static-init
  // function, which would construct the existing globals a second time.
  bool Changed = Exposed;
  for (Function &F : M)
    if (!F.isDeclaration() && F.getName().starts_with("__cxx_global_var_init")) {
      F.addFnAttr(Attribute::NoInline);
      if (F.getSection() == ".text.startup")
        F.setSection((".text.startup." + F.getName()).str());
      Changed = true;
    }

  Hot = collectHotFunctions();
  // At -O0 nothing inlines C2 into C1; in an all-mode LTO pre-link nothing
  // inlines a hot C2. Elsewhere the optimiser does, and is left to it.
  if (!Opts.InlineHotCalls && (Opts.OptLevel == "O0" || Opts.AllFunctions))
    Changed |= callBaseVariants();
  if (Hot.empty())
    return Changed;
  for (Function *F : Hot)
    makeHot(*F, AnnotatedNames.contains(F->getName()));
  appendToUsed(M, Used);
  emitModuleConstructor();
  return true;
}

} // namespace

PreservedAnalyses HotFunctionPass::run(Module &M, ModuleAnalysisManager &) {
  HotFunctionRewriter Rewriter(M, Opts);
  return Rewriter.run() ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

} // namespace hotpatch
