//===- SectionPlanning.cpp - the fate of each section -----------------------===//
//
// Pass 3 and 4 of a thin link: compare each section with the current state and
// decide its fate (ghost, include, discard), refusing what a patch cannot do;
// then carry changed constants' users into the patch.
//
//===----------------------------------------------------------------------===//
#include "PatchContext.h"

#include "CacheBuilder.h"

#include "llvm/Demangle/Demangle.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {
namespace patchlink {

/// "the variable 'x' (section .data.x)", or the section alone.
std::string describeData(const Rebuilt &R, const InputSection &S) {
  auto It = R.BySection.find(S.Index);
  if (It != R.BySection.end())
    for (const ObjSymbol *Sym : It->second)
      if (!Sym->Name.starts_with(".L"))
        return ("the variable '" + Sym->Name + "' (section " + S.Name + ")").str();
  return "section '" + S.Name + "'";
}

/// Where a section of a rebuilt object lives now: found through a symbol it
/// defines, in the chain state or in the base.
std::optional<uint64_t> baseAddressOf(PatchContext &C, Rebuilt &R, unsigned Index) {
  auto It = R.BySection.find(Index);
  if (It == R.BySection.end())
    return std::nullopt;
  for (const ObjSymbol *Sym : It->second) {
    // Numbered labels name different things in two builds: an exception
    // table found through GCC_except_table<N> could be another function's.
    if (isNumberedLabel(Sym->Name))
      continue;
    const Symbol *B =
        C.baseDefinition(R.SourceFile, Sym->Name, Sym->Binding == ELF::STB_LOCAL);
    if (!B)
      continue;
    uint64_t Addr = B->Address;
    if (B->Kind == SymbolKind::Tls)
      Addr += C.Base->image().Tls.VAddr;
    return Addr + Bias - Sym->Value;
  }
  return std::nullopt;
}

/// The vtable symbol a section defines, or nullptr.
static const ObjSymbol *vtableSymbol(const Rebuilt &R, const InputSection &S) {
  auto It = R.BySection.find(S.Index);
  if (It == R.BySection.end())
    return nullptr;
  for (const ObjSymbol *Sym : It->second)
    if (Sym->Name.starts_with("_ZTV") && Sym->Value == 0)
      return Sym;
  return nullptr;
}

/// The class whose vtable a section holds ("class Square"), or "".
static std::string vtableClass(const Rebuilt &R, const InputSection &S) {
  const ObjSymbol *Sym = vtableSymbol(R, S);
  if (!Sym)
    return "";
  std::string D = demangle(Sym->Name.str());
  StringRef Class(D);
  if (Class.consume_front("vtable for "))
    return ("class " + Class).str();
  return "the class of '" + Sym->Name.str() + "'";
}

/// A new static variable shares its name with another static of the same
/// function: its number in the function may have taken the running
/// variable's, and no name tells them apart any more.
static Error checkRenumberedStatic(PatchContext &C, Rebuilt &R, unsigned Index) {
  auto It = R.BySection.find(Index);
  if (It == R.BySection.end())
    return Error::success();
  for (const ObjSymbol *Sym : It->second) {
    std::string Key = localStaticKey(Sym->Name);
    if (Key.empty())
      continue;
    for (const ObjSymbol &Other : R.Symbols)
      if (&Other != Sym && Other.Name != Sym->Name && Other.Type != ELF::STT_FUNC &&
          localStaticKey(Other.Name) == Key &&
          C.baseDefinition(R.SourceFile, Other.Name, Other.Binding == ELF::STB_LOCAL))
        return fail("'" + R.Path + "' adds a static variable '" + Key +
                    "' to a function that already has one of that name: the compiler "
                    "numbers them in source order, so the running program's variable can "
                    "no longer be told from the new one, and its value could go to the "
                    "wrong one; give the new static another name, or rebuild the program "
                    "and restart it");
  }
  return Error::success();
}

/// The base's variable a data section of a rebuilt object defines, by its
/// symbol, whatever section the base had it in.
std::optional<BaseVariable> baseVariableOf(PatchContext &C, Rebuilt &R, unsigned Index) {
  auto It = R.BySection.find(Index);
  if (It == R.BySection.end())
    return std::nullopt;
  for (const ObjSymbol *Sym : It->second) {
    if (isNumberedLabel(Sym->Name) ||
        Sym->Value != 0 || Sym->Type == ELF::STT_FUNC)
      continue;
    const Symbol *B =
        C.baseDefinition(R.SourceFile, Sym->Name, Sym->Binding == ELF::STB_LOCAL);
    if (!B || B->Kind == SymbolKind::Func)
      continue;
    uint64_t Addr = B->Address;
    if (B->Kind == SymbolKind::Tls)
      Addr += C.Base->image().Tls.VAddr;
    return BaseVariable{Addr + Bias, B->Size};
  }
  return std::nullopt;
}

Error plan(PatchContext &C, Rebuilt &R) {
  std::map<std::pair<std::string, std::string>, const InputSection *> BaseSecs;
  for (const InputSection &S : R.BaseInput->Sections)
    BaseSecs[{S.Name, S.Group}] = &S;
  for (const InputSection &S : R.Hashed.Sections) {
    SectionPlan P;
    if (!(S.Flags & ELF::SHF_ALLOC)) {
      continue; // debug info and notes: left to lld (-S strips debug)
    }
    StringRef Name = S.Name;
    if (Name.starts_with(".init_array") || Name.starts_with(".fini_array") ||
        Name.starts_with(".ctors") || Name.starts_with(".dtors")) {
      P.F = Fate::Discard;
      R.Plans[S.Index] = P;
      continue;
    }
    if (S.Size == 0) {
      R.Plans[S.Index] = P; // nothing to place: .text, .data, .bss of -ffunction-sections objects
      continue;
    }
    std::string Key = chainSectionKey(R.Abs, S.Name, S.Group);
    auto Placed = C.Chain.Sections.find(Key);
    auto BaseIt = BaseSecs.find({S.Name, S.Group});
    uint64_t CurrentHash = 0, CurrentSize = 0;
    bool Exists = true;
    if (Placed != C.Chain.Sections.end()) {
      CurrentHash = Placed->second.Hash;
      CurrentSize = Placed->second.Size;
    } else if (BaseIt != BaseSecs.end()) {
      CurrentHash = BaseIt->second->Hash;
      CurrentSize = BaseIt->second->Size;
    } else {
      Exists = false;
    }
    bool Merge = S.Flags & ELF::SHF_MERGE;
    bool Tls = S.Flags & ELF::SHF_TLS;
    bool EhFrame = S.Type == ELF::SHT_X86_64_UNWIND || Name == ".eh_frame";
    // A variable whose section changed name (`int g = 0` in .bss.g, then
    // `int g = 5` in .data.g) is still the program's variable: found
    // through its symbol, it exists.
    std::optional<BaseVariable> Moved;
    if (!Exists && !isCode(S) && !EhFrame && !Merge && Name != HOTPATCH_TABLE_SECTION)
      if ((Moved = baseVariableOf(C, R, S.Index))) {
        Exists = true;
        CurrentSize = Moved->Size;
      }
    P.New = !Exists;
    P.Changed = !Exists || Moved || CurrentHash != S.Hash;

    if (EhFrame || Merge) {
      P.F = Fate::Include; // rewritten FDEs; literals are the patch's own
    } else if (!Exists) {
      if (Tls)
        return fail("'" + R.Path + "' adds the thread-local variable in '" +
                    S.Name + "'; a patch cannot add thread_local variables "
                    "(threads already running have no storage for them): "
                    "rebuild the program and restart it");
      if (holdsState(S))
        if (Error E = checkRenumberedStatic(C, R, S.Index))
          return E;
      P.F = Fate::Include;
    } else if (isCode(S) && P.Changed) {
      P.F = Fate::Include;
    } else {
      // Unchanged, or existing data: the running copy wins.
      std::optional<uint64_t> Addr = Placed != C.Chain.Sections.end()
                                         ? std::optional<uint64_t>(Placed->second.Address)
                                     : Moved ? std::optional<uint64_t>(Moved->Address)
                                             : baseAddressOf(C, R, S.Index);
      if (!Addr) {
        if (Tls)
          return fail("cannot find where section '" + S.Name + "' of '" +
                      R.Path + "' lives in the running program (no symbol "
                      "of it is in the base); rebuild and restart the program");
        // No symbol names it, so no source code names it either: jump
        // tables, LSDAs, the pointer cells exception tables use. Program
        // state always has a name; these are as good copied.
        P.F = Fate::Include;
      } else {
        P.F = Fate::Ghost;
        P.Address = *Addr;
        if (P.Changed && !isCode(S)) {
          bool State = holdsState(S);
          if (S.Name == HOTPATCH_TABLE_SECTION)
            ; // the plugin's table grows with new functions: not user data
          else if (std::string Class = vtableClass(R, S); !Class.empty()) {
            // Objects that exist point to the running vtable: an override
            // added or removed rewrites its entries in place. A virtual
            // function added or removed changes its size, and the slots
            // that callers index: that cannot be patched.
            if (S.Size != CurrentSize)
              return fail("the virtual functions of " + Class + " changed in '" + R.Path +
                          "' (a virtual function added or removed: its vtable grows from " +
                          Twine(CurrentSize / 8) + " to " + Twine(S.Size / 8) +
                          " entries): objects of it that already exist cannot get the "
                          "new entries; rebuild the program and restart it");
            P.F = Fate::Include;
            P.InPlace = true;
            C.Vtables.push_back({vtableSymbol(R, S)->Name.str(), Class, *Addr, S.Size});
          }
          else if (!State)
            // Constants (literals, exception tables, jump tables, const
            // arrays) cannot hold state: the patch has its own copy, of any
            // size, and whatever refers to them comes along (propagate(C)).
            P.F = Fate::Include;
          else if (S.Size != CurrentSize)
            return fail(describeData(R, S) + " in '" + R.Path + "' changed size (" +
                        Twine(CurrentSize) + " to " + Twine(S.Size) +
                        " bytes); it holds state of the running program "
                        "(a global or static variable), and a patch cannot "
                        "resize it: rebuild the program and restart it");
          else
            C.note("initial value of '" + S.Name + "' in " + R.SourceFile +
                 " changed; the running program keeps its current value");
        }
      }
    }
    R.Plans[S.Index] = P;
  }
  return Error::success();
}

/// A section that refers to changed constant data must use the new copy:
/// code that did not change but reads a changed table, string or exception
/// table is part of the patch, and so is constant data pointing at it, up
/// to a fixed point. State (writable data) keeps pointing where it did.
Error propagate(PatchContext &C, Rebuilt &R) {
  const std::map<unsigned, std::set<unsigned>> &RefersTo = R.RefersTo;
  std::map<unsigned, const InputSection *> ByIndex;
  for (const InputSection &S : R.Hashed.Sections)
    ByIndex[S.Index] = &S;
  auto ChangedConstant = [&](unsigned I) {
    auto P = R.Plans.find(I);
    auto S = ByIndex.find(I);
    return P != R.Plans.end() && S != ByIndex.end() && P->second.F == Fate::Include &&
           P->second.Changed && !isCode(*S->second) && !holdsState(*S->second) &&
           !(S->second->Flags & ELF::SHF_MERGE) &&
           S->second->Name != ".eh_frame";
    // Mergeable literals are always the patch's own and compared by content
    // in the hashes of what refers to them (ObjectHasher.cpp).
  };
  for (bool Again = true; Again;) {
    Again = false;
    for (auto &[Index, P] : R.Plans) {
      if (P.F != Fate::Ghost)
        continue;
      auto S = ByIndex.find(Index);
      if (S == ByIndex.end() || holdsState(*S->second))
        continue;
      auto Refs = RefersTo.find(Index);
      if (Refs == RefersTo.end() || llvm::none_of(Refs->second, ChangedConstant))
        continue;
      P.F = Fate::Include;
      P.Changed = true;
      Again = true;
    }
  }
  return Error::success();
}

/// An exception table belongs to its function: when the function stays in
/// the running program (a ghost, whose FDE the patch drops), its table is
/// not needed in the patch either. Tables have no symbol that locates them
/// in the program (their labels are renumbered), so without this every
/// table of the object would be copied.
void dropUnusedExceptionTables(PatchContext &C, Rebuilt &R) {
  std::map<std::pair<std::string, std::string>, const SectionPlan *> Functions;
  for (const InputSection &S : R.Hashed.Sections)
    if (isCode(S) && StringRef(S.Name).starts_with(".text."))
      if (auto P = R.Plans.find(S.Index); P != R.Plans.end())
        Functions[{S.Name.substr(strlen(".text.")), S.Group}] = &P->second;
  for (const InputSection &S : R.Hashed.Sections) {
    StringRef Name = S.Name;
    if (!Name.consume_front(".gcc_except_table."))
      continue;
    auto P = R.Plans.find(S.Index);
    auto F = Functions.find({Name.str(), S.Group});
    if (P == R.Plans.end() || F == Functions.end() || P->second.F != Fate::Include ||
        P->second.Changed || F->second->F != Fate::Ghost)
      continue;
    P->second.F = Fate::Discard;
  }
}

} // namespace patchlink
} // namespace hotpatch
