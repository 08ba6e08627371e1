//===- Interposition.cpp - a library's exported symbols stay interposable --===//
//
// In a shared library, a symbol with default visibility is bound by the
// dynamic linker, which may choose another image's definition: the
// executable's copy of an inline function's slot or static local, a
// variable the executable defines too. The library's own code reaches such
// symbols through its GOT, and so must the patch, or it would read and write
// a copy the running program does not use. So a library's patch is linked
// with -shared and a dynamic list of those symbols: lld keeps them
// preemptible, the patch reaches them through its own GOT, and the runtime
// fills that GOT as the dynamic linker filled the library's (the program's
// global scope first, then the library itself).
//
// Thread-locals are left out (the runtime binds them to the library's own
// block), and so is everything the patch defines anew: its changed code is
// its own.
//
//===----------------------------------------------------------------------===//
#include "PatchContext.h"

#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace hotpatch {
namespace patchlink {

bool isInterposable(const PatchContext &C, StringRef Name) {
  if (C.Base->image().Kind != ImageKind::SharedLibrary)
    return false;
  auto It = C.BaseGlobals.find(Name);
  if (It == C.BaseGlobals.end())
    return false;
  const Symbol &S = *It->second;
  return !S.Section.empty() && S.Visibility == ELF::STV_DEFAULT &&
         (S.Binding == SymbolBinding::Global || S.Binding == SymbolBinding::Weak) &&
         S.Kind != SymbolKind::Tls && S.Kind != SymbolKind::Section &&
         S.Kind != SymbolKind::File;
}

std::vector<std::string> interposableReferences(const PatchContext &C) {
  std::set<std::string> Own, Names;
  for (const Rebuilt &R : C.Objects)
    for (const ObjSymbol &S : R.Symbols) {
      if (S.Binding == ELF::STB_LOCAL || S.Type == ELF::STT_TLS)
        continue;
      if (S.Section != ELF::SHN_UNDEF) {
        auto P = R.Plans.find(S.Section);
        if (P == R.Plans.end() || P->second.F != Fate::Ghost) {
          Own.insert(S.Name.str()); // new code or data of the patch
          continue;
        }
      }
      if (isInterposable(C, S.Name))
        Names.insert(S.Name.str());
    }
  std::vector<std::string> Out;
  for (const std::string &N : Names)
    if (!Own.count(N))
      Out.push_back(N);
  return Out;
}

Error writeDynamicList(const std::vector<std::string> &Names, StringRef Path) {
  return writeFileAtomically(Path, [&](raw_ostream &OS) {
    OS << "{\n";
    for (const std::string &N : Names)
      OS << "  \"" << N << "\";\n";
    OS << "};\n";
  });
}

} // namespace patchlink
} // namespace hotpatch
