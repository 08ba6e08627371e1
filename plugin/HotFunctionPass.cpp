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
// This file holds the pass: the order of the steps, each in a file of its own
// (HotRewrite.h), the rewrite of one hot function from them, and what the
// module needs whether or not it has hot functions (the dynamic initialisers
// kept apart, file-local data on WebAssembly). The slot and the entry are in
// llvm.used: without that, LTO internalises the slot and folds the loads back
// into direct calls.
//
// This pass never decides *whether* a use of the annotation is legal: the AST
// half (HotpatchPlugin.cpp) diagnoses misuse with source locations. Here,
// functions that cannot be hot are skipped.
//
//===----------------------------------------------------------------------===//
#include "HotFunctionPass.h"
#include "HotRewrite.h"

#include "hotpatch/slot_table.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/xxhash.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

using namespace llvm;

namespace hotpatch {
namespace {

constexpr StringLiteral ProcessedMD = "hotpatch.processed";

/// On WebAssembly, gives every file-local writable variable a visible name
/// made unique by its file: a patch (a side module) reaches the program's
/// copy by name through a GOT.mem import, so its state is kept, where a
/// local symbol would bind to a fresh copy in the patch. Names of C++
/// statics are stable across builds (`_ZL7counter`, `_ZZ4tickvE5calls`);
/// numbered ones (`x.1`, `..._0`) shift when another static of that name is
/// added before them, which the patch link refuses (docs/design.md).
bool exposeFileLocalData(RewriteContext &Cx) {
  std::string Suffix = ".hotpatch.static." + utohexstr(xxh3_64bits(Cx.unitName()));
  bool Changed = false;
  for (GlobalVariable &GV : Cx.M.globals()) {
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

/// Gives F a slot, puts it behind a thunk (thunk modes), rewrites its calls
/// in this module and emits its table entry.
HotFunction makeHot(RewriteContext &Cx, Function &F, bool Annotated) {
  const PluginOptions &Opts = Cx.Opts;
  const Triple &TT = Cx.TT;
  HotFunction HF;
  std::string Name = F.getName().str();
  bool Thunked = Opts.Mode != RewriteMode::CallSite;
  // WebAssembly needs no naked thunk: its thunk calls the body ordinarily
  // when it cannot tail-call (thunkMayTailCall, HotThunks.cpp).
  bool Naked = Thunked && !TT.isWasm() && hasByValueAggregate(F);
  if (Naked && TT.getArch() != Triple::x86_64)
    Thunked = Naked = false; // no safe thunk: call sites only

  Comdat *SlotComdat = nullptr;
  HF.Slot = createSlot(Cx, F, Name, SlotComdat);
  HF.Body = &F;
  HF.Public = &F;
  HF.Flags = (F.hasLocalLinkage() ? HOTPATCH_ENTRY_LOCAL : 0) |
             (Annotated ? HOTPATCH_ENTRY_ANNOTATED : 0) |
             (F.hasLinkOnceODRLinkage() || F.hasWeakODRLinkage()
                  ? HOTPATCH_ENTRY_ODR
                  : 0);

  if (Thunked)
    putBehindThunk(Cx, HF, Name, SlotComdat, Naked);
  HF.Slot->setInitializer(HF.Body);
  bool LoadSlot = Opts.Mode != RewriteMode::Thunk || !Thunked;
  if (LoadSlot)
    HF.Flags |= HOTPATCH_ENTRY_CALLSITE;
  rewriteCallSites(Cx, HF, LoadSlot);
  emitEntry(Cx, HF, Name, SlotComdat);
  return HF;
}

/// The rewrite of one module; whether it changed anything.
bool rewriteModule(Module &M, const PluginOptions &Opts) {
  RewriteContext Cx(M, Opts);
  if (M.getNamedMetadata(ProcessedMD))
    return false; // already rewritten (e.g. once before an LTO link)
  M.getOrInsertNamedMetadata(ProcessedMD);
  bool Exposed = Cx.TT.isWasm() && exposeFileLocalData(Cx);
  emitObjectRecords(Cx);

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

  Cx.Hot = collectHotFunctions(Cx);
  // At -O0 nothing inlines C2 into C1; in an all-mode LTO pre-link nothing
  // inlines a hot C2. Elsewhere the optimiser does, and is left to it.
  if (!Opts.InlineHotCalls && (Opts.OptLevel == "O0" || Opts.AllFunctions))
    Changed |= callBaseVariants(Cx);
  if (Cx.Hot.empty())
    return Changed;
  for (Function *F : Cx.Hot)
    makeHot(Cx, *F, Cx.AnnotatedNames.contains(F->getName()));
  appendToUsed(M, Cx.Used);
  emitModuleConstructor(Cx);
  return true;
}

} // namespace

PreservedAnalyses HotFunctionPass::run(Module &M, ModuleAnalysisManager &) {
  return rewriteModule(M, Opts) ? PreservedAnalyses::none()
                                : PreservedAnalyses::all();
}

} // namespace hotpatch
