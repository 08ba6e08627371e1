//===- SlotTable.cpp - the slots, the table entries, their registration ---===//
//
// A step of the slot rewrite (HotRewrite.h). For a hot function N:
//
//   N.hotpatch.slot   the slot, which the rewrite initialises to the code
//                     calls should reach;
//   N.hotpatch.entry  the table entry the runtime enumerates
//                     (hotpatch/slot_table.h), in the slot's COMDAT.
//
// The slot of a non-local N is linkonce_odr in its own COMDAT: every object
// that emits N (inline functions, templates) emits the same slot, and the
// linkers keep one per image and merge the images' copies at run time. On
// WebAssembly slots are visible symbols a patch binds to by name.
//
// Once per image, a constructor (in its own COMDAT) hands the image's table
// and thunk section to the runtime, if the runtime is there.
//
//===----------------------------------------------------------------------===//
#include "HotRewrite.h"

#include "hotpatch/slot_table.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/Support/xxhash.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

using namespace llvm;

namespace hotpatch {
namespace {

/// A C string in the module, for a table entry.
Constant *cString(RewriteContext &Cx, StringRef S) {
  Constant *Init = ConstantDataArray::getString(Cx.Ctx, S, /*AddNull=*/true);
  auto *GV = new GlobalVariable(Cx.M, Init->getType(), /*isConstant=*/true,
                                GlobalValue::PrivateLinkage, Init,
                                ".hotpatch.str");
  GV->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
  GV->setAlignment(Align(1));
  return GV;
}

/// The defining file's name, one string shared by all of the module's entries.
Constant *unitString(RewriteContext &Cx) {
  if (!Cx.Unit)
    Cx.Unit = cString(Cx, Cx.unitName());
  return Cx.Unit;
}

} // namespace

GlobalVariable *createSlot(RewriteContext &Cx, Function &F, StringRef Name,
                           Comdat *&SlotComdat) {
  Module &M = Cx.M;
  const Triple &TT = Cx.TT;
  std::string SlotName = (Name + HOTPATCH_SLOT_SUFFIX).str();
  bool Local = F.hasLocalLinkage();
  // On WebAssembly a patch finds the program's slot of a file-local F by
  // name, like any other: the slot is a strong, visible symbol named after
  // F and its file (a file compiled twice into one program is a duplicate
  // symbol error, not two functions sharing a slot).
  bool WasmLocal = Local && TT.isWasm();
  if (WasmLocal)
    SlotName += "." + utohexstr(xxh3_64bits(Cx.unitName()));
  auto *Slot = new GlobalVariable(
      M, Cx.PtrTy, /*isConstant=*/false,
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

void emitEntry(RewriteContext &Cx, HotFunction &HF, StringRef Name,
               Comdat *SlotComdat) {
  Module &M = Cx.M;
  IntegerType *I32Ty = Cx.I32Ty;
  StructType *EntryTy = Cx.EntryTy;
  Constant *Fields[] = {
      ConstantInt::get(I32Ty, HOTPATCH_SLOT_TABLE_VERSION),
      ConstantInt::get(I32Ty, HF.Flags),
      cString(Cx, Name),
      HF.Slot,
      HF.Body,
      HF.Public,
      unitString(Cx),
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
  Cx.Used.push_back(Entry);
  Cx.Used.push_back(HF.Slot);
}

void emitModuleConstructor(RewriteContext &Cx) {
  Module &M = Cx.M;
  LLVMContext &Ctx = Cx.Ctx;
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

  auto *RegTy =
      FunctionType::get(Type::getVoidTy(Ctx), {Cx.PtrTy, Cx.PtrTy}, false);
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
  if (Cx.TT.supportsCOMDAT()) {
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

} // namespace hotpatch
