//===- ObjectHasher.cpp - the normalised hash of each section -------------===//
//
// Hashes every section of every input object so that a later thin link can
// tell which functions changed. A section's hash covers its type, flags,
// size, bytes and relocations, where a relocation is hashed as (offset,
// type, target identity, addend relative to that identity):
//   - a named symbol: its name (and "local" or "global");
//   - a section symbol, an assembler-private label (.L.str.N) or a local
//     symbol in a mergeable section, by what it points at: in a mergeable
//     string section the string's content (literals are renumbered and
//     reordered between builds), in a mergeable constant section the
//     constant; in an anonymous section (one that defines no named symbol:
//     jump tables, a switch's lookup table, unnamed constants) that
//     section's own hash, computed the same way (recursively, once per
//     section, cycles cut), and the offset; in a named section, its name
//     and offset.
// A function's hash also covers its exception table (.gcc_except_table.<fn>,
// found through the function's FDE in .eh_frame): a change of only the
// table is a change of the function. Sections that are not loaded (debug
// info, comments) are recorded with hash 0: a thin link never compares
// them, and hashing debug info would cost more than the link.
//
// What is read of the object before hashing (symbols, groups, names at each
// offset, exception tables) is ObjectIndex.h's.
//
//===----------------------------------------------------------------------===//
#include "CacheBuilder.h"
#include "ObjectIndex.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Support/xxhash.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {
namespace {

using ELFT = ELF64LE;

/// Incremental hash over a byte stream: collects, then hashes once.
class Hasher {
public:
  void add(uint64_t V) {
    uint8_t B[8];
    memcpy(B, &V, 8);
    Buf.append(B, B + 8);
  }
  void add(StringRef S) {
    add(uint64_t(S.size()));
    Buf.append(S.begin(), S.end());
  }
  void add(ArrayRef<uint8_t> B) {
    add(uint64_t(B.size()));
    Buf.append(B.begin(), B.end());
  }
  uint64_t finish() const { return xxh3_64bits(Buf); }

private:
  SmallVector<uint8_t, 256> Buf;
};

bool isPcRelative(uint32_t Type) {
  switch (Type) {
  case ELF::R_X86_64_PC32:
  case ELF::R_X86_64_PLT32:
  case ELF::R_X86_64_PC64:
  case ELF::R_X86_64_GOTPCREL:
  case ELF::R_X86_64_GOTPCRELX:
  case ELF::R_X86_64_REX_GOTPCRELX:
  case ELF::R_X86_64_GOTPC32:
  case ELF::R_X86_64_PC16:
  case ELF::R_X86_64_PC8:
    return true;
  default:
    return false;
  }
}

/// One relocatable object, indexed (ObjectIndex), and the hash of each of
/// its sections. The index is a base, not a member, so that the loops over
/// relocations read its tables as they read their own.
class ObjectHasher : private ObjectIndex {
public:
  ObjectHasher(const ELFFile<ELFT> &Obj) : ObjectIndex(Obj) {}

  Error run(InputFile &Out) {
    if (Error E = read())
      return E;
    for (size_t I = 1; I < Sections.size(); ++I) {
      const Elf_Shdr &S = Sections[I];
      switch (S.sh_type) {
      case ELF::SHT_NULL:
      case ELF::SHT_SYMTAB:
      case ELF::SHT_STRTAB:
      case ELF::SHT_RELA:
      case ELF::SHT_REL:
      case ELF::SHT_GROUP:
      case ELF::SHT_LLVM_ADDRSIG:
        continue;
      }
      InputSection IS;
      IS.Name = sectionName(S).str();
      IS.Index = I;
      IS.Type = S.sh_type;
      IS.Flags = S.sh_flags;
      IS.Size = S.sh_size;
      auto G = GroupOf.find(I);
      if (G != GroupOf.end())
        IS.Group = G->second.str();
      auto HashOrErr = hashSection(I);
      if (!HashOrErr)
        return HashOrErr.takeError();
      IS.Hash = *HashOrErr;
      Out.Sections.push_back(std::move(IS));
    }
    return Error::success();
  }

private:
  /// Start offsets of the strings of a mergeable string section.
  const std::vector<uint64_t> &stringStarts(unsigned Index) {
    auto It = StringStarts.find(Index);
    if (It != StringStarts.end())
      return It->second;
    std::vector<uint64_t> &Starts = StringStarts[Index];
    ArrayRef<uint8_t> C = contents(Index);
    uint64_t Ent = std::max<uint64_t>(Sections[Index].sh_entsize, 1);
    uint64_t Begin = 0;
    for (uint64_t I = 0; I + Ent <= C.size(); I += Ent) {
      bool Zero = std::all_of(C.begin() + I, C.begin() + I + Ent,
                              [](uint8_t B) { return B == 0; });
      if (Zero) {
        Starts.push_back(Begin);
        Begin = I + Ent;
      }
    }
    return Starts;
  }

  /// The identity of what a relocation points at, and its addend relative to
  /// that identity.
  void hashTarget(Hasher &H, const Elf_Shdr &Source, uint32_t SymIndex,
                  uint32_t Type, int64_t Addend) {
    if (SymIndex == 0 || SymIndex >= Symbols.size()) {
      H.add(StringRef("none"));
      H.add(uint64_t(Addend));
      return;
    }
    const Elf_Sym &Sym = Symbols[SymIndex];
    unsigned Target = Sym.st_shndx;
    bool InSection = Target != 0 && Target < Sections.size();
    StringRef Name;
    if (Sym.getType() != ELF::STT_SECTION) {
      auto N = Sym.getName(SymStrings);
      Name = N ? *N : (consumeError(N.takeError()), StringRef());
    }
    // A named symbol is its name, unless it is an assembler-private label
    // (.L.str.N, .L__unnamed_N, ...) or points into a mergeable section:
    // those names are numbered in order of appearance and change when an
    // unrelated literal is added, so they are hashed by what they point at.
    bool ByContent =
        InSection && Sym.getBinding() == ELF::STB_LOCAL &&
        (Sym.getType() == ELF::STT_SECTION || Name.starts_with(".L") ||
         (Sections[Target].sh_flags & ELF::SHF_MERGE));
    if (!ByContent) {
      H.add(StringRef(Sym.getBinding() == ELF::STB_LOCAL ? "local" : "global"));
      H.add(Name);
      H.add(uint64_t(Addend));
      return;
    }
    const Elf_Shdr &T = Sections[Target];
    bool Merge = T.sh_flags & ELF::SHF_MERGE;
    bool Strings = T.sh_flags & ELF::SHF_STRINGS;
    // A label names its entry exactly, and the addend is then only the
    // PC-relative bias. A section symbol's addend mixes the entry's offset
    // with that bias (-4 for most x86-64 instructions, down to -8 when an
    // immediate follows the field): try the usual bias first. In data (a
    // relative lookup table: entry = target - table) there is no
    // instruction, and the addend of a section symbol is the offset itself.
    bool Label = Sym.getType() != ELF::STT_SECTION;
    int64_t Offset = int64_t(Sym.st_value) + (Label ? 0 : Addend);
    int64_t Rest = Label ? Addend : 0;
    static constexpr int64_t PcBiases[] = {4, 5, 6, 7, 8, 0, 1, 2, 3};
    static constexpr int64_t NoBias[] = {0};
    bool InCode = Source.sh_flags & ELF::SHF_EXECINSTR;
    ArrayRef<int64_t> Biases = !Label && InCode && isPcRelative(Type)
                                   ? ArrayRef<int64_t>(PcBiases)
                                   : ArrayRef<int64_t>(NoBias);
    if (Merge && Strings) {
      const std::vector<uint64_t> &Starts = stringStarts(Target);
      ArrayRef<uint8_t> C = contents(Target);
      for (int64_t Bias : Biases) {
        int64_t Off = Offset + Bias;
        if (Off >= 0 && std::binary_search(Starts.begin(), Starts.end(), uint64_t(Off))) {
          const uint8_t *P = C.data() + Off;
          size_t Len = strnlen(reinterpret_cast<const char *>(P), C.size() - Off);
          H.add(StringRef("string"));
          H.add(ArrayRef<uint8_t>(P, Len));
          H.add(uint64_t(Rest - Bias));
          return;
        }
      }
    } else if (Merge && T.sh_entsize) {
      ArrayRef<uint8_t> C = contents(Target);
      for (int64_t Bias : Biases) {
        int64_t Off = Offset + Bias;
        if (Off >= 0 && Off % T.sh_entsize == 0 && uint64_t(Off) + T.sh_entsize <= C.size()) {
          H.add(StringRef("constant"));
          H.add(C.slice(Off, T.sh_entsize));
          H.add(uint64_t(Rest - Bias));
          return;
        }
      }
    }
    if (!Merge && !Named[Target]) {
      // An anonymous section (a jump table, a switch's lookup table, an
      // unnamed constant): no name says what it holds, and its name and
      // layout can stay the same while what it points at changes. It is
      // part of whatever refers to it: its own hash, recursively.
      H.add(StringRef("anonymous"));
      H.add(sectionHash(Target));
      H.add(uint64_t(Offset));
      H.add(uint64_t(Rest));
      return;
    }
    if (!Merge) {
      // A section symbol plus an offset where a named symbol starts: the
      // symbol, by its name. Functions and thunks of a section move when
      // one is added before them (the plugin's thunks of static functions
      // share one section), and the same offset then names another one.
      for (int64_t Bias : Biases) {
        auto It = NameAt.find({Target, uint64_t(Offset + Bias)});
        if (It == NameAt.end())
          continue;
        H.add(StringRef(It->second.second == ELF::STB_LOCAL ? "local" : "global"));
        H.add(It->second.first);
        H.add(uint64_t(Rest - Bias));
        return;
      }
    }
    H.add(StringRef("section"));
    H.add(sectionName(T));
    H.add(uint64_t(Offset));
    H.add(uint64_t(Rest));
  }

  /// A section's hash, computed once. A reference back to a section whose
  /// hash is being computed (anonymous sections that point at each other)
  /// contributes a marker instead: the cycle's contents are hashed once.
  uint64_t sectionHash(unsigned Index) {
    auto It = Hashes.find(Index);
    if (It != Hashes.end())
      return It->second;
    if (!InProgress.insert(Index).second)
      return 0x9e3779b97f4a7c15ull; // the cycle marker
    auto H = computeHash(Index);
    InProgress.erase(Index);
    uint64_t V = 0;
    if (H)
      V = *H;
    else if (FirstError.empty())
      FirstError = toString(H.takeError());
    else
      consumeError(H.takeError());
    Hashes[Index] = V;
    return V;
  }

  Expected<uint64_t> hashSection(unsigned Index) {
    uint64_t V = sectionHash(Index);
    if (!FirstError.empty())
      return createStringError(inconvertibleErrorCode(), FirstError);
    return V;
  }

  Expected<uint64_t> computeHash(unsigned Index) {
    const Elf_Shdr &S = Sections[Index];
    if (!(S.sh_flags & ELF::SHF_ALLOC))
      return 0; // never compared: recorded, not hashed
    Hasher H;
    H.add(uint64_t(S.sh_type));
    H.add(uint64_t(S.sh_flags & ~uint64_t(ELF::SHF_GROUP)));
    H.add(uint64_t(S.sh_size));
    H.add(uint64_t(S.sh_addralign));
    H.add(contents(Index));
    auto R = RelaFor.find(Index);
    if (R != RelaFor.end()) {
      auto Relas = Obj.relas(*R->second);
      if (!Relas)
        return Relas.takeError();
      for (const Elf_Rela &Rel : *Relas) {
        H.add(uint64_t(Rel.r_offset));
        H.add(uint64_t(Rel.getType(false)));
        hashTarget(H, S, Rel.getSymbol(false), Rel.getType(false), Rel.r_addend);
      }
    }
    // A function's exception table belongs to it: an edit that changes
    // only the table (a local with a destructor, a try/catch) changes the
    // function.
    auto L = LsdaOf.find(Index);
    if (L != LsdaOf.end())
      for (unsigned Lsda : L->second) {
        H.add(StringRef("lsda"));
        H.add(sectionHash(Lsda));
      }
    return H.finish();
  }

  DenseMap<unsigned, std::vector<uint64_t>> StringStarts;
  DenseMap<unsigned, uint64_t> Hashes;
  DenseSet<unsigned> InProgress;
  std::string FirstError;
};

} // namespace

Expected<InputFile> hashObject(MemoryBufferRef Object, StringRef Path,
                               StringRef Member) {
  InputFile In;
  In.Path = Path.str();
  In.Member = Member.str();
  In.Size = Object.getBufferSize();
  In.ContentHash = xxh3_64bits(arrayRefFromStringRef(Object.getBuffer()));
  auto Obj = ELFFile<ELFT>::create(Object.getBuffer());
  if (!Obj)
    return Obj.takeError();
  ObjectHasher H(*Obj);
  if (Error E = H.run(In))
    return std::move(E);
  for (auto &[Type, Layout] : parseLayouts(readLayoutSection(Object)))
    In.Layouts.push_back({Type, Layout});
  return In;
}

} // namespace hotpatch
