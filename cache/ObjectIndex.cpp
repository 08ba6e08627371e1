//===- ObjectIndex.cpp - a relocatable object, indexed for its hash -------===//
//
// Reads what the section hash needs of an object (ObjectIndex.h): the symbol
// table, the relocation section and COMDAT group of each section, the name
// that stands for each offset where a named symbol starts (a global before
// a local, then the first in name order, so that two builds agree), and
// each function's exception tables, found through the FDEs of .eh_frame.
//
//===----------------------------------------------------------------------===//
#include "ObjectIndex.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Endian.h"

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {

Error ObjectIndex::read() {
  auto SectionsOrErr = Obj.sections();
  if (!SectionsOrErr)
    return SectionsOrErr.takeError();
  Sections = *SectionsOrErr;
  for (const Elf_Shdr &S : Sections)
    if (S.sh_type == ELF::SHT_SYMTAB) {
      auto Syms = Obj.symbols(&S);
      if (!Syms)
        return Syms.takeError();
      Symbols = *Syms;
      auto Strs = Obj.getStringTableForSymtab(S);
      if (!Strs)
        return Strs.takeError();
      SymStrings = *Strs;
    }
  // Relocation sections by the section they apply to; group signatures by
  // member section.
  for (const Elf_Shdr &S : Sections) {
    if (S.sh_type == ELF::SHT_RELA && S.sh_info < Sections.size())
      RelaFor[S.sh_info] = &S;
    if (S.sh_type == ELF::SHT_GROUP)
      if (Error E = readGroup(S))
        return E;
  }
  Named.assign(Sections.size(), false);
  for (const Elf_Sym &Sym : Symbols) {
    if (Sym.st_shndx == 0 || Sym.st_shndx >= Sections.size() ||
        Sym.getType() == ELF::STT_SECTION || Sym.getType() == ELF::STT_FILE)
      continue;
    auto N = Sym.getName(SymStrings);
    if (!N) {
      consumeError(N.takeError());
      continue;
    }
    if (!N->empty() && !N->starts_with(".L")) {
      Named[Sym.st_shndx] = true;
      // The name that stands for an offset: a global before a local,
      // then the first in name order, so that two builds agree.
      auto [It, Fresh] = NameAt.try_emplace({Sym.st_shndx, Sym.st_value},
                                           std::make_pair(*N, Sym.getBinding()));
      bool Global = Sym.getBinding() != ELF::STB_LOCAL;
      bool HadGlobal = It->second.second != ELF::STB_LOCAL;
      if (!Fresh && (Global > HadGlobal || (Global == HadGlobal && *N < It->second.first)))
        It->second = {*N, Sym.getBinding()};
    }
  }
  return readLsdas();
}

Error ObjectIndex::readGroup(const Elf_Shdr &G) {
  auto Words = Obj.template getSectionContentsAsArray<support::ulittle32_t>(G);
  if (!Words)
    return Words.takeError();
  if (G.sh_info >= Symbols.size())
    return createStringError(inconvertibleErrorCode(),
                             "SHT_GROUP with a bad signature symbol");
  auto Sig = Symbols[G.sh_info].getName(SymStrings);
  if (!Sig)
    return Sig.takeError();
  for (size_t I = 1; I < Words->size(); ++I)
    GroupOf[(*Words)[I]] = *Sig;
  return Error::success();
}

/// A function's exception table (its LSDA, `.gcc_except_table.<fn>`) is
/// named by no symbol; what ties it to the function is the FDE in
/// .eh_frame: the relocation at the FDE's pc_begin points at the function,
/// any other relocation in the FDE (its augmentation data) at the LSDA.
Error ObjectIndex::readLsdas() {
  for (size_t I = 1; I < Sections.size(); ++I) {
    const Elf_Shdr &S = Sections[I];
    if (!(S.sh_flags & ELF::SHF_ALLOC) || sectionName(S) != ".eh_frame")
      continue;
    auto R = RelaFor.find(I);
    if (R == RelaFor.end())
      continue;
    auto Relas = Obj.relas(*R->second);
    if (!Relas)
      return Relas.takeError();
    std::vector<const Elf_Rela *> Sorted;
    for (const Elf_Rela &Rel : *Relas)
      Sorted.push_back(&Rel);
    llvm::sort(Sorted, [](const Elf_Rela *A, const Elf_Rela *B) {
      return A->r_offset < B->r_offset;
    });
    ArrayRef<uint8_t> C = contents(I);
    size_t Next = 0;
    for (uint64_t Off = 0; Off + 8 <= C.size();) {
      uint32_t Len = support::endian::read32le(C.data() + Off);
      if (Len == 0 || Len == 0xffffffff)
        break; // terminator, or a 64-bit record (not emitted for x86-64)
      uint64_t End = Off + 4 + uint64_t(Len);
      uint32_t Id = support::endian::read32le(C.data() + Off + 4);
      while (Next < Sorted.size() && Sorted[Next]->r_offset < Off)
        ++Next;
      if (Id != 0) { // an FDE
        unsigned Function = 0;
        for (size_t K = Next; K < Sorted.size() && Sorted[K]->r_offset < End; ++K) {
          unsigned Target = sectionOf(Sorted[K]->getSymbol(false));
          if (Sorted[K]->r_offset == Off + 8)
            Function = Target;
          else if (Function && Target && Target != Function)
            LsdaOf[Function].push_back(Target);
        }
      }
      Off = End;
    }
  }
  return Error::success();
}

} // namespace hotpatch
