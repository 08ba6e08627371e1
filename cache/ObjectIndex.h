//===- ObjectIndex.h - a relocatable object, indexed for its hash ---------===//
//
// What the section hash (ObjectHasher.cpp) needs of a relocatable object
// besides its bytes: its sections and symbols, the relocation section of
// each section, each section's COMDAT group, which sections define a symbol
// with a name of its own, the name that stands for each (section, offset),
// and each function's exception tables. It is read once per object
// (ObjectIndex.cpp); the small accessors the hash calls for every
// relocation are defined here, so that they stay inline.
//
// Internal to the cache library.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_CACHE_OBJECTINDEX_H
#define HOTPATCH_CACHE_OBJECTINDEX_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELF.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace hotpatch {

/// One relocatable object, parsed enough to hash its sections.
class ObjectIndex {
public:
  using ELFT = llvm::object::ELF64LE;
  using Elf_Shdr = ELFT::Shdr;
  using Elf_Sym = ELFT::Sym;
  using Elf_Rela = ELFT::Rela;

  explicit ObjectIndex(const llvm::object::ELFFile<ELFT> &Obj) : Obj(Obj) {}

  /// Reads the sections, the symbol table, relocation sections, groups,
  /// the names at each offset and the exception tables.
  llvm::Error read();

  llvm::StringRef sectionName(const Elf_Shdr &S) {
    auto N = Obj.getSectionName(S);
    return N ? *N : (llvm::consumeError(N.takeError()), llvm::StringRef());
  }

  /// The section a symbol is defined in, or 0.
  unsigned sectionOf(uint32_t SymIndex) {
    if (SymIndex == 0 || SymIndex >= Symbols.size())
      return 0;
    unsigned S = Symbols[SymIndex].st_shndx;
    return S < Sections.size() ? S : 0;
  }

  llvm::ArrayRef<uint8_t> contents(unsigned Index) {
    const Elf_Shdr &S = Sections[Index];
    if (S.sh_type == llvm::ELF::SHT_NOBITS)
      return {};
    auto C = Obj.getSectionContents(S);
    return C ? *C : (llvm::consumeError(C.takeError()), llvm::ArrayRef<uint8_t>());
  }

  const llvm::object::ELFFile<ELFT> &Obj;
  llvm::ArrayRef<Elf_Shdr> Sections;
  llvm::ArrayRef<Elf_Sym> Symbols;
  llvm::StringRef SymStrings;
  llvm::DenseMap<unsigned, const Elf_Shdr *> RelaFor;
  llvm::DenseMap<unsigned, llvm::StringRef> GroupOf;
  std::vector<bool> Named; // defines a symbol with a name of its own
  /// (section, offset) -> the name (and binding) of a symbol starting there.
  std::map<std::pair<unsigned, uint64_t>, std::pair<llvm::StringRef, unsigned>> NameAt;
  llvm::DenseMap<unsigned, llvm::SmallVector<unsigned, 1>> LsdaOf; // function -> LSDAs

private:
  llvm::Error readGroup(const Elf_Shdr &G);
  llvm::Error readLsdas();
};

} // namespace hotpatch

#endif
