//===- BaseSymbols.cpp - the base's symbols as an object --------------------===//
//
// Pass 6 of a thin link: an ELF relocatable object that defines every base
// symbol the rebuilt objects reference but do not define, section-relative
// and typed.
//
//===----------------------------------------------------------------------===//
#include "PatchContext.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {
namespace patchlink {

/// An ELF relocatable object with one NOBITS section per base output section
/// that holds a referenced symbol, defining each symbol at its offset: real,
/// typed, section-relative definitions (absolute symbols would not move with
/// the base's ASLR slide, and untyped ones break TLS relocations).
Error writeBaseSymbols(PatchContext &C, StringRef Path) {
  std::set<std::string> DefinedByObjects, Wanted;
  std::map<std::string, std::string> UndefinedFile; // the file naming it
  for (Rebuilt &R : C.Objects)
    for (const ObjSymbol &Sym : R.Symbols)
      if (Sym.Binding != ELF::STB_LOCAL) {
        (Sym.Section == ELF::SHN_UNDEF ? Wanted : DefinedByObjects).insert(Sym.Name.str());
        if (Sym.Section == ELF::SHN_UNDEF)
          UndefinedFile.emplace(Sym.Name.str(), R.SourceFile);
      }
  struct Def {
    std::string Name;
    uint64_t Address; // link address (bias included); TLS: offset in PT_TLS
    uint64_t Size;
    uint8_t Type;
    bool Tls;
  };
  std::vector<Def> Defs;
  for (const std::string &N : Wanted) {
    if (DefinedByObjects.count(N))
      continue;
    auto G = C.Chain.Globals.find(N);
    if (G != C.Chain.Globals.end()) {
      Defs.push_back({N, G->second, 0, ELF::STT_NOTYPE, false});
      continue;
    }
    // Hidden symbols (__dso_handle, -fvisibility=hidden code) are local in
    // the base's symbol table: C.baseDefinition finds them there.
    const Symbol *Found = C.baseDefinition(UndefinedFile[N], N, false);
    if (!Found)
      continue; // from a shared library: resolved when the patch is applied
    const Symbol &S = *Found;
    bool Tls = S.Kind == SymbolKind::Tls;
    uint8_t Type = S.Kind == SymbolKind::Func ? ELF::STT_FUNC
                   : Tls                      ? ELF::STT_TLS
                   : S.Kind == SymbolKind::Object ? ELF::STT_OBJECT
                                                  : ELF::STT_NOTYPE;
    Defs.push_back({N, Tls ? S.Address : S.Address + Bias, S.Size, Type, Tls});
  }
  // Sections: [0] null, [1] .hpbase (covers the base image), [2]
  // .hpbase.tlsalign (gives the recreated PT_TLS the base's alignment),
  // [3 .. 3+T) one .hpbase.tls.<k> per thread-local symbol, then .symtab,
  // .strtab, .shstrtab.
  std::string ShStr(1, '\0');
  auto AddName = [&](const std::string &N) {
    uint32_t Off = ShStr.size();
    ShStr += N;
    ShStr.push_back('\0');
    return Off;
  };
  std::vector<Elf_Shdr> Sh(3);
  memset(Sh.data(), 0, Sh.size() * sizeof(Elf_Shdr));
  Sh[1].sh_name = AddName(".hpbase");
  Sh[1].sh_type = ELF::SHT_NOBITS;
  Sh[1].sh_flags = ELF::SHF_ALLOC | ELF::SHF_WRITE;
  Sh[1].sh_size = C.Base->image().End - C.Base->image().Begin;
  Sh[1].sh_addralign = 1;
  Sh[2].sh_name = AddName(".hpbase.tlsalign");
  Sh[2].sh_type = ELF::SHT_NOBITS;
  Sh[2].sh_flags = ELF::SHF_ALLOC | ELF::SHF_WRITE | ELF::SHF_TLS;
  Sh[2].sh_addralign =
      C.Base->image().HasTls ? std::max<uint64_t>(C.Base->image().Tls.Align, 1) : 1;
  std::string Str(1, '\0');
  std::vector<Elf_Sym> Syms(1);
  memset(Syms.data(), 0, sizeof(Elf_Sym));
  for (const Def &D : Defs) {
    Elf_Sym S;
    memset(&S, 0, sizeof(S));
    S.st_name = Str.size();
    Str += D.Name;
    Str.push_back('\0');
    S.setBindingAndType(ELF::STB_GLOBAL, D.Type);
    S.st_size = D.Size;
    if (D.Tls) {
      Elf_Shdr T;
      memset(&T, 0, sizeof(T));
      T.sh_name = AddName(".hpbase.tls." + std::to_string(C.TlsItems.size()));
      T.sh_type = ELF::SHT_NOBITS;
      T.sh_flags = ELF::SHF_ALLOC | ELF::SHF_WRITE | ELF::SHF_TLS;
      T.sh_size = D.Size;
      T.sh_addralign = 1;
      C.TlsItems.push_back({D.Address, D.Size, Path.str(),
                          ".hpbase.tls." + std::to_string(C.TlsItems.size())});
      S.st_shndx = Sh.size();
      S.st_value = 0;
      Sh.push_back(T);
    } else {
      S.st_shndx = 1;
      S.st_value = D.Address - (Bias + C.Base->image().Begin);
    }
    Syms.push_back(S);
  }
  unsigned SymTabIndex = Sh.size();
  ELFT::Ehdr H;
  memset(&H, 0, sizeof(H));
  memcpy(H.e_ident, ELF::ElfMagic, 4);
  H.e_ident[ELF::EI_CLASS] = ELF::ELFCLASS64;
  H.e_ident[ELF::EI_DATA] = ELF::ELFDATA2LSB;
  H.e_ident[ELF::EI_VERSION] = ELF::EV_CURRENT;
  H.e_type = ELF::ET_REL;
  H.e_machine = ELF::EM_X86_64;
  H.e_version = ELF::EV_CURRENT;
  H.e_ehsize = sizeof(ELFT::Ehdr);
  H.e_shentsize = sizeof(Elf_Shdr);
  Elf_Shdr SymTab, StrTab, ShStrTab;
  memset(&SymTab, 0, sizeof(SymTab));
  memset(&StrTab, 0, sizeof(StrTab));
  memset(&ShStrTab, 0, sizeof(ShStrTab));
  SymTab.sh_name = AddName(".symtab");
  StrTab.sh_name = AddName(".strtab");
  ShStrTab.sh_name = AddName(".shstrtab");
  std::string Body;
  auto Append = [&](const void *P, size_t N) {
    while (Body.size() % 8)
      Body.push_back('\0');
    size_t Off = Body.size();
    Body.append(static_cast<const char *>(P), N);
    return Off;
  };
  Body.resize(sizeof(H));
  SymTab.sh_type = ELF::SHT_SYMTAB;
  SymTab.sh_offset = Append(Syms.data(), Syms.size() * sizeof(Elf_Sym));
  SymTab.sh_size = Syms.size() * sizeof(Elf_Sym);
  SymTab.sh_link = SymTabIndex + 1;
  SymTab.sh_info = 1; // first global
  SymTab.sh_addralign = 8;
  SymTab.sh_entsize = sizeof(Elf_Sym);
  StrTab.sh_type = ELF::SHT_STRTAB;
  StrTab.sh_offset = Append(Str.data(), Str.size());
  StrTab.sh_size = Str.size();
  StrTab.sh_addralign = 1;
  ShStrTab.sh_type = ELF::SHT_STRTAB;
  ShStrTab.sh_offset = Append(ShStr.data(), ShStr.size());
  ShStrTab.sh_size = ShStr.size();
  ShStrTab.sh_addralign = 1;
  Sh.push_back(SymTab);
  Sh.push_back(StrTab);
  Sh.push_back(ShStrTab);
  H.e_shnum = Sh.size();
  H.e_shstrndx = Sh.size() - 1;
  H.e_shoff = Append(Sh.data(), Sh.size() * sizeof(Elf_Shdr));
  memcpy(Body.data(), &H, sizeof(H));
  return writeFileAtomically(Path, [&](raw_ostream &OS) { OS << Body; });
}

} // namespace patchlink
} // namespace hotpatch
