//===- CacheBuilder.cpp - describe a linked image for later thin links ----===//
//
// Two jobs:
//
//  1. Read the linked image: its layout (segments, TLS, build-id), every
//     symbol with the file it came from, and the hot-function slots. lld
//     writes each object's local symbols right after that object's STT_FILE
//     symbol, which is how two `static int counter` in two files stay apart.
//
//  2. Hash every section of every input object so that a later thin link can
//     tell which functions changed. A section's hash covers its type, flags,
//     size, bytes and relocations, where a relocation is hashed as (offset,
//     type, target identity, addend relative to that identity):
//       - a named symbol: its name (and "local" or "global");
//       - a section symbol, an assembler-private label (.L.str.N) or a local
//         symbol in a mergeable section, by what it points at: in a
//         mergeable string section the string's content (literals are
//         renumbered and reordered between builds), in a mergeable constant
//         section the constant; in an anonymous section (one that defines
//         no named symbol: jump tables, a switch's lookup table, unnamed
//         constants) that section's own hash, computed the same way
//         (recursively, once per section, cycles cut), and the offset; in a
//         named section, its name and offset.
//     A function's hash also covers its exception table
//     (.gcc_except_table.<fn>, found through the function's FDE in
//     .eh_frame): a change of only the table is a change of the function.
//     Sections that are not loaded (debug info, comments) are recorded with
//     hash 0: a thin link never compares them, and hashing debug info would
//     cost more than the link.
//
//===----------------------------------------------------------------------===//
#include "CacheBuilder.h"

#include "llvm/Demangle/Demangle.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/Archive.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/xxhash.h"

#include "hotpatch/object_records.h"
#include "hotpatch/slot_table.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <optional>
#include <sys/mman.h>
#include <unistd.h>
#include <map>
#include <set>

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {
namespace {

using ELFT = ELF64LE;
using Elf_Shdr = ELFT::Shdr;
using Elf_Sym = ELFT::Sym;
using Elf_Rela = ELFT::Rela;

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

/// One relocatable object, parsed enough to hash its sections.
class ObjectHasher {
public:
  ObjectHasher(const ELFFile<ELFT> &Obj) : Obj(Obj) {}

  Error run(InputFile &Out) {
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
    if (Error E = readLsdas())
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
  StringRef sectionName(const Elf_Shdr &S) {
    auto N = Obj.getSectionName(S);
    return N ? *N : (consumeError(N.takeError()), StringRef());
  }

  Error readGroup(const Elf_Shdr &G) {
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

  /// The section a symbol is defined in, or 0.
  unsigned sectionOf(uint32_t SymIndex) {
    if (SymIndex == 0 || SymIndex >= Symbols.size())
      return 0;
    unsigned S = Symbols[SymIndex].st_shndx;
    return S < Sections.size() ? S : 0;
  }

  /// A function's exception table (its LSDA, `.gcc_except_table.<fn>`) is
  /// named by no symbol; what ties it to the function is the FDE in
  /// .eh_frame: the relocation at the FDE's pc_begin points at the function,
  /// any other relocation in the FDE (its augmentation data) at the LSDA.
  Error readLsdas() {
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

  ArrayRef<uint8_t> contents(unsigned Index) {
    const Elf_Shdr &S = Sections[Index];
    if (S.sh_type == ELF::SHT_NOBITS)
      return {};
    auto C = Obj.getSectionContents(S);
    return C ? *C : (consumeError(C.takeError()), ArrayRef<uint8_t>());
  }

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

  const ELFFile<ELFT> &Obj;
  ArrayRef<Elf_Shdr> Sections;
  ArrayRef<Elf_Sym> Symbols;
  StringRef SymStrings;
  DenseMap<unsigned, const Elf_Shdr *> RelaFor;
  DenseMap<unsigned, StringRef> GroupOf;
  DenseMap<unsigned, std::vector<uint64_t>> StringStarts;
  std::vector<bool> Named; // defines a symbol with a name of its own
  /// (section, offset) -> the name (and binding) of a symbol starting there.
  std::map<std::pair<unsigned, uint64_t>, std::pair<StringRef, unsigned>> NameAt;
  DenseMap<unsigned, SmallVector<unsigned, 1>> LsdaOf; // function -> LSDAs
  DenseMap<unsigned, uint64_t> Hashes;
  DenseSet<unsigned> InProgress;
  std::string FirstError;
};


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

std::map<std::string, std::string> parseLayouts(StringRef Text) {
  std::map<std::string, std::string> Out;
  std::string Type, Block;
  for (StringRef Line : split(Text, '\n')) {
    if (Line.starts_with("T ")) {
      Type = Line.drop_front(2).rsplit(" size=").first.str();
      Block.clear();
    }
    if (!Type.empty()) {
      Block += Line;
      Block += '\n';
    }
    if (Line == "E" && !Type.empty()) {
      Out.emplace(Type, Block);
      Type.clear();
    }
  }
  return Out;
}

std::string readLayoutSection(MemoryBufferRef Object) {
  auto Obj = ELFFile<ELFT>::create(Object.getBuffer());
  if (!Obj)
    return consumeError(Obj.takeError()), "";
  auto Secs = Obj->sections();
  if (!Secs)
    return consumeError(Secs.takeError()), "";
  std::string Text;
  for (const Elf_Shdr &S : *Secs) {
    auto Name = Obj->getSectionName(S);
    if (!Name || *Name != HOTPATCH_LAYOUTS_SECTION) {
      if (!Name)
        consumeError(Name.takeError());
      continue;
    }
    auto C = Obj->getSectionContents(S);
    if (C)
      Text.append(reinterpret_cast<const char *>(C->data()), C->size());
    else
      consumeError(C.takeError());
  }
  return Text;
}

std::string describeLayoutChange(StringRef Old, StringRef New) {
  struct Parsed {
    std::string Size;
    std::vector<std::string> Order;
    std::map<std::string, std::pair<std::string, std::string>> Fields; // offset, type
    std::vector<std::string> Other; // bases, vptr
  };
  auto Parse = [](StringRef Block) {
    Parsed P;
    for (StringRef Line : split(Block, '\n')) {
      if (Line.starts_with("T "))
        P.Size = Line.rsplit(" size=").second.split(' ').first.str();
      else if (Line.starts_with("F ")) {
        StringRef Rest = Line.drop_front(2);
        auto [Name, Tail] = Rest.split(" offset=");
        auto [Off, Type] = Tail.split(" type=");
        P.Order.push_back(Name.str());
        P.Fields[Name.str()] = {Off.str(), Type.str()};
      } else if (Line.starts_with("B ") || Line.starts_with("V ")) {
        P.Other.push_back(Line.str());
      }
    }
    return P;
  };
  Parsed A = Parse(Old), B = Parse(New);
  std::vector<std::string> What;
  auto Bytes = [](const std::string &Bits) {
    uint64_t N;
    return StringRef(Bits).getAsInteger(10, N) ? "'" + Bits + "' bits" : std::to_string(N / 8);
  };
  // The fields of an unnamed struct held by a field are listed after it as
  // `pos.line`; when `pos` moved, they moved with it and are not repeated.
  std::set<std::string> Moved;
  auto MovedWithParent = [&](StringRef F) {
    for (size_t Dot = F.rfind('.'); Dot != StringRef::npos; Dot = F.rfind('.', Dot - 1)) {
      StringRef Parent = F.take_front(Dot);
      Parent.consume_back("[]");
      if (Moved.count(Parent.str()))
        return true;
      if (Dot == 0)
        break;
    }
    return false;
  };
  for (const std::string &F : B.Order) {
    auto It = A.Fields.find(F);
    if (It == A.Fields.end())
      What.push_back("field '" + F + "' added at offset " + Bytes(B.Fields[F].first));
    else if (It->second.second != B.Fields[F].second)
      What.push_back("field '" + F + "' changed type from " + It->second.second +
                     " to " + B.Fields[F].second);
    else if (It->second.first != B.Fields[F].first) {
      Moved.insert(F);
      if (!MovedWithParent(F))
        What.push_back("field '" + F + "' moved from offset " + Bytes(It->second.first) +
                       " to " + Bytes(B.Fields[F].first));
    }
  }
  for (const std::string &F : A.Order)
    if (!B.Fields.count(F))
      What.push_back("field '" + F + "' removed");
  if (A.Other != B.Other)
    What.push_back("its bases or virtual table pointer changed");
  if (A.Size != B.Size)
    What.push_back("size " + A.Size + " -> " + B.Size + " bytes");
  if (What.empty())
    What.push_back("its layout changed");
  std::string Out;
  for (const std::string &W : What)
    Out += (Out.empty() ? "" : "; ") + W;
  return Out;
}

/// A function's static variable as the source names it ("tick()::count"),
/// the same for every one of that name in the function, or "" for other
/// symbols. Compilers number statics of one name in one function in source
/// order (C++ `_ZZ4tickvE5count`, `..._0`; C `tick.count`, `tick.count.1`),
/// and the demangler and this key leave the number out.
std::string localStaticKey(StringRef Name) {
  if (Name.starts_with("_ZZ") || Name.starts_with("_ZGVZ"))
    return demangle(Name.str());
  if (Name.starts_with("_Z") || Name.starts_with(".") || Name.count('.') < 1)
    return "";
  SmallVector<StringRef, 3> Parts;
  Name.split(Parts, '.');
  if (Parts.size() == 3 && !Parts[2].empty() &&
      all_of(Parts[2], [](char Ch) { return isDigit(Ch); }))
    Parts.pop_back();
  return Parts.size() == 2 && !Parts[0].empty() && !Parts[1].empty()
             ? (Parts[0] + "()::" + Parts[1]).str()
             : "";
}

bool parseTraceLine(StringRef Line, TracedInput &Out) {
  Line = Line.trim();
  if (Line.empty())
    return false;
  Out = TracedInput();
  if (Line.ends_with(")")) {
    // "lib.a(member)": the archive is the first prefix before a '(' that is
    // a file (a directory's name or the member's may hold parentheses too).
    for (size_t Open = Line.find('('); Open != StringRef::npos; Open = Line.find('(', Open + 1)) {
      StringRef Archive = Line.take_front(Open);
      if (Open > 0 && sys::fs::is_regular_file(Archive)) {
        Out.Path = Archive.str();
        Out.Member = Line.slice(Open + 1, Line.size() - 1).str();
        return true;
      }
    }
  }
  if (!sys::fs::is_regular_file(Line))
    return false;
  Out.Path = Line.str();
  return true;
}

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

struct InputArena;

struct LinkSnapshot::Impl {
  std::string Output;
  std::unique_ptr<MemoryBuffer> OutputBuffer;
  struct Job {
    std::string Path, Member;
    MemoryBufferRef Ref;
    std::optional<InputFile> Result;
    std::string Error;
  };
  std::vector<Job> Jobs;
  std::vector<std::unique_ptr<MemoryBuffer>> Buffers;
  std::vector<std::unique_ptr<Archive>> Archives;
  /// The plain objects' copies, one after the other (InputArena).
  std::unique_ptr<InputArena> Arena;
};

/// Copies of the link's plain objects, in one anonymous mapping that asks
/// for huge pages: the copy of 200 objects (20 MB) took 150-180 ms in
/// 4 KiB pages on a machine where a page fault costs some 30 us, against
/// a few ms in 2 MiB ones.
struct InputArena {
  char *Base = nullptr;
  size_t Size = 0, Used = 0;
  explicit InputArena(size_t Bytes) {
    constexpr size_t Huge = 2u << 20;
    Size = (Bytes + Huge - 1) / Huge * Huge;
    if (!Size)
      return;
    void *P = mmap(nullptr, Size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (P == MAP_FAILED) {
      Size = 0;
      return;
    }
    Base = static_cast<char *>(P);
    madvise(Base, Size, MADV_HUGEPAGE); // a hint: 4 KiB pages work too
  }
  ~InputArena() {
    if (Base)
      munmap(Base, Size);
  }
  /// The file's bytes copied into the arena, or None (no room, or the file
  /// is not the size it was: the caller reads it the usual way).
  std::optional<StringRef> copy(const std::string &Path, uint64_t Expected) {
    if (!Base || Size - Used < Expected)
      return std::nullopt;
    int FD = ::open(Path.c_str(), O_RDONLY | O_CLOEXEC);
    if (FD < 0)
      return std::nullopt;
    size_t Got = 0;
    while (Got < Expected) {
      ssize_t N = ::read(FD, Base + Used + Got, Expected - Got);
      if (N < 0 && errno == EINTR)
        continue;
      if (N <= 0)
        break;
      Got += size_t(N);
    }
    char Extra;
    bool Whole = Got == Expected && ::read(FD, &Extra, 1) == 0;
    ::close(FD);
    if (!Whole)
      return std::nullopt;
    StringRef Bytes(Base + Used, Expected);
    Used += (Expected + 15) & ~size_t(15);
    return Bytes;
  }
};

/// The file's bytes as they are now, in heap memory: never a mapping, which
/// would show whatever is written to the file later. (MemoryBuffer maps a
/// file of 16 KiB or more even when it is marked volatile, unless a null
/// terminator is asked for too.)
static ErrorOr<std::unique_ptr<MemoryBuffer>> readIntoMemory(const Twine &Path) {
  return MemoryBuffer::getFile(Path, /*IsText=*/false,
                               /*RequiresNullTerminator=*/true,
                               /*IsVolatile=*/true);
}

LinkSnapshot::LinkSnapshot() : I(std::make_unique<Impl>()) {}
LinkSnapshot::~LinkSnapshot() = default;

Expected<std::unique_ptr<LinkSnapshot>>
LinkSnapshot::take(StringRef Output, ArrayRef<TracedInput> Inputs,
                   StringRef WorkingDirectory) {
  auto S = std::unique_ptr<LinkSnapshot>(new LinkSnapshot());
  Impl &I = *S->I;
  I.Output = absolutePath(Output, WorkingDirectory);
  // The output is renamed into place by every link, so a mapping of this one
  // stays intact; inputs may be rewritten in place by the next compile (`cp`
  // over an object truncates and rewrites the same inode), so they are
  // copied into memory now, before thinlink returns to the build.
  auto Buf = MemoryBuffer::getFile(Output, /*IsText=*/false,
                                   /*RequiresNullTerminator=*/false);
  if (!Buf)
    return createStringError(Buf.getError(), "cannot read the linked output '" +
                                                 Output + "': " +
                                                 Buf.getError().message());
  I.OutputBuffer = std::move(*Buf);
  StringMap<Archive *> Archives;
  std::vector<uint64_t> Sizes(Inputs.size(), 0);
  uint64_t Total = 0;
  for (size_t K = 0; K < Inputs.size(); ++K)
    if (Inputs[K].Member.empty() &&
        !sys::fs::file_size(absolutePath(Inputs[K].Path, WorkingDirectory), Sizes[K]))
      Total += (Sizes[K] + 15) & ~uint64_t(15);
  I.Arena = std::make_unique<InputArena>(Total);
  for (size_t K = 0; K < Inputs.size(); ++K) {
    const TracedInput &T = Inputs[K];
    Impl::Job J;
    J.Path = absolutePath(T.Path, WorkingDirectory);
    J.Member = T.Member;
    if (T.Member.empty()) {
      if (std::optional<StringRef> Bytes = I.Arena->copy(J.Path, Sizes[K])) {
        J.Ref = MemoryBufferRef(*Bytes, J.Path);
      } else {
        auto B = readIntoMemory(J.Path);
        if (!B)
          continue; // gone since the link: nothing to describe
        J.Ref = (*B)->getMemBufferRef();
        I.Buffers.push_back(std::move(*B));
      }
    } else {
      Archive *&A = Archives[J.Path];
      if (!A) {
        auto B = readIntoMemory(J.Path);
        if (!B)
          continue;
        auto AOrErr = Archive::create((*B)->getMemBufferRef());
        if (!AOrErr) {
          consumeError(AOrErr.takeError());
          continue;
        }
        I.Buffers.push_back(std::move(*B));
        I.Archives.push_back(std::move(*AOrErr));
        A = I.Archives.back().get();
      }
      Error Err = Error::success();
      for (const Archive::Child &Child : A->children(Err)) {
        auto Name = Child.getName();
        if (!Name || *Name != T.Member) {
          if (!Name)
            consumeError(Name.takeError());
          continue;
        }
        auto MB = Child.getMemoryBufferRef();
        if (MB)
          J.Ref = *MB;
        else
          consumeError(MB.takeError());
        break;
      }
      if (Err)
        return std::move(Err);
    }
    if (!J.Ref.getBufferSize() ||
        identify_magic(J.Ref.getBuffer()) != file_magic::elf_relocatable)
      continue; // shared libraries, scripts, bitcode: not hashed
    I.Jobs.push_back(std::move(J));
  }
  return std::move(S);
}

Expected<ModuleCache> LinkSnapshot::describe(ArrayRef<std::string> LinkArgs,
                                             StringRef WorkingDirectory) {
  ModuleCache C;
  C.Output = I->Output;
  C.WorkingDirectory = WorkingDirectory.str();
  C.LinkArgs.assign(LinkArgs.begin(), LinkArgs.end());
  auto Img = ELFFile<ELFT>::create(I->OutputBuffer->getBuffer());
  if (!Img)
    return Img.takeError();
  if (Img->getHeader().e_machine != ELF::EM_X86_64)
    return createStringError(inconvertibleErrorCode(),
                             "thinlink supports x86-64 ELF images only");
  if (Error E = ImageReader(*Img, C).run())
    return std::move(E);

  // Every input is hashed on its own, in parallel; the results are then put
  // in link order, which decides COMDAT winners.
  parallelFor(0, I->Jobs.size(), [&](size_t K) {
    Impl::Job &J = I->Jobs[K];
    auto In = hashObject(J.Ref, J.Path, J.Member);
    if (In)
      J.Result = std::move(*In);
    else
      J.Error = toString(In.takeError());
  });
  StringMap<uint32_t> SeenGroups;
  std::set<std::string> SeenLayouts;
  for (Impl::Job &J : I->Jobs) {
    if (!J.Result)
      return createStringError(inconvertibleErrorCode(),
                               "cannot read input '" + J.Path +
                                   (J.Member.empty() ? "" : "(" + J.Member + ")") +
                                   "': " + J.Error);
    InputFile &In = *J.Result;
    uint32_t Index = C.Inputs.size();
    for (const InputSection &S : In.Sections)
      if (!S.Group.empty() && SeenGroups.try_emplace(S.Group, Index).second)
        C.Comdats.push_back({S.Group, Index});
    for (auto &[Type, Layout] : In.Layouts)
      if (SeenLayouts.insert(Type).second)
        C.Layouts.push_back({Type, Layout});
    In.Layouts.clear();
    C.Inputs.push_back(std::move(In));
  }
  return C;
}

Expected<ModuleCache> buildModuleCache(StringRef Output,
                                       ArrayRef<TracedInput> Inputs,
                                       ArrayRef<std::string> LinkArgs,
                                       StringRef WorkingDirectory) {
  auto S = LinkSnapshot::take(Output, Inputs, WorkingDirectory);
  if (!S)
    return S.takeError();
  return (*S)->describe(LinkArgs, WorkingDirectory);
}

} // namespace hotpatch
