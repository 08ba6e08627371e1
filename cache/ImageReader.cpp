//===- ImageReader.cpp - what the cache says of the linked image ----------===//
//
// Reads the linked image: its layout (segments, TLS, build-id, kind), every
// symbol with the file it came from, and the hot-function slots. lld writes
// each object's local symbols right after that object's STT_FILE symbol,
// which is how two `static int counter` in two files stay apart.
//
//===----------------------------------------------------------------------===//
#include "ImageReader.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/BinaryFormat/ELF.h"

#include "hotpatch/slot_table.h"

#include <algorithm>
#include <optional>
#include <vector>

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {
namespace {

using ELFT = ELF64LE;
using Elf_Shdr = ELFT::Shdr;
using Elf_Sym = ELFT::Sym;

/// Reads the image: layout, build-id, symbols, slots.
class ImageReader {
public:
  ImageReader(const ELFFile<ELFT> &Obj, ModuleCache &C) : Obj(Obj), C(C) {}

  Error run() {
    if (Error E = readLayout())
      return E;
    return readSymbols();
  }

private:
  Error readLayout() {
    ImageLayout &I = C.Image;
    const auto &Hdr = Obj.getHeader();
    I.Entry = Hdr.e_entry;
    auto Phdrs = Obj.program_headers();
    if (!Phdrs)
      return Phdrs.takeError();
    bool HasInterp = false;
    uint64_t Begin = UINT64_MAX, End = 0;
    for (const auto &P : *Phdrs) {
      Segment S;
      S.Type = P.p_type;
      S.Flags = P.p_flags;
      S.VAddr = P.p_vaddr;
      S.MemSize = P.p_memsz;
      S.Offset = P.p_offset;
      S.FileSize = P.p_filesz;
      S.Align = P.p_align;
      I.Segments.push_back(S);
      if (P.p_type == ELF::PT_LOAD) {
        Begin = std::min<uint64_t>(Begin, P.p_vaddr);
        End = std::max<uint64_t>(End, P.p_vaddr + P.p_memsz);
      } else if (P.p_type == ELF::PT_TLS) {
        I.HasTls = true;
        I.Tls = S;
      } else if (P.p_type == ELF::PT_INTERP) {
        HasInterp = true;
      } else if (P.p_type == ELF::PT_NOTE) {
        Error Err = Error::success();
        for (const auto &Note : Obj.notes(P, Err))
          if (Note.getType() == ELF::NT_GNU_BUILD_ID && Note.getName() == "GNU") {
            ArrayRef<uint8_t> Desc = Note.getDesc(P.p_align);
            I.BuildId.assign(Desc.begin(), Desc.end());
          }
        if (Err)
          return Err;
      }
    }
    I.Begin = Begin == UINT64_MAX ? 0 : Begin;
    I.End = End;
    if (Hdr.e_type == ELF::ET_EXEC)
      I.Kind = ImageKind::Executable;
    else
      I.Kind = HasInterp || isPieFlagged() ? ImageKind::PieExecutable
                                          : ImageKind::SharedLibrary;
    return Error::success();
  }

  bool isPieFlagged() {
    auto Dyn = Obj.dynamicEntries();
    if (!Dyn)
      return consumeError(Dyn.takeError()), false;
    for (const auto &D : *Dyn)
      if (D.d_tag == ELF::DT_FLAGS_1 && (D.getVal() & ELF::DF_1_PIE))
        return true;
    return false;
  }

  Error readSymbols() {
    auto Sections = Obj.sections();
    if (!Sections)
      return Sections.takeError();
    const Elf_Shdr *SymTab = nullptr;
    for (const Elf_Shdr &S : *Sections)
      if (S.sh_type == ELF::SHT_SYMTAB)
        SymTab = &S;
    if (!SymTab)
      return createStringError(
          inconvertibleErrorCode(),
          "the output has no symbol table (was it stripped?); a patch needs "
          "it to find the base's functions and data");
    auto Syms = Obj.symbols(SymTab);
    if (!Syms)
      return Syms.takeError();
    auto Strs = Obj.getStringTableForSymtab(*SymTab);
    if (!Strs)
      return Strs.takeError();

    uint64_t ThunksBegin = 0, ThunksEnd = 0;
    std::vector<StringRef> SectionNames(Sections->size());
    for (size_t I = 0; I < Sections->size(); ++I) {
      const Elf_Shdr &Sec = (*Sections)[I];
      auto N = Obj.getSectionName(Sec);
      SectionNames[I] = N ? *N : (consumeError(N.takeError()), StringRef());
      if (Sec.sh_flags & ELF::SHF_ALLOC)
        C.Image.Sections.push_back({SectionNames[I].str(), Sec.sh_type,
                                    Sec.sh_flags, Sec.sh_addr, Sec.sh_size,
                                    Sec.sh_addralign});
      if (SectionNames[I] == HOTPATCH_THUNK_SECTION) {
        ThunksBegin = (*Sections)[I].sh_addr;
        ThunksEnd = ThunksBegin + (*Sections)[I].sh_size;
      }
    }

    uint32_t File = Symbol::NoFile;
    C.Symbols.reserve(Syms->size());
    for (const Elf_Sym &S : Syms->drop_front()) {
      auto Name = S.getName(*Strs);
      if (!Name)
        return Name.takeError();
      if (S.getType() == ELF::STT_FILE) {
        File = C.Files.size();
        C.Files.push_back(Name->str());
        continue;
      }
      Symbol Out;
      Out.Name = Name->str();
      Out.Binding = SymbolBinding(S.getBinding());
      Out.File = Out.Binding == SymbolBinding::Local ? File : Symbol::NoFile;
      if (S.st_shndx > 0 && S.st_shndx < SectionNames.size())
        Out.Section = SectionNames[S.st_shndx].str();
      Out.Address = S.st_value;
      Out.Size = S.st_size;
      Out.Kind = SymbolKind(S.getType());
      Out.Visibility = S.getVisibility();
      C.Symbols.push_back(std::move(Out));
    }
    collectSlots(ThunksBegin, ThunksEnd);
    return Error::success();
  }

  /// Slots are found by name: N.hotpatch.slot, its body N.hotpatch.body and
  /// the public symbol N, all from the same file when N is file-local.
  void collectSlots(uint64_t ThunksBegin, uint64_t ThunksEnd) {
    // Only the names around a slot matter: N.hotpatch.slot, N.hotpatch.body
    // and N. Index just those, by name, with every (file, address) of each.
    StringRef Suffix = HOTPATCH_SLOT_SUFFIX;
    StringMap<SmallVector<std::pair<uint32_t, uint64_t>, 1>> Wanted;
    StringMap<uint64_t> Globals;
    for (const Symbol &S : C.Symbols) {
      StringRef Name = S.Name;
      if (Name.consume_back(Suffix)) {
        Wanted.try_emplace(Name);
        Wanted.try_emplace((Name + HOTPATCH_BODY_SUFFIX).str());
      }
    }
    if (Wanted.empty())
      return;
    for (const Symbol &S : C.Symbols) {
      auto It = Wanted.find(S.Name);
      if (It == Wanted.end())
        continue;
      if (S.Binding == SymbolBinding::Local)
        It->second.push_back({S.File, S.Address});
      else
        Globals[S.Name] = S.Address;
    }
    for (const Symbol &S : C.Symbols) {
      StringRef Name = S.Name;
      if (!Name.consume_back(Suffix))
        continue;
      SlotRecord R;
      R.Name = Name.str();
      R.Local = S.Binding == SymbolBinding::Local;
      R.File = R.Local ? S.File : Symbol::NoFile;
      R.SlotAddress = S.Address;
      auto Find = [&](const std::string &N) -> std::optional<uint64_t> {
        if (!R.Local) {
          auto G = Globals.find(N);
          if (G != Globals.end())
            return G->second;
        }
        auto It = Wanted.find(N);
        if (It == Wanted.end())
          return std::nullopt;
        for (auto [File, Addr] : It->second)
          if (File == R.File)
            return Addr;
        // Hidden symbols (the plugin's bodies) are local in the output, and
        // lld lists them apart from their file's locals.
        if (It->second.size() == 1)
          return It->second.front().second;
        return std::nullopt;
      };
      std::optional<uint64_t> Body = Find(R.Name + HOTPATCH_BODY_SUFFIX);
      std::optional<uint64_t> Sym = Find(R.Name);
      R.SymbolAddress = Sym.value_or(0);
      R.BodyAddress = Body.value_or(R.SymbolAddress);
      // With a body, the symbol must be a thunk; call-site mode has none.
      R.UnpatchedCopy = Body && Sym &&
                        !(R.SymbolAddress >= ThunksBegin && R.SymbolAddress < ThunksEnd);
      C.Slots.push_back(std::move(R));
    }
  }

  const ELFFile<ELFT> &Obj;
  ModuleCache &C;
};

} // namespace

Error readImage(const ELFFile<ELFT> &Image, ModuleCache &C) {
  return ImageReader(Image, C).run();
}

} // namespace hotpatch
