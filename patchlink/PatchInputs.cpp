//===- PatchInputs.cpp - the base, its chain and the rebuilt objects --------===//
//
// Pass 1 and 2 of a thin link: load the base's cache and chain state, read each
// rebuilt object once, match it to the input the program was linked from (an
// object or an archive member), and check that it is a rebuild of that input
// built the same way.
//
//===----------------------------------------------------------------------===//
#include "PatchContext.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "BuildId.h"
#include "CacheBuilder.h"

#include "hotpatch/object_records.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {
namespace patchlink {

/// A shared library's patches live in its own patch area (LinkDriver.cpp),
/// packed one after the other: below a library, where an executable's
/// patches go, the process maps its thread stacks and malloc arenas.
static Error placeInArena(PatchContext &C) {
  auto Named = [&](StringRef Name) -> std::optional<Symbol> {
    auto All = C.Base->symbolsNamed(Name);
    if (All.empty())
      return std::nullopt;
    return All.back();
  };
  std::optional<Symbol> Begin = Named(HOTPATCH_ARENA_BEGIN), End = Named(HOTPATCH_ARENA_END);
  if (!Begin || !End || End->Address <= Begin->Address)
    return fail("'" + C.Opts.Base + "' has no patch area: it was not linked with the "
                "hotpatch runtime; link the library with thinlink and libhotpatch "
                "(hotpatch_enable() does) and restart the program");
  C.PatchBase = std::max(Begin->Address + Bias, C.Chain.NextFree);
  C.BandEnd = End->Address + Bias;
  if (C.PatchBase + 0x10000 > C.BandEnd)
    return fail("the patch area of '" + C.Opts.Base + "' is full (" +
                Twine(C.Chain.Count) + " patches); rebuild the library and restart the "
                "program to start a new chain");
  return Error::success();
}

Error loadBase(PatchContext &C) {
  C.BasePath = absolutePath(C.Opts.Base);
  // A library is known by several names (libfoo.so -> libfoo.so.1 ->
  // libfoo.so.1.2): its cache, chain and journal are beside the file itself,
  // where the runtime looks for them.
  SmallString<256> Real;
  if (!sys::fs::real_path(C.BasePath, Real))
    C.BasePath = std::string(Real);
  auto Cache = openCacheView(cachePathFor(C.BasePath));
  if (!Cache)
    return Cache.takeError();
  C.Base = std::move(*Cache);
  if (C.Base->image().Kind == ImageKind::Executable)
    return fail("'" + C.Opts.Base + "' is not a position-independent executable; "
                "patches are supported for PIE executables and shared libraries "
                "(link with -pie, clang's default on Debian)");
  if (C.Base->image().BuildId.empty())
    return fail("'" + C.Opts.Base + "' has no build-id; relink it with thinlink");
  // The cache beside the program must describe this very program: a
  // program relinked by another linker keeps the old cache beside it.
  auto Id = readImageBuildId(C.BasePath);
  if (!Id)
    return Id.takeError();
  if (*Id != C.Base->image().BuildId)
    return fail("'" + C.Opts.Base + "' is build " +
                (Id->empty() ? std::string("<none>") : toHex(*Id, true)) +
                " but its module cache describes build " +
                toHex(C.Base->image().BuildId, true) +
                ": the program was relinked without thinlink after the cache "
                "was written; relink it with thinlink (-fuse-ld=lld "
                "--ld-path=thinlink) and restart it");
  auto St = ChainState::load(C.BasePath, toHex(C.Base->image().BuildId, true));
  if (!St)
    return St.takeError();
  C.Chain = std::move(*St);
  if (C.Base->image().Kind == ImageKind::SharedLibrary)
    return placeInArena(C);
  // Patches are packed upward in the window, in chain order
  // (hotpatch/patch_format.h); whether this one fits is known once linked.
  uint64_t Bottom = Bias - HOTPATCH_PATCH_GAP - HOTPATCH_PATCH_WINDOW;
  C.PatchBase = C.Chain.NextFree ? C.Chain.NextFree : Bottom;
  if (C.PatchBase < Bottom || C.PatchBase >= Bias - HOTPATCH_PATCH_GAP || C.PatchBase % 4096)
    return fail("the chain state of " + C.BasePath + " places the next patch at 0x" +
                utohexstr(C.PatchBase) + ", outside the patch window; remove " +
                ChainState::pathFor(C.BasePath) + ", rebuild the program and restart it");
  C.BandEnd = Bias - HOTPATCH_PATCH_GAP;
  return Error::success();
}

/// Indexes the base's symbols that the rebuilt objects name, and only those:
/// a program has tens of thousands, an edit touches a few hundred.
void indexBaseSymbols(PatchContext &C) {
  StringSet<> Wanted;
  for (Rebuilt &R : C.Objects)
    for (const ObjSymbol &S : R.Symbols)
      Wanted.insert(S.Name);
  // A local of the base is wanted from the rebuilt objects' own files only;
  // hidden globals became locals of their files and are wanted from all.
  SmallVector<uint32_t, 4> OwnFiles;
  for (Rebuilt &R : C.Objects)
    for (uint32_t F : C.Base->filesNamed(R.SourceFile))
      OwnFiles.push_back(F);
  for (const auto &Name : Wanted)
    for (Symbol &Found : C.Base->symbolsNamed(Name.getKey(), OwnFiles)) {
      if (Found.Section.empty())
        continue; // undefined or absolute: not the base's
      const Symbol &S = C.BaseSymbolRecords.emplace_back(std::move(Found));
      if (S.Binding == SymbolBinding::Local) {
        if (S.File < C.Base->numFiles())
          C.BaseLocals[S.Name].push_back(&S);
      } else {
        C.BaseGlobals[S.Name] = &S;
      }
    }
}

Error loadObjects(PatchContext &C) {
  for (const std::string &P : C.Opts.Objects) {
    Rebuilt R;
    R.Path = P;
    R.Abs = absolutePath(P);
    auto Buf = MemoryBuffer::getFile(P, false, false);
    if (!Buf)
      return fail("cannot read '" + P + "': " + Buf.getError().message());
    R.Buffer = std::move(*Buf);
    auto H = hashObject(R.Buffer->getMemBufferRef(), R.Abs, "");
    if (!H)
      return fail("'" + P + "' is not an x86-64 ELF object: " +
                  toString(H.takeError()));
    R.Hashed = std::move(*H);
    if (auto At = C.Base->objectsAt(R.Abs); !At.empty()) {
      R.BaseInput = &C.BaseInputRecords.emplace_back(C.Base->input(At.back(), true));
    } else {
      auto Member = archiveMemberFor(C, R);
      if (!Member)
        return Member.takeError();
      R.BaseInput = *Member;
    }
    // A type whose layout changed breaks every existing function and every
    // existing object of it: refuse, naming the type and what changed.
    // Every type whose layout changed, those whose own fields changed
    // first: a field added to a base class also resizes its derived ones.
    std::vector<std::pair<std::string, std::string>> LayoutChanges;
    for (auto &[Type, Layout] : R.Hashed.Layouts)
      if (std::optional<StringRef> BL = C.Base->layoutOf(Type); BL && *BL != Layout)
        LayoutChanges.push_back({Type, describeLayoutChange(*BL, Layout)});
    auto Rank = [](StringRef D) {
      if (D.contains(" added") || D.contains(" removed") || D.contains("changed type"))
        return 0; // the type the edit touched
      return D.starts_with("size") ? 2 : 1; // moved along, or only resized
    };
    std::stable_sort(LayoutChanges.begin(), LayoutChanges.end(), [&](auto &A, auto &B) {
      return Rank(A.second) < Rank(B.second);
    });
    if (!LayoutChanges.empty()) {
      std::string What = LayoutChanges[0].first + ": " + LayoutChanges[0].second;
      for (size_t I = 1; I < LayoutChanges.size() && I < 4; ++I)
        What += "; also " + LayoutChanges[I].first + ": " + LayoutChanges[I].second;
      if (LayoutChanges.size() > 4)
        What += "; and " + std::to_string(LayoutChanges.size() - 4) + " more types";
      return fail("'" + P + "' changes the layout of " + What +
                  "; code and objects in the running program use the old "
                  "layout: rebuild the program and restart it");
    }
    auto Obj = ELFFile<ELFT>::create(R.Buffer->getBuffer());
    if (!Obj)
      return Obj.takeError();
    auto Secs = Obj->sections();
    if (!Secs)
      return Secs.takeError();
    for (const Elf_Shdr &S : *Secs)
      if (S.sh_type == ELF::SHT_SYMTAB) {
        auto Syms = Obj->symbols(&S);
        auto Strs = Obj->getStringTableForSymtab(S);
        if (!Syms || !Strs)
          return fail("'" + P + "' has a broken symbol table");
        for (const Elf_Sym &Sym : Syms->drop_front()) {
          auto Name = Sym.getName(*Strs);
          if (!Name)
            return fail("'" + P + "' has a broken symbol table");
          if (Sym.getType() == ELF::STT_FILE) {
            if (R.SourceFile.empty())
              R.SourceFile = Name->str();
            continue;
          }
          if (Sym.getType() == ELF::STT_SECTION || Name->empty())
            continue;
          R.Symbols.push_back({*Name, Sym.st_shndx, Sym.st_value, Sym.getType(),
                               Sym.getBinding()});
        }
      }
    // Which sections each section refers to (SectionPlanning.cpp carries
    // changed constants' users along).
    for (const Elf_Shdr &S : *Secs) {
      if (S.sh_type != ELF::SHT_SYMTAB)
        continue;
      auto Syms = Obj->symbols(&S);
      if (!Syms)
        return fail("'" + P + "' has a broken symbol table");
      for (const Elf_Shdr &Rel : *Secs) {
        if (Rel.sh_type != ELF::SHT_RELA || Rel.sh_info >= Secs->size())
          continue;
        auto Relas = Obj->relas(Rel);
        if (!Relas)
          return fail("'" + P + "' has a broken relocation section: " +
                      toString(Relas.takeError()));
        for (const Elf_Rela &RA : *Relas) {
          uint32_t SI = RA.getSymbol(false);
          if (SI == 0 || SI >= Syms->size())
            continue;
          unsigned T = (*Syms)[SI].st_shndx;
          if (T != ELF::SHN_UNDEF && T < Secs->size() && T != Rel.sh_info)
            R.RefersTo[Rel.sh_info].insert(T);
        }
      }
    }
    if (Error E = checkBuiltAlike(C, R))
      return E;
    if (Error E = checkIsRebuildOf(C, R))
      return E;
    // The vector is complete: pointers into it stay valid.
    for (const ObjSymbol &S : R.Symbols)
      if (S.Section != ELF::SHN_UNDEF)
        R.BySection[S.Section].push_back(&S);
    C.Objects.push_back(std::move(R));
  }
  return Error::success();
}

/// "-O2, every function hot, thunks and call sites" from a build record.
static std::string describeBuild(StringRef Record) {
  SmallVector<StringRef, 4> F;
  Record.split(F, '.');
  if (F.size() != 4)
    return ("an unknown build record '" + Record + "'").str();
  std::string D = ("-" + F[1]).str();
  D += F[2] == "all" ? ", every function hot (-fplugin-arg-hotpatch-all)"
                     : ", annotated functions hot";
  if (F[3] != "both")
    D += (", mode " + F[3]).str();
  return D;
}

/// Code compiled another way differs in more than the edit (what is
/// inlined, which functions are hot, exception tables): a rebuilt object
/// must be built as the program's copy was (hotpatch/object_records.h).
Error checkBuiltAlike(PatchContext &C, const Rebuilt &R) {
  auto RecordOf = [](const std::vector<InputSection> &Secs) -> std::optional<StringRef> {
    for (const InputSection &S : Secs)
      if (StringRef(S.Name).starts_with(HOTPATCH_BUILD_RECORD_PREFIX))
        return StringRef(S.Name).drop_front(strlen(HOTPATCH_BUILD_RECORD_PREFIX));
    return std::nullopt;
  };
  std::optional<StringRef> Was = RecordOf(R.BaseInput->Sections);
  std::optional<StringRef> Now = RecordOf(R.Hashed.Sections);
  if (!Was || (Now && *Now == *Was))
    return Error::success(); // the program's copy was built without the plugin
  std::string What = "the program's copy was built with the plugin, " + describeBuild(*Was);
  if (!Now)
    return fail("'" + R.Path + "' was compiled without the hotpatch plugin (" + What +
                "); recompile it with the program's compile command (-fplugin=hotpatch.so "
                "and the same options, see compile_commands.json)");
  return fail("'" + R.Path + "' was compiled with " + describeBuild(*Now) + ", but " + What +
              "; recompile it with the program's compile command (see "
              "compile_commands.json), or rebuild the program with the new options and "
              "restart it");
}

/// The number of named functions of `In` that `R` still has.
/// A code section that holds one of the user's functions: not the shared
/// .text, .init, .fini, the plugin's thunks and constructor, or static
/// initialisers.
static bool isFunctionSection(const InputSection &S) {
  StringRef N = S.Name;
  return isCode(S) && S.Size && N != ".text" && N != ".init" && N != ".fini" &&
         N != HOTPATCH_THUNK_SECTION && !N.starts_with(".text.hotpatch.") &&
         !N.starts_with(".text.startup");
}

/// How many of the function sections of `In` the rebuilt object still has,
/// and how many `In` had.
static std::pair<unsigned, unsigned> sharedFunctions(const Rebuilt &R, const InputFile &In) {
  std::set<std::pair<std::string, std::string>> Now;
  for (const InputSection &S : R.Hashed.Sections)
    if (isFunctionSection(S))
      Now.insert({S.Name, S.Group});
  unsigned Kept = 0, Before = 0;
  for (const InputSection &S : In.Sections)
    if (isFunctionSection(S)) {
      ++Before;
      Kept += Now.count({S.Name, S.Group});
    }
  return {Kept, Before};
}

/// A rebuilt object that the program took from a static archive: the member
/// it was archived as. A thin archive names the member by its path; a
/// regular one by its file name, and when several members of the link have
/// that name, the one that shares most functions with the object wins, or
/// the link is refused naming them.
Expected<const InputFile *> archiveMemberFor(PatchContext &C, const Rebuilt &R) {
  std::vector<const InputFile *> ByName;
  auto Keep = [&](uint32_t I) { return &C.BaseInputRecords.emplace_back(C.Base->input(I, true)); };
  for (uint32_t I = 0; I < C.Base->numInputs(); ++I) {
    InputFile In = C.Base->input(I, /*WithSections=*/false);
    if (In.Member.empty())
      continue;
    if (StringRef(In.Member).contains('/')) {
      SmallString<256> Dir(sys::path::parent_path(In.Path));
      if (absolutePath(In.Member, Dir) == R.Abs)
        return Keep(I); // thin archive: the member is the file
      continue;
    }
    if (sys::path::filename(In.Member) == sys::path::filename(R.Abs))
      ByName.push_back(Keep(I));
  }
  if (ByName.empty())
    return fail("'" + R.Path + "' was not part of the link of '" + C.Opts.Base +
                "' (neither as an object nor as an archive member); a patch "
                "can only replace objects the program was linked from: rebuild "
                "the program and restart it");
  if (ByName.size() == 1)
    return ByName.front();
  std::vector<unsigned> Shared;
  for (const InputFile *In : ByName)
    Shared.push_back(sharedFunctions(R, *In).first);
  unsigned Best = std::max_element(Shared.begin(), Shared.end()) - Shared.begin();
  if (Shared[Best] > 0 && llvm::count(Shared, Shared[Best]) == 1)
    return ByName[Best];
  std::string Names;
  for (const InputFile *In : ByName)
    Names += " '" + In->Path + "(" + In->Member + ")'";
  return fail("'" + R.Path + "' could be any of the archive members" + Names +
              " of the link of '" + C.Opts.Base + "'; give the members different "
              "file names, or rebuild the program and restart it");
}

/// An object at the path of one the program was linked from, but compiled
/// from other code (another program's object, a file renamed over it) would
/// otherwise look like "every function removed, others added": say so.
Error checkIsRebuildOf(PatchContext &C, const Rebuilt &R) {
  auto [Kept, Before] = sharedFunctions(R, *R.BaseInput);
  bool HasFunctions = llvm::any_of(R.Hashed.Sections, isFunctionSection);
  if (Before == 0 || !HasFunctions)
    return Error::success();
  // From the same source file: only an object that keeps no function of
  // several is another one. From a source file the program was not built
  // from: keeping less than half of them is enough to say so.
  bool KnownSource = C.Base->hasFile(R.SourceFile);
  if (KnownSource ? (Kept > 0 || Before < 2) : Kept * 2 >= Before)
    return Error::success();
  return fail("'" + R.Path + "' is not a rebuild of the object the program was "
              "linked from: it keeps " +
              (Kept ? Twine(Kept) + " of" : Twine("none of")) + " that object's " +
              Twine(Before) + " functions" +
              (KnownSource ? "" : " and was compiled from '" + R.SourceFile +
                                      "', a source file the program was not "
                                      "built from") +
              "; check the object path (another program's object?), or rebuild "
              "the program and restart it");
}

} // namespace patchlink
} // namespace hotpatch
