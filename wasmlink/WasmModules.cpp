//===- WasmModules.cpp - what the patch link reads of wasm modules --------===//
//
// What a WebAssembly patch cannot do, and so is refused here:
//
//  - keep the state of a file-local writable variable: the patch's code
//    would reach its own copy at __memory_base + offset. The plugin gives
//    every such variable a visible name on wasm (so it is reached through a
//    GOT.mem import and resolves to the program's copy); one left local was
//    built without the plugin.
//  - the same for hidden globals (-fvisibility=hidden, clang's default on
//    wasm): they bind to the patch's copy.
//  - thread_local data (TLS segments): a patch would need its own TLS block
//    in every instance.
//  - a change of a record type's layout (the plugin's hotpatch.layouts
//    custom sections, compared with the program's as natively).
//  - dynamic initialisers: never run in a patch (they would construct the
//    program's globals again).
//
//===----------------------------------------------------------------------===//
#include "WasmModules.h"

#include "CacheBuilder.h"

#include "hotpatch/object_records.h"
#include "hotpatch/slot_table.h"
#include "hotpatch/wasm_patch.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/BinaryFormat/Wasm.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/Object/Binary.h"
#include "llvm/Object/Wasm.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/LEB128.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {

namespace {

Expected<OwningBinary<Binary>> openWasm(StringRef Path) {
  Expected<OwningBinary<Binary>> Bin = createBinary(Path);
  if (!Bin)
    return Bin.takeError();
  if (!isa<WasmObjectFile>(Bin->getBinary()))
    return createStringError(inconvertibleErrorCode(),
                             "%s is not a WebAssembly module or object",
                             Path.str().c_str());
  return Bin;
}

StringRef segmentName(const WasmObjectFile &Obj, const WasmSymbol &Sym) {
  uint32_t Seg = Sym.Info.DataRef.Segment;
  if (Seg >= Obj.dataSegments().size())
    return "";
  return Obj.dataSegments()[Seg].Data.Name;
}

bool isTlsSegment(const WasmObjectFile &Obj, const WasmSymbol &Sym) {
  uint32_t Seg = Sym.Info.DataRef.Segment;
  return Seg < Obj.dataSegments().size() &&
         (Obj.dataSegments()[Seg].Data.LinkingFlags & wasm::WASM_SEG_FLAG_TLS);
}

/// The concatenated contents of the custom sections named Name.
std::string customSection(const WasmObjectFile &Obj, StringRef Name) {
  std::string Text;
  for (const SectionRef &S : Obj.sections()) {
    const WasmSection &WS = Obj.getWasmSection(S);
    if (WS.Type == wasm::WASM_SEC_CUSTOM && WS.Name == Name)
      Text.append(WS.Content.begin(), WS.Content.end());
  }
  return Text;
}

/// The custom section the plugin writes layouts into (object_records.h's
/// section name without its leading dot).
const StringRef LayoutsSection = StringRef(HOTPATCH_LAYOUTS_SECTION).drop_front();

} // namespace

Expected<WasmProgram> readWasmProgram(StringRef Path) {
  auto Bin = openWasm(Path);
  if (!Bin)
    return Bin.takeError();
  auto &Obj = cast<WasmObjectFile>(*Bin->getBinary());
  if (Obj.isRelocatableObject())
    return createStringError(inconvertibleErrorCode(),
                             "%s is an object file, not a linked program",
                             Path.str().c_str());
  WasmProgram P;
  for (const SectionRef &S : Obj.sections()) {
    const WasmSection &WS = Obj.getWasmSection(S);
    if (WS.Type != wasm::WASM_SEC_CUSTOM || WS.Name != "build_id")
      continue;
    // The section holds the id's length (LEB128) and the id.
    unsigned N = 0;
    const char *Error = nullptr;
    uint64_t Len = decodeULEB128(WS.Content.data(), &N,
                                 WS.Content.data() + WS.Content.size(), &Error);
    if (Error || N + Len != WS.Content.size())
      return createStringError(inconvertibleErrorCode(),
                               "%s: malformed build_id section",
                               Path.str().c_str());
    P.BuildId = toHex(WS.Content.slice(N), /*LowerCase=*/true);
  }
  if (P.BuildId.empty())
    return createStringError(
        inconvertibleErrorCode(),
        "%s has no build_id section: link it with thinlink (which adds "
        "--build-id) so that patches can name the program they are for",
        Path.str().c_str());
  for (const wasm::WasmImport &I : Obj.imports())
    if (I.Kind == wasm::WASM_EXTERNAL_MEMORY)
      P.SharedMemory = I.Memory.Flags & wasm::WASM_LIMITS_FLAG_IS_SHARED;
  for (const wasm::WasmLimits &M : Obj.memories())
    P.SharedMemory = M.Flags & wasm::WASM_LIMITS_FLAG_IS_SHARED;
  for (const wasm::WasmExport &E : Obj.exports())
    P.Exports[E.Name] = E.Kind;
  P.Layouts = parseLayouts(customSection(Obj, LayoutsSection));
  for (const wasm::WasmDebugName &N : Obj.debugNames())
    if (N.Type == wasm::NameType::FUNCTION)
      P.FunctionNames.insert(N.Name);
  bool ImportsTable = llvm::any_of(Obj.imports(), [](const wasm::WasmImport &I) {
    return I.Kind == wasm::WASM_EXTERNAL_TABLE;
  });
  for (StringRef Needed : {"__indirect_function_table", "__stack_pointer"})
    if (!P.Exports.count(Needed) &&
        !(Needed == "__indirect_function_table" && ImportsTable))
      return createStringError(
          inconvertibleErrorCode(),
          "%s does not export %s: link it with thinlink, which exports what "
          "patches need",
          Path.str().c_str(), Needed.str().c_str());
  return P;
}

std::vector<std::string> checkPatchObject(StringRef Path,
                                          const WasmProgram &Program) {
  std::vector<std::string> Problems;
  auto Bin = openWasm(Path);
  if (!Bin) {
    Problems.push_back(toString(Bin.takeError()));
    return Problems;
  }
  auto &Obj = cast<WasmObjectFile>(*Bin->getBinary());
  if (!Obj.isRelocatableObject()) {
    Problems.push_back((Path + " is a linked module; give the rebuilt object "
                               "files (.o)").str());
    return Problems;
  }
  bool HasTable = false;
  for (const WasmSegment &Seg : Obj.dataSegments())
    HasTable |= Seg.Data.Name == HOTPATCH_TABLE_SECTION;
  if (!HasTable)
    Problems.push_back(
        (Path + " has no hot functions: build it with -fplugin=hotpatch.so "
                "(and -fplugin-arg-hotpatch-all or HOTPATCH annotations)")
            .str());
  // A type whose layout changed breaks every existing function and every
  // existing object of it (the same rule as the native thin link).
  for (const auto &[Type, Layout] :
       parseLayouts(customSection(Obj, LayoutsSection)))
    if (auto Old = Program.Layouts.find(Type);
        Old != Program.Layouts.end() && Old->second != Layout)
      Problems.push_back((Path + " changes the layout of " + Type + ": " +
                          describeLayoutChange(Old->second, Layout) +
                          "; code and objects in the running program use the "
                          "old layout: rebuild the program and reload it")
                             .str());
  // A patch's static initialisers are never run: the globals they would
  // construct are the program's (found through GOT.mem), and constructing
  // them again would throw their state away.
  std::vector<StringRef> SymbolNames;
  for (const SymbolRef &S : Obj.symbols())
    SymbolNames.push_back(Obj.getWasmSymbol(S).Info.Name);
  for (const wasm::WasmInitFunc &F : Obj.linkingData().InitFunctions) {
    if (F.Symbol >= SymbolNames.size())
      continue;
    StringRef Fn = SymbolNames[F.Symbol];
    if (Fn != HOTPATCH_MODULE_CTOR)
      Problems.push_back(
          (Path + ": dynamic initialiser '" + Fn +
           "' (a global with a constructor or a non-constant initialiser): "
           "a WebAssembly patch cannot run initialisers yet; restart the "
           "program")
              .str());
  }
  for (const SymbolRef &S : Obj.symbols()) {
    const WasmSymbol &Sym = Obj.getWasmSymbol(S);
    if (!Sym.isTypeData() || !Sym.isDefined())
      continue;
    StringRef Name = Sym.Info.Name;
    // A function the program has must be reached through the program's
    // slot, found by the slot's name: a patch whose slot name the program
    // does not export would publish into its own copy while the program
    // went on calling the old code. (A new function's slot is the patch's,
    // rightly; telling the two apart needs the program's name section.)
    if (size_t At = Name.find(HOTPATCH_SLOT_SUFFIX); At != StringRef::npos) {
      StringRef Function = Name.take_front(At);
      if (Program.FunctionNames.empty() && !Program.Exports.count(Name)) {
        Problems.push_back(
            (Path + ": the program has no name section (it was stripped), so "
             "whether it has a function " + Function +
             " whose slot it does not export cannot be told; relink it "
             "without stripping (no -s or --strip-all) and "
             "restart it")
                .str());
        continue;
      }
      std::string Body = (Function + HOTPATCH_BODY_SUFFIX).str();
      // wasm-ld writes demangled names into the name section.
      auto Known = [&](const std::string &N) {
        return Program.FunctionNames.contains(N) ||
               Program.FunctionNames.contains(demangle(N));
      };
      if (!Program.Exports.count(Name) && (Known(Function.str()) || Known(Body)))
        Problems.push_back(
            (Path + ": the program has a function " + Function +
             " but not its slot " + Name +
             " (a file-local function's slot is named after its file: was "
             "the file built from another path?); rebuild and restart the "
             "program")
                .str());
      continue;
    }
    StringRef Seg = segmentName(Obj, Sym);
    if (isTlsSegment(Obj, Sym)) {
      Problems.push_back((Path + ": thread_local '" + Name +
                          "': a WebAssembly patch cannot define thread-local "
                          "data yet; restart the program")
                             .str());
      continue;
    }
    bool ReadOnly = Seg.starts_with(".rodata") || Seg == HOTPATCH_TABLE_SECTION;
    if (ReadOnly || Name.ends_with(HOTPATCH_ENTRY_SUFFIX))
      continue; // constants are the same in the patch; slots are the plugin's
    if (Sym.isBindingLocal())
      Problems.push_back(
          (Path + ": file-local variable '" + Name +
           "' would start over in a WebAssembly patch (its code would use "
           "the patch's copy, not the program's); give it external linkage, "
           "or restart the program")
              .str());
    else if (Sym.isHidden())
      Problems.push_back(
          (Path + ": hidden variable '" + Name +
           "' would start over in a WebAssembly patch; build with "
           "-fvisibility=default (the plugin requires it on wasm)")
              .str());
  }
  // A static added to a function that has one of the same name: numbered
  // in source order, the new one could take the running one's name (and,
  // through GOT.mem, its storage) while that one started over.
  std::map<std::string, std::vector<std::string>> StaticsByKey;
  for (const SymbolRef &S : Obj.symbols()) {
    const WasmSymbol &Sym = Obj.getWasmSymbol(S);
    if (!Sym.isTypeData() || !Sym.isDefined())
      continue;
    StringRef Name = Sym.Info.Name;
    std::string Key = localStaticKey(Name.split(".hotpatch.static.").first);
    if (!Key.empty())
      StaticsByKey[Key].push_back(Name.str());
  }
  for (const auto &[Key, Names] : StaticsByKey)
    if (Names.size() > 1 && llvm::any_of(Names, [&](const std::string &N) {
          return !Program.Exports.count(N);
        }))
      Problems.push_back((Path + " adds a static variable '" + Key +
                          "' to a function that already has one of that name: the compiler "
                          "numbers them in source order, so the running program's variable can "
                          "no longer be told from the new one; give the new static another "
                          "name, or restart the program")
                             .str());
  return Problems;
}

std::vector<std::string> checkPatchImports(StringRef PatchPath,
                                           const WasmProgram &Program) {
  std::vector<std::string> Problems;
  auto Bin = openWasm(PatchPath);
  if (!Bin) {
    Problems.push_back(toString(Bin.takeError()));
    return Problems;
  }
  auto &Obj = cast<WasmObjectFile>(*Bin->getBinary());
  StringMap<uint8_t> Own;
  for (const wasm::WasmExport &E : Obj.exports())
    Own[E.Name] = E.Kind;
  auto Defined = [&](StringRef Name, uint8_t Kind) {
    auto P = Program.Exports.find(Name);
    if (P != Program.Exports.end() && P->second == Kind)
      return true;
    auto O = Own.find(Name);
    return O != Own.end() && O->second == Kind;
  };
  for (const wasm::WasmImport &I : Obj.imports()) {
    StringRef Name = I.Field;
    if (I.Module == "env" &&
        (Name == "memory" || Name == "__memory_base" || Name == "__table_base" ||
         Name == "__indirect_function_table" || Name == "__stack_pointer"))
      continue;
    // Named weakly by the patch's module constructor, which is never run;
    // the runtime gives placeholders (hotpatch/wasm_patch.h).
    if ((I.Module == "env" || I.Module == "GOT.func") &&
        (Name == HOTPATCH_REGISTER_FN || Name == "hotpatch_register_thunks"))
      continue;
    bool Ok = false;
    if (I.Module == "GOT.mem")
      Ok = Defined(Name, wasm::WASM_EXTERNAL_GLOBAL);
    else if (I.Module == "GOT.func")
      Ok = Defined(Name, wasm::WASM_EXTERNAL_FUNCTION);
    else if (I.Module == "env" && I.Kind == wasm::WASM_EXTERNAL_FUNCTION)
      Ok = Defined(Name, wasm::WASM_EXTERNAL_FUNCTION);
    if (!Ok)
      Problems.push_back(
          ("the patch needs " + I.Module + "." + Name +
           ", which the program does not export (it was not linked into the "
           "program, or the linker dropped it as unused); rebuild and "
           "restart the program")
              .str());
  }
  return Problems;
}

Error appendProgramManifest(StringRef Path) {
  json::Object Manifest{{"format", HOTPATCH_WASM_PATCH_VERSION}};
  {
    auto Bin = openWasm(Path);
    if (!Bin)
      return Bin.takeError();
    auto &Obj = cast<WasmObjectFile>(*Bin->getBinary());
    for (const wasm::WasmImport &I : Obj.imports())
      if (I.Kind == wasm::WASM_EXTERNAL_MEMORY) {
        json::Object Memory{
            {"initial", int64_t(I.Memory.Minimum)},
            {"shared", bool(I.Memory.Flags & wasm::WASM_LIMITS_FLAG_IS_SHARED)}};
        if (I.Memory.Flags & wasm::WASM_LIMITS_FLAG_HAS_MAX)
          Memory["maximum"] = int64_t(I.Memory.Maximum);
        Manifest["memory"] = std::move(Memory);
      }
  } // the file is closed before it is appended to
  std::string Payload;
  raw_string_ostream(Payload) << json::Value(std::move(Manifest));
  return appendCustomSection(Path, HOTPATCH_WASM_PROGRAM_SECTION, Payload);
}

Error appendCustomSection(StringRef Path, StringRef Name, StringRef Payload) {
  std::string Body;
  raw_string_ostream BS(Body);
  encodeULEB128(Name.size(), BS);
  BS << Name << Payload;
  BS.flush();
  std::error_code EC;
  raw_fd_ostream OS(Path, EC, sys::fs::OF_Append);
  if (EC)
    return createFileError(Path, EC);
  OS << char(0); // custom section id
  encodeULEB128(Body.size(), OS);
  OS << Body;
  OS.close();
  if (OS.has_error())
    return createFileError(Path, OS.error());
  return Error::success();
}

} // namespace hotpatch
