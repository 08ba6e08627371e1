//===- HotRewrite.h - the steps of the slot rewrite and what they share ---===//
//
// Internal to plugin/. HotFunctionPass.cpp rewrites one module in steps, one
// file each: choosing the hot functions (HotSelection.cpp), their slots, table
// entries and the constructor that registers the table (SlotTable.cpp), the
// thunks (HotThunks.cpp), the calls (HotCallSites.cpp), and the records
// thinlink reads (ObjectRecords.cpp). This header holds what the steps share:
// the module with its types and the state of the rewrite (RewriteContext),
// one rewritten function (HotFunction), and each step's entry points.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_PLUGIN_HOTREWRITE_H
#define HOTPATCH_PLUGIN_HOTREWRITE_H

#include "HotFunctionPass.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/Module.h"
#include "llvm/TargetParser/Triple.h"

#include <cstdint>

namespace hotpatch {

/// The module being rewritten, the types the rewrite builds with, and what
/// the steps learn about the module along the way.
struct RewriteContext {
  RewriteContext(llvm::Module &M, const PluginOptions &Opts)
      : M(M), Opts(Opts), Ctx(M.getContext()), TT(M.getTargetTriple()),
        PtrTy(llvm::PointerType::getUnqual(Ctx)),
        I32Ty(llvm::Type::getInt32Ty(Ctx)),
        EntryTy(llvm::StructType::get(
            Ctx, {I32Ty, I32Ty, PtrTy, PtrTy, PtrTy, PtrTy, PtrTy})) {}

  /// The defining file's name, as the table entries and file-unique names
  /// give it.
  llvm::StringRef unitName() const {
    return Opts.Unit.empty() ? llvm::StringRef(M.getSourceFileName())
                             : llvm::StringRef(Opts.Unit);
  }

  llvm::Module &M;
  const PluginOptions &Opts;
  llvm::LLVMContext &Ctx;
  llvm::Triple TT;
  llvm::PointerType *PtrTy;
  llvm::IntegerType *I32Ty;
  /// struct hotpatch_slot_entry (hotpatch/slot_table.h).
  llvm::StructType *EntryTy;
  /// The string unitName() in the module, once an entry needed it: one
  /// string shared by all of the module's entries.
  llvm::Constant *Unit = nullptr;
  llvm::StringSet<> AnnotatedNames;
  llvm::SetVector<llvm::Function *> Hot; // the original functions, later the bodies
  llvm::SmallPtrSet<const llvm::Function *, 8> Annotated;
  /// What goes into llvm.used once every hot function is rewritten.
  llvm::SmallVector<llvm::GlobalValue *, 32> Used;
};

/// One hot function, as the rewrite leaves it.
struct HotFunction {
  llvm::Function *Body = nullptr;   // the original function, renamed in thunk modes
  llvm::Function *Public = nullptr; // what the symbol N is after the rewrite
  llvm::GlobalVariable *Slot = nullptr;
  uint32_t Flags = 0; // HOTPATCH_ENTRY_*
};

// HotSelection.cpp

/// The hot functions of the module: the annotated ones (also recorded in
/// Cx.AnnotatedNames and Cx.Annotated), then, in all mode, every other
/// function that can be hot.
llvm::SetVector<llvm::Function *> collectHotFunctions(RewriteContext &Cx);

// SlotTable.cpp

/// The slot of F (named after Name, F's name before the rewrite), without an
/// initialiser; SlotComdat is set to the slot's COMDAT, or null.
llvm::GlobalVariable *createSlot(RewriteContext &Cx, llvm::Function &F,
                                 llvm::StringRef Name,
                                 llvm::Comdat *&SlotComdat);
/// The table entry of HF, in the slot's COMDAT; the entry and the slot go
/// into Cx.Used.
void emitEntry(RewriteContext &Cx, HotFunction &HF, llvm::StringRef Name,
               llvm::Comdat *SlotComdat);
/// The image's constructor that hands its table and thunks to the runtime.
void emitModuleConstructor(RewriteContext &Cx);

// HotThunks.cpp

/// Whether F takes an aggregate by value (byval, inalloca, preallocated).
bool hasByValueAggregate(const llvm::Function &F);
/// Renames HF.Body (the function N) to N.hotpatch.body, reached only
/// through the slot, and puts in its place a thunk named N that every use of
/// N now reaches; HF.Public becomes the thunk.
void putBehindThunk(RewriteContext &Cx, HotFunction &HF, llvm::StringRef Name,
                    llvm::Comdat *SlotComdat, bool Naked);

// HotCallSites.cpp

/// Makes the direct calls of HF.Public in this module load the slot (when
/// LoadSlot) or, where the inliner may inline them, call the body.
void rewriteCallSites(RewriteContext &Cx, HotFunction &HF, bool LoadSlot);
/// Calls of a C1 (D1) that only forwards to its C2 (D2) call the C2.
bool callBaseVariants(RewriteContext &Cx);

// ObjectRecords.cpp

/// The record layouts and the build record of the object, in sections that
/// are never loaded.
void emitObjectRecords(RewriteContext &Cx);

} // namespace hotpatch

#endif
