//===- PatchWriter.cpp - the patch file and the next chain state ------------===//
//
// Pass 9 of a thin link: read where the new bodies went, write the patch file
// (hotpatch/patch_format.h), and record what this patch placed for the next.
//
//===----------------------------------------------------------------------===//
#include "PatchContext.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "CacheBuilder.h"
#include "LineTable.h"
#include "PatchImage.h"

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {
namespace patchlink {

Error writePatch(PatchContext &C, StringRef Image) {
  auto Buf = MemoryBuffer::getFile(Image, false, false);
  if (!Buf)
    return fail("cannot read the linked patch: " + Buf.getError().message());
  // Where did the new bodies go? The patch's own symbol table says, with
  // ghost symbols at their running addresses.
  auto Linked = buildModuleCache(Image, {}, {}, C.WorkDir);
  if (!Linked)
    return Linked.takeError();
  // Hidden symbols become local in the output, and lld lists those apart
  // from their file's locals: look a name up as a global, then as a local
  // of its file, then as a local whose name is unique.
  std::map<std::pair<std::string, std::string>, uint64_t> Locals;
  StringMap<uint64_t> Globals;
  StringMap<std::vector<uint64_t>> LocalsByName;
  for (const Symbol &S : Linked->Symbols) {
    if (S.Section.empty())
      continue;
    if (S.Binding == SymbolBinding::Local) {
      Locals[{S.File < Linked->Files.size() ? Linked->Files[S.File] : "", S.Name}] =
          S.Address;
      LocalsByName[S.Name].push_back(S.Address);
    } else {
      Globals[S.Name] = S.Address;
    }
  }
  auto Lookup = [&](const std::string &File,
                    const std::string &Sym) -> std::optional<uint64_t> {
    auto G = Globals.find(Sym);
    if (G != Globals.end())
      return G->second;
    auto L = Locals.find({File, Sym});
    if (L != Locals.end())
      return L->second;
    auto U = LocalsByName.find(Sym);
    if (U != LocalsByName.end() && U->second.size() == 1)
      return U->second.front();
    return std::nullopt;
  };
  std::set<std::string> Published;
  // The patch lies from PatchBase up to the top of its window (below the
  // program, or the library's patch area).
  uint64_t WindowTop = C.BandEnd;
  if (Linked->Image.End > WindowTop)
    return fail("the window for patches of " + C.BasePath + " is full after " +
                Twine(C.Chain.Count) + " patches (" +
                Twine((C.BandEnd - C.PatchBase) >> 20) +
                " MiB left); restart the program (rebuild and relink it) to start a new chain");
  auto InPatch = [&](uint64_t A) { return A >= C.PatchBase && A < WindowTop; };
  uint64_t BandEnd = WindowTop;

  for (Rebuilt &R : C.Objects) {
    for (const InputSection &S : R.Hashed.Sections) {
      auto It = R.Plans.find(S.Index);
      if (It == R.Plans.end() || It->second.F != Fate::Include || !isCode(S) ||
          !It->second.Changed)
        continue;
      std::string Fn = functionOf(S.Name);
      if (Fn.empty() || StringRef(Fn).starts_with("startup"))
        continue; // static-initialiser glue, reported as new globals
      StringRef Body = Fn;
      bool Thunked = Body.consume_back(HOTPATCH_BODY_SUFFIX);
      std::string Name = Body.str();
      auto Find = [&](const std::string &Sym) { return Lookup(R.SourceFile, Sym); };
      std::optional<uint64_t> NewBody = Find(Fn);
      std::optional<uint64_t> Slot = Find(Name + HOTPATCH_SLOT_SUFFIX);
      // An inline function rebuilt in several objects: one copy is linked,
      // one update publishes it.
      if (!Published.insert(Name).second)
        continue;
      (It->second.New ? C.Added : C.Changed).push_back(Name);
      if (!NewBody)
        continue;
      if (Slot && InPatch(*Slot)) {
        if (!It->second.New)
          return fail("the patch would carry its own copy of the slot of " + Name +
                      " instead of updating the program's (the slot's definition in "
                      "the running program was not found); nothing was patched: "
                      "rebuild the program and restart it, and report this");
        continue; // a new function's own new slot already holds its body
      }
      if (!Slot && !Thunked && !It->second.New)
        C.NotHot.push_back(Name);
      if (!Slot && It->second.New)
        continue;
      hotpatch_patch_update U;
      memset(&U, 0, sizeof(U));
      U.slot = Slot.value_or(0);
      if (!Slot)
        U.flags |= HOTPATCH_UPDATE_NOT_HOT;
      U.new_body = *NewBody;
      U.name = C.Strings.size();
      C.Strings += Name;
      C.Strings.push_back('\0');
      if (Slot) {
        if (std::optional<SlotRecord> Old = C.Base->slotAt(*Slot - Bias))
          U.old_body = Old->BodyAddress + Bias;
      }
      if (It->second.New)
        U.flags |= HOTPATCH_UPDATE_NEW_FUNCTION;
      // The executable may define this slot too (an inline function both
      // include): the one every image uses is the one the dynamic linker
      // chose.
      if (Slot && isInterposable(C, Name + HOTPATCH_SLOT_SUFFIX))
        U.flags |= HOTPATCH_UPDATE_INTERPOSABLE;
      C.Updates.push_back(U);
    }
  }

  // Initialisers of the globals this patch adds: the plugin keeps each
  // global's initialiser in a section of its own; run those that write a
  // new data section, and no other (existing globals keep their state).
  std::vector<uint64_t> Inits;
  for (Rebuilt &R : C.Objects) {
    auto Obj = ELFFile<ELFT>::create(R.Buffer->getBuffer());
    if (!Obj)
      return Obj.takeError();
    auto SecsOrErr = Obj->sections();
    if (!SecsOrErr)
      return SecsOrErr.takeError();
    ArrayRef<Elf_Shdr> Secs = *SecsOrErr;
    ArrayRef<Elf_Sym> Syms;
    for (const Elf_Shdr &Sh : Secs)
      if (Sh.sh_type == ELF::SHT_SYMTAB) {
        auto SymsOrErr = Obj->symbols(&Sh);
        if (!SymsOrErr)
          return SymsOrErr.takeError();
        Syms = *SymsOrErr;
      }
    auto IsNewData = [&](unsigned Index) {
      auto It = R.Plans.find(Index);
      return It != R.Plans.end() && It->second.F == Fate::Include && It->second.New &&
             !(Secs[Index].sh_flags & ELF::SHF_EXECINSTR);
    };
    for (const Elf_Shdr &Rel : Secs) {
      if (Rel.sh_type != ELF::SHT_RELA || Rel.sh_info >= Secs.size())
        continue;
      auto TargetOrErr = Obj->getSectionName(Secs[Rel.sh_info]);
      if (!TargetOrErr)
        return TargetOrErr.takeError();
      StringRef Target = *TargetOrErr;
      if (!Target.starts_with(".text.startup.__cxx_global_var_init"))
        continue;
      auto Relas = Obj->relas(Rel);
      if (!Relas)
        return Relas.takeError();
      bool WritesNew = false;
      for (const Elf_Rela &RA : *Relas) {
        uint32_t SI = RA.getSymbol(false);
        WritesNew |= SI < Syms.size() && Syms[SI].st_shndx < Secs.size() &&
                     IsNewData(Syms[SI].st_shndx);
      }
      if (!WritesNew)
        continue;
      std::string Fn = Target.drop_front(strlen(".text.startup.")).str();
      if (std::optional<uint64_t> A = Lookup(R.SourceFile, Fn))
        Inits.push_back(*A);
      else
        return fail("cannot find the initialiser '" + Fn + "' in the patch");
    }
  }

  // Vtables rewritten in place: the patch's copy, relocated, goes over the
  // running one.
  for (const VtableUpdate &V : C.Vtables) {
    std::optional<uint64_t> New;
    for (Rebuilt &R : C.Objects)
      if (!New)
        New = Lookup(R.SourceFile, V.Symbol);
    if (!New || *New < C.PatchBase || *New >= BandEnd)
      return fail("cannot find the new vtable of " + V.Class + " in the patch");
    hotpatch_patch_update U;
    memset(&U, 0, sizeof(U));
    U.flags = HOTPATCH_UPDATE_VTABLE;
    U.slot = V.Address;
    U.new_body = *New;
    U.old_body = V.Size;
    U.name = C.Strings.size();
    C.Strings += V.Symbol;
    C.Strings.push_back('\0');
    C.Updates.push_back(U);
    C.note("the vtable of " + V.Class + " is rewritten in place: objects that "
           "already exist call the new virtual functions");
  }

  // Nothing to publish and nothing to construct (a comment, a re-save, an
  // initial value the running program keeps): no patch, and the chain stays
  // where it is, or the next real patch would be out of order.
  if (C.Updates.empty() && Inits.empty()) {
    C.NothingToPatch = true;
    return Error::success();
  }

  hotpatch_patch_header H;
  memset(&H, 0, sizeof(H));
  H.init_count = Inits.size();
  C.InitCount = Inits.size();
  memcpy(H.magic, HOTPATCH_PATCH_MAGIC, 8);
  H.version = HOTPATCH_PATCH_VERSION;
  H.chain_index = C.Chain.Count + 1;
  H.build_id_size = std::min<size_t>(C.Base->image().BuildId.size(), 20);
  memcpy(H.build_id, C.Base->image().BuildId.data(), H.build_id_size);
  H.update_count = C.Updates.size();
  H.strings_size = C.Strings.size();
  // Only what the runtime loads travels: no ghost sections, no program
  // symbols (PatchImage.h).
  auto Lines = buildLineTable((*Buf)->getBuffer());
  if (!Lines)
    return Lines.takeError();
  auto Compact = compactPatchImage((*Buf)->getBuffer(), *Lines);
  if (!Compact)
    return Compact.takeError();
  H.image_size = Compact->size();
  std::string Payload;
  Payload.append(reinterpret_cast<const char *>(C.Updates.data()),
                 C.Updates.size() * sizeof(hotpatch_patch_update));
  Payload.append(reinterpret_cast<const char *>(Inits.data()),
                 Inits.size() * sizeof(uint64_t));
  Payload += C.Strings;
  Payload += *Compact;
  H.checksum = hotpatch_patch_checksum(
      reinterpret_cast<const unsigned char *>(Payload.data()), Payload.size());

  if (Error E = writeFileAtomically(C.Opts.Output, [&](raw_ostream &OS) {
        OS.write(reinterpret_cast<const char *>(&H), sizeof(H));
        OS << Payload;
      }))
    return E;

  // Record what this patch placed, for the next one.
  for (Rebuilt &R : C.Objects) {
    for (const InputSection &S : R.Hashed.Sections) {
      auto It = R.Plans.find(S.Index);
      if (It == R.Plans.end())
        continue;
      std::string Key = chainSectionKey(R.Abs, S.Name, S.Group);
      if (It->second.InPlace) {
        // Rewritten where it was: later patches compare with the new
        // entries and find them there.
        C.Chain.Sections[Key] = {S.Hash, It->second.Address, S.Size};
        continue;
      }
      if (It->second.F == Fate::Include && !(S.Flags & ELF::SHF_MERGE) &&
          S.Name != ".eh_frame") {
        // Find its address through a symbol it defines.
        auto Syms = R.BySection.find(S.Index);
        if (Syms != R.BySection.end())
          for (const ObjSymbol *Sym : Syms->second) {
            std::optional<uint64_t> A = Lookup(R.SourceFile, Sym->Name.str());
            if (!A)
              continue;
            if (Sym->Binding != ELF::STB_LOCAL && It->second.New)
              C.Chain.Globals[Sym->Name.str()] = *A;
            C.Chain.Sections[Key] = {S.Hash, *A - Sym->Value, S.Size};
            break;
          }
      } else if (It->second.F == Fate::Ghost && It->second.Changed &&
                 !C.Chain.Sections.count(Key)) {
        // Existing data whose initialiser changed: compare later patches
        // with the new text, not again with the base's.
        C.Chain.Sections[Key] = {S.Hash, It->second.Address, S.Size};
      }
    }
  }
  C.Chain.Count++;
  C.Chain.NextFree = alignTo(Linked->Image.End, 4096); // the next patch's first page
  C.Chain.Patches.push_back(absolutePath(C.Opts.Output));
  if (Error E = C.Chain.save(C.BasePath)) {
    // A patch the chain state does not count would break the next one.
    sys::fs::remove(C.Opts.Output);
    return E;
  }
  return Error::success();
}

} // namespace patchlink
} // namespace hotpatch
