//===- PatchLinker.cpp - thin links: build a patch against a running base -===//
//
// A thin link turns rebuilt objects into a patch that contains only what
// changed, and whose every reference to anything else resolves to where that
// thing lives in the running base. Passes, in order:
//
//   1. Load the base's HotpatchModuleCache and the chain state of the
//      patches already made for it (<base>.hpchain).
//   2. Compare each rebuilt object with the input the base was linked from,
//      section by section (normalised hashes, ObjectHasher.cpp), against the
//      current state: the base, or the last patch that replaced a section.
//   3. Decide each loaded section's fate:
//        ghost    - unchanged, or existing data whose running value wins:
//                   placed at its running address and never loaded;
//        include  - changed or new code, new data, literals: in the patch;
//        discard  - static constructor tables (existing globals must not
//                   be constructed again).
//      and refuse what a patch cannot do safely (new thread-locals, resized
//      data, objects the base was not linked from).
//   4. Rewrite a copy of each object: ghosts lose their relocations (their
//      bytes are never written), and .eh_frame loses the FDEs of ghost code.
//   5. Write an object that defines, section-relative and typed, every base
//      symbol the objects reference but do not define.
//   6. Write a linker script: ghosts and base symbols at their addresses,
//      outside every segment; the patch in this chain position's band below
//      the base; segments of different permissions on different pages.
//   7. Link with lld in-process (-pie), read back where the new bodies went,
//      and write the patch: header, slot updates, names, ELF image.
//
// Addresses in the patch link are base addresses + HOTPATCH_PATCH_BIAS (see
// hotpatch/patch_format.h). Each pass has a file of its own; PatchContext.h
// lists them. This file runs them and reports.
//
//===----------------------------------------------------------------------===//
#include "PatchLinker.h"
#include "PatchContext.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"

#include <chrono>

using namespace llvm;

namespace hotpatch {
namespace patchlink {

const Symbol *PatchContext::baseLocal(StringRef File, StringRef Name) const {
  auto It = BaseLocals.find(Name);
  if (It == BaseLocals.end())
    return nullptr;
  for (const Symbol *S : It->second)
    if (Base->file(S->File) == File)
      return S;
  return nullptr;
}

const Symbol *PatchContext::baseDefinition(StringRef File, StringRef Name, bool Local) const {
  if (Local)
    return baseLocal(File, Name);
  if (auto G = BaseGlobals.find(Name); G != BaseGlobals.end())
    return G->second;
  auto It = BaseLocals.find(Name);
  if (It == BaseLocals.end())
    return nullptr;
  const Symbol *Hidden = nullptr;
  unsigned HiddenCount = 0;
  for (const Symbol *S : It->second) {
    if (S->Visibility == ELF::STV_DEFAULT)
      continue;
    if (Base->file(S->File) == File)
      return S;
    Hidden = S;
    ++HiddenCount;
  }
  return HiddenCount == 1 ? Hidden : nullptr;
}

namespace {

/// What becomes of a thin link's context and work directory once its
/// result is known (setPatchLinkFastExit, setPatchLinkDeferredTeardown).
enum class Teardown { Now, Never, Later };
Teardown Mode = Teardown::Now;
std::vector<std::unique_ptr<PatchContext>> Deferred;

PatchResult runPasses(PatchContext &C) {
  using Clock = std::chrono::steady_clock;
  auto Start = Clock::now(), Last = Start;
  PatchResult Result;
  // A block of the base's cache that does not match its checksum makes
  // every answer read from the cache suspect: that is the refusal, whatever
  // a pass concluded from it.
  auto Refuse = [&](Error E) {
    if (C.Base && C.Base->corrupt()) {
      consumeError(std::move(E));
      E = C.Base->corruption();
    }
    Result.Error = toString(std::move(E));
    return Result;
  };
  auto Mark = [&](const char *Pass) {
    auto Now = Clock::now();
    Result.Phases.push_back({Pass, std::chrono::duration<double, std::milli>(Now - Last).count()});
    Last = Now;
  };
  if (Error E = loadBase(C))
    return Refuse(std::move(E));
  Mark("base: cache and chain state");
  if (Error E = loadObjects(C))
    return Refuse(std::move(E));
  Mark("rebuilt objects: read, hash, match");
  indexBaseSymbols(C);
  Mark("base symbols the objects name");
  for (Rebuilt &R : C.Objects)
    if (Error E = plan(C, R))
      return Refuse(std::move(E));
  for (Rebuilt &R : C.Objects) {
    if (Error E = propagate(C, R))
      return Refuse(std::move(E));
    dropUnusedExceptionTables(C, R);
  }
  Mark("section planning");

  SmallString<128> Dir;
  if (std::error_code EC = sys::fs::createUniqueDirectory("thinlink-patch", Dir))
    return Refuse(fail("cannot create a work directory: " + EC.message()));
  C.WorkDir = std::string(Dir);
  auto Cleanup = make_scope_exit([&] {
    if (!C.Opts.KeepTemps && Mode != Teardown::Later)
      sys::fs::remove_directories(C.WorkDir);
  });
  for (Rebuilt &R : C.Objects)
    if (Error E = rewrite(C, R))
      return Refuse(std::move(E));
  Mark("ghost objects");
  std::string BaseSyms = C.WorkDir + "/base-symbols.o";
  std::string Script = C.WorkDir + "/patch.lds";
  std::string Image = C.WorkDir + "/patch.elf";
  if (Error E = writeBaseSymbols(C, BaseSyms))
    return Refuse(std::move(E));
  if (Error E = writeScript(C, Script, BaseSyms))
    return Refuse(std::move(E));
  Mark("base-symbol object, linker script");
  if (Error E = link(C, Script, BaseSyms, Image))
    return Refuse(std::move(E));
  Mark("lld");
  if (C.Opts.WarmUpOnly) {
    Result.Ok = true;
    return Result;
  }
  if (C.Base->corrupt())
    return Refuse(C.Base->corruption());
  if (Error E = writePatch(C, Image))
    return Refuse(std::move(E));
  Mark("patch file, chain state");

  Result.Ok = true;
  Result.Ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                        Start)
                  .count();
  Result.Notes = C.Notes;
  Result.NothingToPatch = C.NothingToPatch;
  if (C.NothingToPatch)
    return Result;
  Result.ChainIndex = C.Chain.Count;
  sys::fs::file_size(C.Opts.Output, Result.PatchBytes);
  for (const hotpatch_patch_update &U : C.Updates)
    Result.SlotUpdates += U.slot != 0;
  for (const std::string &N : C.Changed)
    (isLibraryFunction(N) ? Result.Library : Result.Changed).push_back(N);
  for (const std::string &N : C.Added)
    (isLibraryFunction(N) ? Result.Library : Result.Added).push_back(N);
  Result.NotHot = C.NotHot;
  Result.NewGlobals = C.InitCount;
  for (Rebuilt &R : C.Objects)
    for (const InputSection &S : R.Hashed.Sections) {
      auto It = R.Plans.find(S.Index);
      Result.NewData += It != R.Plans.end() && It->second.F == Fate::Include &&
                        It->second.New && !isCode(S) && !(S.Flags & ELF::SHF_MERGE) &&
                        S.Size && !StringRef(S.Name).contains(".hotpatch.") &&
                        S.Name != HOTPATCH_TABLE_SECTION && S.Name != ".eh_frame" &&
                        !StringRef(S.Name).starts_with(".gcc_except_table");
    }
  return Result;
}

} // namespace
} // namespace patchlink

void setPatchLinkFastExit(bool On) {
  patchlink::Mode = On ? patchlink::Teardown::Never : patchlink::Teardown::Now;
}

void setPatchLinkDeferredTeardown(bool On) {
  patchlink::Mode = On ? patchlink::Teardown::Later : patchlink::Teardown::Now;
}

void releaseDeferredPatchLinks() {
  for (auto &C : patchlink::Deferred)
    if (!C->WorkDir.empty() && !C->Opts.KeepTemps)
      sys::fs::remove_directories(C->WorkDir);
  patchlink::Deferred.clear();
}

bool isLibraryFunction(StringRef N) {
  return N.starts_with("_ZSt") || N.starts_with("_ZNSt") || N.starts_with("_ZNKSt") ||
         N.starts_with("_ZN9__gnu_cxx") || N.starts_with("_ZNK9__gnu_cxx") ||
         N.starts_with("_ZN10__cxxabiv1") || N.starts_with("__clang_") ||
         N.starts_with("__cxx_") || N.starts_with("_GLOBAL__");
}

PatchResult buildPatch(const PatchOptions &Opts) {
  auto C = std::make_unique<patchlink::PatchContext>(Opts);
  PatchResult R = patchlink::runPasses(*C);
  switch (patchlink::Mode) {
  case patchlink::Teardown::Now: // library callers (hotpatch dev)
    break;
  case patchlink::Teardown::Never:
    // The thinlink command exits right after: freeing the base's cache
    // would only cost time.
    C.release();
    break;
  case patchlink::Teardown::Later:
    patchlink::Deferred.push_back(std::move(C));
    break;
  }
  return R;
}

int printPatchResult(const PatchResult &R, const PatchOptions &Opts, raw_ostream &Out,
                     raw_ostream &Err) {
  if (!R.Ok) {
    Err << "thinlink: error: " << R.Error << "\n";
    return 1;
  }
  if (R.NothingToPatch) {
    Out << "nothing to patch for " << Opts.Base
        << ": no code that runs changed; no patch written (" << format("%.1f ms", R.Ms)
        << ")\n";
    for (const std::string &N : R.Notes)
      Out << "  note:    " << N << "\n";
    return 0;
  }
  size_t LibChanged = R.Library.size();
  Out << "patch " << R.ChainIndex << " for " << Opts.Base << ": " << R.Changed.size()
      << " changed, " << R.Added.size() << " added, ";
  if (LibChanged)
    Out << LibChanged << " library functions, ";
  Out << R.SlotUpdates << " slot updates, ";
  if (R.NewData)
    Out << R.NewData << " data added, ";
  if (R.NewGlobals)
    Out << R.NewGlobals << " new globals to construct, ";
  Out << R.PatchBytes << " bytes, " << format("%.1f ms", R.Ms) << "\n";
  for (const std::string &N : R.Changed)
    Out << "  changed: " << N << "\n";
  for (const std::string &N : R.Added)
    Out << "  added:   " << N << "\n";
  for (const std::string &N : R.Library)
    Out << "  library: " << N << "\n";
  for (const std::string &N : R.NotHot)
    Out << "  warning: " << N
        << " is not hot: only calls from patched code and hotpatch_current() "
           "reach the new version\n";
  for (const std::string &N : R.Notes)
    Out << "  note:    " << N << "\n";
  return 0;
}

int runPatchLink(const PatchOptions &Opts, raw_ostream &Out, raw_ostream &Err) {
  PatchResult R = buildPatch(Opts);
  int RC = printPatchResult(R, Opts, Out, Err);
  if (Opts.ShowPhases)
    for (const auto &[Pass, Ms] : R.Phases)
      Out << format("  phase: %8.2f ms  ", Ms) << Pass << "\n";
  return RC;
}

} // namespace hotpatch
