//===- PatchScript.cpp - the linker script and the patch link ---------------===//
//
// Pass 7 and 8 of a thin link: the linker script that places ghosts and base
// symbols at their running addresses and the patch in its band, then the
// in-process lld link.
//
//===----------------------------------------------------------------------===//
#include "PatchContext.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "LldRunner.h"

#include "llvm/Support/Format.h"

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {
namespace patchlink {

Error writeScript(PatchContext &C, StringRef Path, StringRef BaseSymbols) {
  std::string S;
  raw_string_ostream OS(S);
  OS << "/* Patch " << C.Chain.Count + 1 << " of " << C.BasePath << " */\n";
  OS << "PHDRS {\n  text PT_LOAD FLAGS(5);\n  rodata PT_LOAD FLAGS(4);\n"
        "  data PT_LOAD FLAGS(6);\n  dynamic PT_DYNAMIC FLAGS(6);\n";
  if (C.Base->image().HasTls)
    OS << "  tls PT_TLS FLAGS(4);\n";
  OS << "}\nSECTIONS {\n";
  std::string Patch;
  raw_string_ostream PS(Patch);
  // The patch itself, from the first free page of the window up.
  PS << format("  .text 0x%llx : { *(.text .text.* hotpatch_thunks) } :text\n",
               (unsigned long long)C.PatchBase);
  PS << "  . = ALIGN(0x1000);\n"
        "  .rodata : { *(.rodata .rodata.* .gcc_except_table .gcc_except_table.*) } :rodata\n"
        "  .eh_frame : { KEEP(*(.eh_frame)) LONG(0) } :rodata\n"
        "  .dynsym : { *(.dynsym) } :rodata\n"
        "  .dynstr : { *(.dynstr) } :rodata\n"
        "  .gnu.hash : { *(.gnu.hash) } :rodata\n"
        "  .hash : { *(.hash) } :rodata\n"
        "  .rela.dyn : { *(.rela.dyn) } :rodata\n"
        "  .rela.plt : { *(.rela.plt) } :rodata\n"
        "  . = ALIGN(0x1000);\n"
        "  .data : { *(.data .data.* hotpatch_table) } :data\n"
        "  .got : { *(.got) } :data\n"
        "  .got.plt : { *(.got.plt) } :data\n"
        "  .dynamic : { *(.dynamic) } :data :dynamic\n"
        "  .bss : { *(.bss .bss.* COMMON) } :data\n";
  // Ghosts: the running program's own sections, where they are, outside
  // every segment. They come first: lld gives an input section to the first
  // output section whose pattern matches it.
  std::string Ghosts;
  raw_string_ostream GS(Ghosts);
  unsigned N = 0;
  // Thread-local ghosts go in the recreated TLS block below, not here.
  for (Rebuilt &R : C.Objects) {
    unsigned ObjIndex = &R - C.Objects.data();
    for (const InputSection &S : R.Hashed.Sections) {
      unsigned Index = S.Index;
      auto It = R.Plans.find(Index);
      if (It == R.Plans.end() || It->second.F != Fate::Ghost || (S.Flags & ELF::SHF_TLS))
        continue;
      const SectionPlan &P = It->second;
      // The input section's name is unique to this object and section:
      // no file pattern to match (lld tries each description on every
      // input section, and reads every byte of the script).
      GS << format("  .hpghost.%u 0x%llx (NOLOAD) : { *(.hpghost.%u.%u) } :NONE\n", N++,
                   (unsigned long long)P.Address, ObjIndex, Index);
    }
  }
  GS << format("  .hpbase 0x%llx (NOLOAD) : { \"%s\"(.hpbase) } :NONE\n",
               (unsigned long long)(Bias + C.Base->image().Begin), BaseSymbols.str().c_str());
  if (C.Base->image().HasTls) {
    // The base's PT_TLS, recreated at the same place with the same size and
    // alignment, each thread-local the patch uses at its offset, so that lld
    // computes the same %fs offsets as the base did.
    std::vector<TlsItem> Items = C.TlsItems;
    for (Rebuilt &R : C.Objects) {
      unsigned ObjIndex = &R - C.Objects.data();
      for (const InputSection &S : R.Hashed.Sections) {
        auto It = R.Plans.find(S.Index);
        if (It == R.Plans.end() || It->second.F != Fate::Ghost ||
            !(S.Flags & ELF::SHF_TLS))
          continue;
        Items.push_back({It->second.Address - Bias - C.Base->image().Tls.VAddr, S.Size,
                         R.PatchedPath,
                         (".hpghost." + Twine(ObjIndex) + "." + Twine(S.Index)).str()});
      }
    }
    llvm::sort(Items, [](const TlsItem &A, const TlsItem &B) { return A.Offset < B.Offset; });
    GS << format("  . = 0x%llx;\n", (unsigned long long)(Bias + C.Base->image().Tls.VAddr));
    GS << "  .tbss (NOLOAD) : {\n";
    GS << "    \"" << BaseSymbols << "\"(.hpbase.tlsalign)\n";
    uint64_t At = 0;
    for (const TlsItem &I : Items) {
      if (I.Offset < At)
        return fail("thread-locals overlap at offset " + Twine(I.Offset) +
                    " of the base's TLS block; rebuild and restart the program");
      if (I.Offset > At)
        GS << format("    . = . + 0x%llx;\n", (unsigned long long)(I.Offset - At));
      GS << "    \"" << I.File << "\"(" << I.Section << ")\n";
      At = I.Offset + I.Size;
    }
    if (C.Base->image().Tls.MemSize > At)
      GS << format("    . = . + 0x%llx;\n", (unsigned long long)(C.Base->image().Tls.MemSize - At));
    GS << "  } :tls\n";
  }
  GS << "  /DISCARD/ : { *(.hpdiscard.*) *(.init_array .init_array.* .fini_array .fini_array.* "
        ".ctors .ctors.* .dtors .dtors.* .note.GNU-stack .comment .llvm_addrsig) }\n";
  OS << Ghosts << Patch << "}\n";
  return writeFileAtomically(Path, [&](raw_ostream &F) { F << S; });
}

Error link(PatchContext &C, StringRef Script, StringRef BaseSymbols,
                         StringRef Output) {
  // The runtime copies each segment into its mapping, so segments need no
  // page alignment in the file (max-page-size=16: a one-function patch is a
  // few KiB, not 4 KiB of padding per segment); the script keeps them on
  // separate pages in memory. --apply-dynamic-relocs writes each RELATIVE
  // relocation's value at its place too: the runtime checks that the two
  // agree, so that neither a place nor an addend can change unnoticed.
  // A library's patch is a shared object: its thread-locals stay in the
  // library's TLS block (no relaxation to the executable's), and the
  // library's exported symbols stay interposable (Interposition.cpp).
  bool Library = C.Base->image().Kind == ImageKind::SharedLibrary;
  std::vector<std::string> Args = {
      "ld.lld", Library ? "-shared" : "-pie", "--no-dynamic-linker", "-e", "0", "-z", "now",
      "-z", "norelro", "-z", "max-page-size=16", "-z", "common-page-size=16",
      "--no-rosegment", "--hash-style=sysv", "--apply-dynamic-relocs",
      "--no-undefined-version", "--unresolved-symbols=ignore-all",
      "--no-check-sections", "-T", Script.str(), "-o", Output.str(),
      BaseSymbols.str()};
  if (Library) {
    std::string List = C.WorkDir + "/interposable.list";
    if (Error E = writeDynamicList(interposableReferences(C), List))
      return E;
    Args.push_back("--dynamic-list=" + List);
  }
  for (Rebuilt &R : C.Objects)
    Args.push_back(R.PatchedPath);
  std::vector<const char *> Argv;
  for (const std::string &A : Args)
    Argv.push_back(A.c_str());
  std::string Msgs;
  raw_string_ostream MS(Msgs);
  int RC = runLld(Argv, MS, MS);
  MS.flush();
  if (RC != 0)
    return fail("linking the patch failed:\n" + Msgs +
                (C.Opts.KeepTemps ? "(work files kept in " + C.WorkDir + ")"
                                : "(run with --keep-temps to keep the work "
                                  "files)"));
  return Error::success();
}

} // namespace patchlink
} // namespace hotpatch
