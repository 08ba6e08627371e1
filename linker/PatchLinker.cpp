//===- PatchLinker.cpp - thin links: build a patch against a running base -===//
//
// A thin link turns rebuilt objects into a patch that contains only what
// changed, and whose every reference to anything else resolves to where that
// thing lives in the running base. Passes, in order:
//
//   1. Load the base's HotpatchModuleCache and the chain state of the
//      patches already made for it (<base>.hpchain).
//   2. Compare each rebuilt object with the input the base was linked from,
//      section by section (normalised hashes, CacheBuilder.cpp), against the
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
// hotpatch/patch_format.h).
//
//===----------------------------------------------------------------------===//
#include "PatchLinker.h"

#include "BuildId.h"
#include "CacheBuilder.h"
#include "ChainState.h"
#include "LinkDriver.h"
#include "ModuleCache.h"

#include "hotpatch/object_records.h"
#include "hotpatch/patch_format.h"
#include "hotpatch/slot_table.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELF.h"
#include "llvm/Support/Chrono.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <chrono>
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

constexpr uint64_t Bias = HOTPATCH_PATCH_BIAS;


Error fail(const Twine &Msg) {
  return createStringError(inconvertibleErrorCode(), Msg);
}

enum class Fate { Ghost, Include, Discard };

struct SectionPlan {
  Fate F = Fate::Include;
  uint64_t Address = 0; // ghosts: link address
  bool Changed = false; // differs from the current state
  bool New = false;     // not in the current state at all
};

/// One rebuilt object and the decisions about its sections.
/// A symbol of a rebuilt object, read once.
struct ObjSymbol {
  StringRef Name; // into the object's buffer
  unsigned Section;
  uint64_t Value;
  uint8_t Type, Binding;
};

struct Rebuilt {
  std::string Path;       // as given
  std::string Abs;        // absolute
  std::string SourceFile; // its STT_FILE
  std::unique_ptr<MemoryBuffer> Buffer;
  InputFile Hashed;       // hashes of its sections
  const InputFile *BaseInput = nullptr;
  std::map<unsigned, SectionPlan> Plans; // by section index
  std::string PatchedPath;               // the rewritten copy
  std::vector<ObjSymbol> Symbols;        // named symbols (no section/file ones)
  std::map<unsigned, std::vector<const ObjSymbol *>> BySection; // defined ones
};

bool isCode(const InputSection &S) { return S.Flags & ELF::SHF_EXECINSTR; }
bool isWritable(const InputSection &S) { return S.Flags & ELF::SHF_WRITE; }

/// The function a code section holds, if it is one of the plugin's bodies or
/// a plain function section.
std::string functionOf(StringRef Section) {
  if (!Section.consume_front(".text."))
    return "";
  return Section.str();
}

class PatchBuilder {
public:
  explicit PatchBuilder(const PatchOptions &Opts) : Opts(Opts) {}

  PatchResult run();

private:
  Error loadBase();
  Error loadObjects();
  void indexBaseSymbols();
  Error checkIsRebuildOf(const Rebuilt &R);
  Error checkBuiltAlike(const Rebuilt &R);
  Expected<const InputFile *> archiveMemberFor(const Rebuilt &R);
  Error plan(Rebuilt &R);
  static std::string describeData(const Rebuilt &R, const InputSection &S);
  Error propagate(Rebuilt &R);
  std::optional<uint64_t> baseAddressOf(Rebuilt &R, unsigned Index);
  Error rewrite(Rebuilt &R);
  Error writeBaseSymbols(StringRef Path);
  Error writeScript(StringRef Path, StringRef BaseSymbols);
  Error link(StringRef Script, StringRef BaseSymbols, StringRef Output);
  Error writePatch(StringRef Image);
  void note(const Twine &Msg) { Notes.push_back(Msg.str()); }

  const PatchOptions &Opts;
  std::string BasePath;
  ModuleCache Base;
  ChainState Chain;
  std::vector<Rebuilt> Objects;
  std::string WorkDir;
  uint64_t PatchBase = 0;
  // Base symbol lookups.
  StringMap<const Symbol *> BaseGlobals;
  /// Locals by name, each with its file: names are mostly unique, so this
  /// costs one hash lookup and a short scan.
  StringMap<SmallVector<const Symbol *, 1>> BaseLocals;
  const Symbol *baseLocal(StringRef File, StringRef Name) const {
    auto It = BaseLocals.find(Name);
    if (It == BaseLocals.end())
      return nullptr;
    for (const Symbol *S : It->second)
      if (Base.Files[S->File] == File)
        return S;
    return nullptr;
  }
  /// The base's definition of a symbol an object names. A local is found in
  /// its own file. A global or weak one is a global of the base, or, when
  /// its visibility is hidden or protected, a local of the base: the linker
  /// makes those local in an executable. Among such locals the one of the
  /// object's own file wins, then the only one that was not a `static`
  /// (locals keep STV_DEFAULT). Never guesses between two.
  const Symbol *baseDefinition(StringRef File, StringRef Name, bool Local) const {
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
      if (Base.Files[S->File] == File)
        return S;
      Hidden = S;
      ++HiddenCount;
    }
    return HiddenCount == 1 ? Hidden : nullptr;
  }
  StringMap<std::string> BaseLayouts;
  DenseMap<uint64_t, const SlotRecord *> BaseSlotsByAddress;
  std::vector<std::string> Notes;
  std::vector<std::string> Changed, Added, NotHot;
  std::vector<hotpatch_patch_update> Updates;
  std::string Strings;
  size_t InitCount = 0;
  bool NothingToPatch = false;
  struct TlsItem {
    uint64_t Offset, Size; // in the base's TLS block
    std::string File, Section;
  };
  std::vector<TlsItem> TlsItems; // base thread-locals the patch references
};

Error PatchBuilder::loadBase() {
  BasePath = absolutePath(Opts.Base);
  StringSet<> RebuiltPaths;
  for (const std::string &O : Opts.Objects) {
    RebuiltPaths.insert(absolutePath(O));
    RebuiltPaths.insert(memberKey(O)); // it may have been archived
  }
  auto C = readModuleCache(cachePathFor(BasePath), &RebuiltPaths);
  if (!C)
    return C.takeError();
  Base = std::move(*C);
  if (Base.Image.Kind != ImageKind::PieExecutable)
    return fail("'" + Opts.Base + "' is not a position-independent executable; "
                "patches are supported for PIE executables (link with -pie, "
                "clang's default on Debian)");
  if (Base.Image.BuildId.empty())
    return fail("'" + Opts.Base + "' has no build-id; relink it with thinlink");
  // The cache beside the program must describe this very program: a
  // program relinked by another linker keeps the old cache beside it.
  auto Id = readImageBuildId(BasePath);
  if (!Id)
    return Id.takeError();
  if (*Id != Base.Image.BuildId)
    return fail("'" + Opts.Base + "' is build " +
                (Id->empty() ? std::string("<none>") : toHex(*Id, true)) +
                " but its module cache describes build " +
                toHex(Base.Image.BuildId, true) +
                ": the program was relinked without thinlink after the cache "
                "was written; relink it with thinlink (-fuse-ld=lld "
                "--ld-path=thinlink) and restart it");
  for (const auto &[Type, Layout] : Base.Layouts)
    BaseLayouts[Type] = Layout;
  for (const SlotRecord &S : Base.Slots)
    BaseSlotsByAddress[S.SlotAddress] = &S;
  auto St = ChainState::load(BasePath, toHex(Base.Image.BuildId, true));
  if (!St)
    return St.takeError();
  Chain = std::move(*St);
  if (Chain.Count + 1 > HOTPATCH_PATCH_MAX_CHAIN)
    return fail("this base already has " + Twine(Chain.Count) +
                " patches, the most one chain can hold; restart the program "
                "(rebuild and relink it) to start a new chain");
  PatchBase = Bias - HOTPATCH_PATCH_GAP -
              uint64_t(Chain.Count + 1) * HOTPATCH_PATCH_BAND;
  return Error::success();
}

/// Indexes the base's symbols that the rebuilt objects name, and only those:
/// a program has tens of thousands, an edit touches a few hundred.
void PatchBuilder::indexBaseSymbols() {
  StringSet<> Wanted;
  for (Rebuilt &R : Objects)
    for (const ObjSymbol &S : R.Symbols)
      Wanted.insert(S.Name);
  for (const Symbol &S : Base.Symbols) {
    if (S.Section.empty() || !Wanted.contains(S.Name))
      continue; // undefined or absolute: not the base's; or not referenced
    if (S.Binding == SymbolBinding::Local) {
      if (S.File < Base.Files.size())
        BaseLocals[S.Name].push_back(&S);
    } else {
      BaseGlobals[S.Name] = &S;
    }
  }
}

Error PatchBuilder::loadObjects() {
  StringMap<const InputFile *> Inputs;
  for (const InputFile &In : Base.Inputs)
    if (In.Member.empty())
      Inputs[In.Path] = &In;
  for (const std::string &P : Opts.Objects) {
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
    if (auto It = Inputs.find(R.Abs); It != Inputs.end()) {
      R.BaseInput = It->second;
    } else {
      auto Member = archiveMemberFor(R);
      if (!Member)
        return Member.takeError();
      R.BaseInput = *Member;
    }
    // A type whose layout changed breaks every existing function and every
    // existing object of it: refuse, naming the type and what changed.
    for (auto &[Type, Layout] : R.Hashed.Layouts)
      if (auto BL = BaseLayouts.find(Type); BL != BaseLayouts.end() && BL->second != Layout)
          return fail("'" + P + "' changes the layout of " + Type + ": " +
                      describeLayoutChange(BL->second, Layout) +
                      "; code and objects in the running program use the old "
                      "layout: rebuild the program and restart it");
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
    if (Error E = checkBuiltAlike(R))
      return E;
    if (Error E = checkIsRebuildOf(R))
      return E;
    // The vector is complete: pointers into it stay valid.
    for (const ObjSymbol &S : R.Symbols)
      if (S.Section != ELF::SHN_UNDEF)
        R.BySection[S.Section].push_back(&S);
    Objects.push_back(std::move(R));
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
Error PatchBuilder::checkBuiltAlike(const Rebuilt &R) {
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
static unsigned sharedFunctions(const Rebuilt &R, const InputFile &In) {
  std::set<std::pair<std::string, std::string>> Now;
  for (const InputSection &S : R.Hashed.Sections)
    if (isCode(S) && S.Size && S.Name != ".text")
      Now.insert({S.Name, S.Group});
  unsigned N = 0;
  for (const InputSection &S : In.Sections)
    N += isCode(S) && S.Size && S.Name != ".text" && Now.count({S.Name, S.Group});
  return N;
}

/// A rebuilt object that the program took from a static archive: the member
/// it was archived as. A thin archive names the member by its path; a
/// regular one by its file name, and when several members of the link have
/// that name, the one that shares most functions with the object wins, or
/// the link is refused naming them.
Expected<const InputFile *> PatchBuilder::archiveMemberFor(const Rebuilt &R) {
  std::vector<const InputFile *> ByName;
  for (const InputFile &In : Base.Inputs) {
    if (In.Member.empty())
      continue;
    if (StringRef(In.Member).contains('/')) {
      SmallString<256> Dir(sys::path::parent_path(In.Path));
      if (absolutePath(In.Member, Dir) == R.Abs)
        return &In; // thin archive: the member is the file
      continue;
    }
    if (sys::path::filename(In.Member) == sys::path::filename(R.Abs))
      ByName.push_back(&In);
  }
  if (ByName.empty())
    return fail("'" + R.Path + "' was not part of the link of '" + Opts.Base +
                "' (neither as an object nor as an archive member); a patch "
                "can only replace objects the program was linked from: rebuild "
                "the program and restart it");
  if (ByName.size() == 1)
    return ByName.front();
  std::vector<unsigned> Shared;
  for (const InputFile *In : ByName)
    Shared.push_back(sharedFunctions(R, *In));
  unsigned Best = std::max_element(Shared.begin(), Shared.end()) - Shared.begin();
  if (Shared[Best] > 0 && llvm::count(Shared, Shared[Best]) == 1)
    return ByName[Best];
  std::string Names;
  for (const InputFile *In : ByName)
    Names += " '" + In->Path + "(" + In->Member + ")'";
  return fail("'" + R.Path + "' could be any of the archive members" + Names +
              " of the link of '" + Opts.Base + "'; give the members different "
              "file names, or rebuild the program and restart it");
}

/// An object at the path of one the program was linked from, but compiled
/// from other code (another program's object, a file renamed over it) would
/// otherwise look like "every function removed, others added": say so.
Error PatchBuilder::checkIsRebuildOf(const Rebuilt &R) {
  auto Named = [](const InputSection &S) {
    StringRef N = S.Name;
    return isCode(S) && S.Size && N != ".text" && N != ".init" && N != ".fini" &&
           N != HOTPATCH_THUNK_SECTION && !N.starts_with(".text.hotpatch.") &&
           !N.starts_with(".text.startup");
  };
  std::set<std::pair<std::string, std::string>> Now;
  for (const InputSection &S : R.Hashed.Sections)
    if (Named(S))
      Now.insert({S.Name, S.Group});
  unsigned Before = 0, Kept = 0;
  for (const InputSection &S : R.BaseInput->Sections)
    if (Named(S)) {
      ++Before;
      Kept += Now.count({S.Name, S.Group});
    }
  if (Before == 0 || Now.empty())
    return Error::success();
  // From the same source file: only an object that keeps no function of
  // several is another one. From a source file the program was not built
  // from: keeping less than half of them is enough to say so.
  bool KnownSource = llvm::is_contained(Base.Files, R.SourceFile);
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

/// "the variable 'x' (section .data.x)", or the section alone.
std::string PatchBuilder::describeData(const Rebuilt &R, const InputSection &S) {
  auto It = R.BySection.find(S.Index);
  if (It != R.BySection.end())
    for (const ObjSymbol *Sym : It->second)
      if (!Sym->Name.starts_with(".L"))
        return ("the variable '" + Sym->Name + "' (section " + S.Name + ")").str();
  return "section '" + S.Name + "'";
}

/// Where a section of a rebuilt object lives now: found through a symbol it
/// defines, in the chain state or in the base.
std::optional<uint64_t> PatchBuilder::baseAddressOf(Rebuilt &R, unsigned Index) {
  auto It = R.BySection.find(Index);
  if (It == R.BySection.end())
    return std::nullopt;
  for (const ObjSymbol *Sym : It->second) {
    // Numbered labels name different things in two builds: an exception
    // table found through GCC_except_table<N> could be another function's.
    if (Sym->Name.starts_with(".L") || Sym->Name.starts_with("GCC_except_table"))
      continue;
    const Symbol *B =
        baseDefinition(R.SourceFile, Sym->Name, Sym->Binding == ELF::STB_LOCAL);
    if (!B)
      continue;
    uint64_t Addr = B->Address;
    if (B->Kind == SymbolKind::Tls)
      Addr += Base.Image.Tls.VAddr;
    return Addr + Bias - Sym->Value;
  }
  return std::nullopt;
}

Error PatchBuilder::plan(Rebuilt &R) {
  std::map<std::pair<std::string, std::string>, const InputSection *> BaseSecs;
  for (const InputSection &S : R.BaseInput->Sections)
    BaseSecs[{S.Name, S.Group}] = &S;
  for (const InputSection &S : R.Hashed.Sections) {
    SectionPlan P;
    if (!(S.Flags & ELF::SHF_ALLOC)) {
      continue; // debug info and notes: left to lld (-S strips debug)
    }
    StringRef Name = S.Name;
    if (Name.starts_with(".init_array") || Name.starts_with(".fini_array") ||
        Name.starts_with(".ctors") || Name.starts_with(".dtors")) {
      P.F = Fate::Discard;
      R.Plans[S.Index] = P;
      continue;
    }
    if (S.Size == 0) {
      R.Plans[S.Index] = P; // nothing to place: .text, .data, .bss of -ffunction-sections objects
      continue;
    }
    std::string Key = chainSectionKey(R.Abs, S.Name, S.Group);
    auto Placed = Chain.Sections.find(Key);
    auto BaseIt = BaseSecs.find({S.Name, S.Group});
    uint64_t CurrentHash = 0, CurrentSize = 0;
    bool Exists = true;
    if (Placed != Chain.Sections.end()) {
      CurrentHash = Placed->second.Hash;
      CurrentSize = Placed->second.Size;
    } else if (BaseIt != BaseSecs.end()) {
      CurrentHash = BaseIt->second->Hash;
      CurrentSize = BaseIt->second->Size;
    } else {
      Exists = false;
    }
    P.New = !Exists;
    P.Changed = !Exists || CurrentHash != S.Hash;
    bool Merge = S.Flags & ELF::SHF_MERGE;
    bool Tls = S.Flags & ELF::SHF_TLS;
    bool EhFrame = S.Type == ELF::SHT_X86_64_UNWIND || Name == ".eh_frame";

    if (EhFrame || Merge) {
      P.F = Fate::Include; // rewritten FDEs; literals are the patch's own
    } else if (!Exists) {
      if (Tls)
        return fail("'" + R.Path + "' adds the thread-local variable in '" +
                    S.Name + "'; a patch cannot add thread_local variables "
                    "(threads already running have no storage for them): "
                    "rebuild the program and restart it");
      P.F = Fate::Include;
    } else if (isCode(S) && P.Changed) {
      P.F = Fate::Include;
    } else {
      // Unchanged, or existing data: the running copy wins.
      std::optional<uint64_t> Addr = Placed != Chain.Sections.end()
                                         ? std::optional<uint64_t>(Placed->second.Address)
                                         : baseAddressOf(R, S.Index);
      if (!Addr) {
        if (Tls)
          return fail("cannot find where section '" + S.Name + "' of '" +
                      R.Path + "' lives in the running program (no symbol "
                      "of it is in the base); rebuild and restart the program");
        // No symbol names it, so no source code names it either: jump
        // tables, LSDAs, the pointer cells exception tables use. Program
        // state always has a name; these are as good copied.
        P.F = Fate::Include;
      } else {
        P.F = Fate::Ghost;
        P.Address = *Addr;
        if (P.Changed && !isCode(S)) {
          bool State = isWritable(S) || Tls;
          if (S.Name == HOTPATCH_TABLE_SECTION)
            ; // the plugin's table grows with new functions: not user data
          else if (!State)
            // Constants (literals, exception tables, jump tables, const
            // arrays) cannot hold state: the patch has its own copy, of any
            // size, and whatever refers to them comes along (propagate()).
            P.F = Fate::Include;
          else if (S.Size != CurrentSize)
            return fail(describeData(R, S) + " in '" + R.Path + "' changed size (" +
                        Twine(CurrentSize) + " to " + Twine(S.Size) +
                        " bytes); it holds state of the running program "
                        "(a global or static variable), and a patch cannot "
                        "resize it: rebuild the program and restart it");
          else
            note("initial value of '" + S.Name + "' in " + R.SourceFile +
                 " changed; the running program keeps its current value");
        }
      }
    }
    R.Plans[S.Index] = P;
  }
  return Error::success();
}

/// A section that refers to changed constant data must use the new copy:
/// code that did not change but reads a changed table, string or exception
/// table is part of the patch, and so is constant data pointing at it, up
/// to a fixed point. State (writable data) keeps pointing where it did.
Error PatchBuilder::propagate(Rebuilt &R) {
  auto Obj = ELFFile<ELFT>::create(R.Buffer->getBuffer());
  if (!Obj)
    return Obj.takeError();
  auto Secs = Obj->sections();
  if (!Secs)
    return Secs.takeError();
  ArrayRef<Elf_Sym> Syms;
  for (const Elf_Shdr &S : *Secs)
    if (S.sh_type == ELF::SHT_SYMTAB) {
      auto SymsOrErr = Obj->symbols(&S);
      if (!SymsOrErr)
        return SymsOrErr.takeError();
      Syms = *SymsOrErr;
    }
  // Which sections each section refers to.
  std::map<unsigned, std::set<unsigned>> RefersTo;
  for (const Elf_Shdr &Rel : *Secs) {
    if (Rel.sh_type != ELF::SHT_RELA || Rel.sh_info >= Secs->size())
      continue;
    auto Relas = Obj->relas(Rel);
    if (!Relas)
      return Relas.takeError();
    for (const Elf_Rela &RA : *Relas) {
      uint32_t SI = RA.getSymbol(false);
      if (SI == 0 || SI >= Syms.size())
        continue;
      unsigned T = Syms[SI].st_shndx;
      if (T != ELF::SHN_UNDEF && T < Secs->size() && T != Rel.sh_info)
        RefersTo[Rel.sh_info].insert(T);
    }
  }
  std::map<unsigned, const InputSection *> ByIndex;
  for (const InputSection &S : R.Hashed.Sections)
    ByIndex[S.Index] = &S;
  auto ChangedConstant = [&](unsigned I) {
    auto P = R.Plans.find(I);
    auto S = ByIndex.find(I);
    return P != R.Plans.end() && S != ByIndex.end() && P->second.F == Fate::Include &&
           P->second.Changed && !isCode(*S->second) && !isWritable(*S->second) &&
           !(S->second->Flags & (ELF::SHF_TLS | ELF::SHF_MERGE)) &&
           S->second->Name != ".eh_frame";
    // Mergeable literals are always the patch's own and compared by content
    // in the hashes of what refers to them (CacheBuilder.cpp).
  };
  for (bool Again = true; Again;) {
    Again = false;
    for (auto &[Index, P] : R.Plans) {
      if (P.F != Fate::Ghost)
        continue;
      auto S = ByIndex.find(Index);
      if (S == ByIndex.end() || isWritable(*S->second) || (S->second->Flags & ELF::SHF_TLS))
        continue;
      auto Refs = RefersTo.find(Index);
      if (Refs == RefersTo.end() || llvm::none_of(Refs->second, ChangedConstant))
        continue;
      P.F = Fate::Include;
      P.Changed = true;
      Again = true;
    }
  }
  return Error::success();
}

/// Ghost sections keep their bytes out of the patch and their relocations
/// out of the link; FDEs describing ghost code go with them.
Error PatchBuilder::rewrite(Rebuilt &R) {
  std::unique_ptr<WritableMemoryBuffer> Copy =
      WritableMemoryBuffer::getNewUninitMemBuffer(R.Buffer->getBufferSize());
  memcpy(Copy->getBufferStart(), R.Buffer->getBufferStart(),
         R.Buffer->getBufferSize());
  auto Obj = ELFFile<ELFT>::create(
      StringRef(Copy->getBufferStart(), Copy->getBufferSize()));
  if (!Obj)
    return Obj.takeError();
  auto SecsOrErr = Obj->sections();
  if (!SecsOrErr)
    return SecsOrErr.takeError();
  ArrayRef<Elf_Shdr> Secs = *SecsOrErr;
  // Section headers live in the copy: edit them through a mutable pointer.
  auto *Shdrs = reinterpret_cast<Elf_Shdr *>(
      Copy->getBufferStart() + Obj->getHeader().e_shoff);

  auto IsGhost = [&](unsigned Index) {
    auto It = R.Plans.find(Index);
    return It != R.Plans.end() && It->second.F == Fate::Ghost;
  };
  ArrayRef<Elf_Sym> Syms;
  for (const Elf_Shdr &S : Secs)
    if (S.sh_type == ELF::SHT_SYMTAB)
      Syms = Obj->symbols(&S).get();

  for (size_t I = 0; I < Secs.size(); ++I) {
    const Elf_Shdr &S = Secs[I];
    if (S.sh_type != ELF::SHT_RELA || S.sh_info >= Secs.size())
      continue;
    unsigned Target = S.sh_info;
    if (IsGhost(Target) ||
        (R.Plans.count(Target) && R.Plans[Target].F == Fate::Discard)) {
      Shdrs[I].sh_size = 0;
      continue;
    }
    StringRef TargetName = Obj->getSectionName(Secs[Target]).get();
    if (TargetName != ".eh_frame")
      continue;
    // Drop every relocation of an FDE whose pc_begin is ghost code: lld
    // ignores FDEs without relocations. CIE relocations (personality) stay.
    ArrayRef<uint8_t> Eh = Obj->getSectionContents(Secs[Target]).get();
    auto *Relas = reinterpret_cast<Elf_Rela *>(Copy->getBufferStart() + S.sh_offset);
    size_t N = S.sh_size / sizeof(Elf_Rela);
    std::vector<std::pair<uint64_t, uint64_t>> DeadFdes;
    for (uint64_t Off = 0; Off + 8 <= Eh.size();) {
      uint32_t Len = support::endian::read32le(Eh.data() + Off);
      if (Len == 0 || Len == 0xffffffff)
        break;
      uint32_t Id = support::endian::read32le(Eh.data() + Off + 4);
      uint64_t End = Off + 4 + Len;
      if (Id != 0) {
        for (size_t K = 0; K < N; ++K)
          if (Relas[K].r_offset == Off + 8) {
            const Elf_Sym &Sym = Syms[Relas[K].getSymbol(false)];
            if (IsGhost(Sym.st_shndx))
              DeadFdes.push_back({Off, End});
            break;
          }
      }
      Off = End;
    }
    size_t Kept = 0;
    for (size_t K = 0; K < N; ++K) {
      bool Dead = false;
      for (auto [B, E] : DeadFdes)
        Dead |= Relas[K].r_offset >= B && Relas[K].r_offset < E;
      if (!Dead)
        Relas[Kept++] = Relas[K];
    }
    Shdrs[I].sh_size = Kept * sizeof(Elf_Rela);
  }
  // Ghosts get unique names (".hpghost.<object>.<index>"): a linker script
  // selects input sections by name, and an object may hold several sections
  // of one name (one per COMDAT group). The new names go in a section-name
  // table appended to the file; the section headers stay where they are.
  unsigned ObjIndex = &R - Objects.data();
  const Elf_Shdr &OldNames = Secs[Obj->getHeader().e_shstrndx];
  ArrayRef<uint8_t> OldStrs = Obj->getSectionContents(OldNames).get();
  std::string Names(reinterpret_cast<const char *>(OldStrs.data()), OldStrs.size());
  for (auto &[Index, P] : R.Plans) {
    if (P.F != Fate::Ghost)
      continue;
    Shdrs[Index].sh_name = Names.size();
    Names += (".hpghost." + Twine(ObjIndex) + "." + Twine(Index)).str();
    Names.push_back('\0');
  }
  Shdrs[Obj->getHeader().e_shstrndx].sh_offset = Copy->getBufferSize();
  Shdrs[Obj->getHeader().e_shstrndx].sh_size = Names.size();

  R.PatchedPath = (WorkDir + "/" + Twine(ObjIndex) + "-" +
                   sys::path::filename(R.Path))
                      .str();
  return writeFileAtomically(R.PatchedPath, [&](raw_ostream &OS) {
    OS.write(Copy->getBufferStart(), Copy->getBufferSize());
    OS << Names;
  });
}

/// An ELF relocatable object with one NOBITS section per base output section
/// that holds a referenced symbol, defining each symbol at its offset: real,
/// typed, section-relative definitions (absolute symbols would not move with
/// the base's ASLR slide, and untyped ones break TLS relocations).
Error PatchBuilder::writeBaseSymbols(StringRef Path) {
  std::set<std::string> DefinedByObjects, Wanted;
  std::map<std::string, std::string> UndefinedFile; // the file naming it
  for (Rebuilt &R : Objects)
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
    auto G = Chain.Globals.find(N);
    if (G != Chain.Globals.end()) {
      Defs.push_back({N, G->second, 0, ELF::STT_NOTYPE, false});
      continue;
    }
    // Hidden symbols (__dso_handle, -fvisibility=hidden code) are local in
    // the base's symbol table: baseDefinition finds them there.
    const Symbol *Found = baseDefinition(UndefinedFile[N], N, false);
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
  Sh[1].sh_size = Base.Image.End - Base.Image.Begin;
  Sh[1].sh_addralign = 1;
  Sh[2].sh_name = AddName(".hpbase.tlsalign");
  Sh[2].sh_type = ELF::SHT_NOBITS;
  Sh[2].sh_flags = ELF::SHF_ALLOC | ELF::SHF_WRITE | ELF::SHF_TLS;
  Sh[2].sh_addralign =
      Base.Image.HasTls ? std::max<uint64_t>(Base.Image.Tls.Align, 1) : 1;
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
      T.sh_name = AddName(".hpbase.tls." + std::to_string(TlsItems.size()));
      T.sh_type = ELF::SHT_NOBITS;
      T.sh_flags = ELF::SHF_ALLOC | ELF::SHF_WRITE | ELF::SHF_TLS;
      T.sh_size = D.Size;
      T.sh_addralign = 1;
      TlsItems.push_back({D.Address, D.Size, Path.str(),
                          ".hpbase.tls." + std::to_string(TlsItems.size())});
      S.st_shndx = Sh.size();
      S.st_value = 0;
      Sh.push_back(T);
    } else {
      S.st_shndx = 1;
      S.st_value = D.Address - (Bias + Base.Image.Begin);
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

Error PatchBuilder::writeScript(StringRef Path, StringRef BaseSymbols) {
  std::string S;
  raw_string_ostream OS(S);
  OS << "/* Patch " << Chain.Count + 1 << " of " << BasePath << " */\n";
  OS << "PHDRS {\n  text PT_LOAD FLAGS(5);\n  rodata PT_LOAD FLAGS(4);\n"
        "  data PT_LOAD FLAGS(6);\n  dynamic PT_DYNAMIC FLAGS(6);\n";
  if (Base.Image.HasTls)
    OS << "  tls PT_TLS FLAGS(4);\n";
  OS << "}\nSECTIONS {\n";
  std::string Patch;
  raw_string_ostream PS(Patch);
  // The patch itself, in this chain position's band.
  PS << format("  .text 0x%llx : { *(.text .text.* hotpatch_thunks) } :text\n",
               (unsigned long long)PatchBase);
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
  for (Rebuilt &R : Objects) {
    auto Obj = ELFFile<ELFT>::create(R.Buffer->getBuffer());
    auto Secs = Obj->sections().get();
    unsigned ObjIndex = &R - Objects.data();
    for (auto &[Index, P] : R.Plans) {
      if (P.F != Fate::Ghost)
        continue;
      if (Secs[Index].sh_flags & ELF::SHF_TLS)
        continue;
      GS << format("  .hpghost.%u 0x%llx (NOLOAD) : { \"%s\"(.hpghost.%u.%u) } :NONE\n",
                   N++, (unsigned long long)P.Address, R.PatchedPath.c_str(),
                   ObjIndex, Index);
    }
  }
  GS << format("  .hpbase 0x%llx (NOLOAD) : { \"%s\"(.hpbase) } :NONE\n",
               (unsigned long long)(Bias + Base.Image.Begin), BaseSymbols.str().c_str());
  if (Base.Image.HasTls) {
    // The base's PT_TLS, recreated at the same place with the same size and
    // alignment, each thread-local the patch uses at its offset, so that lld
    // computes the same %fs offsets as the base did.
    std::vector<TlsItem> Items = TlsItems;
    for (Rebuilt &R : Objects) {
      unsigned ObjIndex = &R - Objects.data();
      for (const InputSection &S : R.Hashed.Sections) {
        auto It = R.Plans.find(S.Index);
        if (It == R.Plans.end() || It->second.F != Fate::Ghost ||
            !(S.Flags & ELF::SHF_TLS))
          continue;
        Items.push_back({It->second.Address - Bias - Base.Image.Tls.VAddr, S.Size,
                         R.PatchedPath,
                         (".hpghost." + Twine(ObjIndex) + "." + Twine(S.Index)).str()});
      }
    }
    llvm::sort(Items, [](const TlsItem &A, const TlsItem &B) { return A.Offset < B.Offset; });
    GS << format("  . = 0x%llx;\n", (unsigned long long)(Bias + Base.Image.Tls.VAddr));
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
    if (Base.Image.Tls.MemSize > At)
      GS << format("    . = . + 0x%llx;\n", (unsigned long long)(Base.Image.Tls.MemSize - At));
    GS << "  } :tls\n";
  }
  GS << "  /DISCARD/ : { *(.init_array .init_array.* .fini_array .fini_array.* "
        ".ctors .ctors.* .dtors .dtors.* .note.GNU-stack .comment .llvm_addrsig) }\n";
  OS << Ghosts << Patch << "}\n";
  return writeFileAtomically(Path, [&](raw_ostream &F) { F << S; });
}

Error PatchBuilder::link(StringRef Script, StringRef BaseSymbols,
                         StringRef Output) {
  std::vector<std::string> Args = {
      "ld.lld", "-pie", "--no-dynamic-linker", "-e", "0", "-z", "now",
      "-z", "norelro", "--no-rosegment", "--hash-style=sysv", "-S",
      "--no-undefined-version", "--unresolved-symbols=ignore-all",
      "--export-dynamic", "--no-check-sections", "-T", Script.str(), "-o", Output.str(),
      BaseSymbols.str()};
  for (Rebuilt &R : Objects)
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
                (Opts.KeepTemps ? "(work files kept in " + WorkDir + ")"
                                : "(run with --keep-temps to keep the work "
                                  "files)"));
  return Error::success();
}

Error PatchBuilder::writePatch(StringRef Image) {
  auto Buf = MemoryBuffer::getFile(Image, false, false);
  if (!Buf)
    return fail("cannot read the linked patch: " + Buf.getError().message());
  // Where did the new bodies go? The patch's own symbol table says, with
  // ghost symbols at their running addresses.
  auto Linked = buildModuleCache(Image, {}, {}, WorkDir);
  if (!Linked)
    return Linked.takeError();
  // Hidden symbols become local in the output, and lld lists those apart
  // from their file's locals: look a name up as a global, then as a local
  // of its file, then as a local whose name is unique.
  std::map<std::pair<std::string, std::string>, uint64_t> Locals;
  StringMap<uint64_t> Globals;
  StringMap<std::vector<uint64_t>> LocalsByName;
  for (const Symbol &S : Linked->Symbols) {
    if (S.Section.empty())
      continue;
    if (S.Binding == SymbolBinding::Local) {
      Locals[{S.File < Linked->Files.size() ? Linked->Files[S.File] : "", S.Name}] =
          S.Address;
      LocalsByName[S.Name].push_back(S.Address);
    } else {
      Globals[S.Name] = S.Address;
    }
  }
  auto Lookup = [&](const std::string &File,
                    const std::string &Sym) -> std::optional<uint64_t> {
    auto G = Globals.find(Sym);
    if (G != Globals.end())
      return G->second;
    auto L = Locals.find({File, Sym});
    if (L != Locals.end())
      return L->second;
    auto U = LocalsByName.find(Sym);
    if (U != LocalsByName.end() && U->second.size() == 1)
      return U->second.front();
    return std::nullopt;
  };
  std::set<std::string> Published;
  uint64_t BandEnd = PatchBase + HOTPATCH_PATCH_BAND;
  auto InPatch = [&](uint64_t A) { return A >= PatchBase && A < BandEnd; };

  for (Rebuilt &R : Objects) {
    for (const InputSection &S : R.Hashed.Sections) {
      auto It = R.Plans.find(S.Index);
      if (It == R.Plans.end() || It->second.F != Fate::Include || !isCode(S) ||
          !It->second.Changed)
        continue;
      std::string Fn = functionOf(S.Name);
      if (Fn.empty() || StringRef(Fn).starts_with("startup"))
        continue; // static-initialiser glue, reported as new globals
      StringRef Body = Fn;
      bool Thunked = Body.consume_back(HOTPATCH_BODY_SUFFIX);
      std::string Name = Body.str();
      auto Find = [&](const std::string &Sym) { return Lookup(R.SourceFile, Sym); };
      std::optional<uint64_t> NewBody = Find(Fn);
      std::optional<uint64_t> Slot = Find(Name + HOTPATCH_SLOT_SUFFIX);
      // An inline function rebuilt in several objects: one copy is linked,
      // one update publishes it.
      if (!Published.insert(Name).second)
        continue;
      (It->second.New ? Added : Changed).push_back(Name);
      if (!NewBody)
        continue;
      if (Slot && InPatch(*Slot)) {
        if (!It->second.New)
          return fail("the patch would carry its own copy of the slot of " + Name +
                      " instead of updating the program's (the slot's definition in "
                      "the running program was not found); nothing was patched: "
                      "rebuild the program and restart it, and report this");
        continue; // a new function's own new slot already holds its body
      }
      if (!Slot && !Thunked && !It->second.New)
        NotHot.push_back(Name);
      if (!Slot && It->second.New)
        continue;
      hotpatch_patch_update U;
      memset(&U, 0, sizeof(U));
      U.slot = Slot.value_or(0);
      if (!Slot)
        U.flags |= HOTPATCH_UPDATE_NOT_HOT;
      U.new_body = *NewBody;
      U.name = Strings.size();
      Strings += Name;
      Strings.push_back('\0');
      if (Slot) {
        auto Old = BaseSlotsByAddress.find(*Slot - Bias);
        if (Old != BaseSlotsByAddress.end())
          U.old_body = Old->second->BodyAddress + Bias;
      }
      if (It->second.New)
        U.flags |= HOTPATCH_UPDATE_NEW_FUNCTION;
      Updates.push_back(U);
    }
  }

  // Initialisers of the globals this patch adds: the plugin keeps each
  // global's initialiser in a section of its own; run those that write a
  // new data section, and no other (existing globals keep their state).
  std::vector<uint64_t> Inits;
  for (Rebuilt &R : Objects) {
    auto Obj = ELFFile<ELFT>::create(R.Buffer->getBuffer());
    auto Secs = Obj->sections().get();
    ArrayRef<Elf_Sym> Syms;
    StringRef Strs;
    for (const Elf_Shdr &Sh : Secs)
      if (Sh.sh_type == ELF::SHT_SYMTAB) {
        Syms = Obj->symbols(&Sh).get();
        Strs = Obj->getStringTableForSymtab(Sh).get();
      }
    auto IsNewData = [&](unsigned Index) {
      auto It = R.Plans.find(Index);
      return It != R.Plans.end() && It->second.F == Fate::Include && It->second.New &&
             !(Secs[Index].sh_flags & ELF::SHF_EXECINSTR);
    };
    for (const Elf_Shdr &Rel : Secs) {
      if (Rel.sh_type != ELF::SHT_RELA || Rel.sh_info >= Secs.size())
        continue;
      StringRef Target = Obj->getSectionName(Secs[Rel.sh_info]).get();
      if (!Target.starts_with(".text.startup.__cxx_global_var_init"))
        continue;
      bool WritesNew = false;
      for (const Elf_Rela &RA : Obj->relas(Rel).get()) {
        const Elf_Sym &Sym = Syms[RA.getSymbol(false)];
        WritesNew |= Sym.st_shndx < Secs.size() && IsNewData(Sym.st_shndx);
      }
      if (!WritesNew)
        continue;
      std::string Fn = Target.drop_front(strlen(".text.startup.")).str();
      if (std::optional<uint64_t> A = Lookup(R.SourceFile, Fn))
        Inits.push_back(*A);
      else
        return fail("cannot find the initialiser '" + Fn + "' in the patch");
    }
  }

  // Nothing to publish and nothing to construct (a comment, a re-save, an
  // initial value the running program keeps): no patch, and the chain stays
  // where it is, or the next real patch would be out of order.
  if (Updates.empty() && Inits.empty()) {
    NothingToPatch = true;
    return Error::success();
  }

  hotpatch_patch_header H;
  memset(&H, 0, sizeof(H));
  H.init_count = Inits.size();
  InitCount = Inits.size();
  memcpy(H.magic, HOTPATCH_PATCH_MAGIC, 8);
  H.version = HOTPATCH_PATCH_VERSION;
  H.chain_index = Chain.Count + 1;
  H.build_id_size = std::min<size_t>(Base.Image.BuildId.size(), 20);
  memcpy(H.build_id, Base.Image.BuildId.data(), H.build_id_size);
  H.update_count = Updates.size();
  H.strings_size = Strings.size();
  H.image_size = (*Buf)->getBufferSize();
  std::string Payload;
  Payload.append(reinterpret_cast<const char *>(Updates.data()),
                 Updates.size() * sizeof(hotpatch_patch_update));
  Payload.append(reinterpret_cast<const char *>(Inits.data()),
                 Inits.size() * sizeof(uint64_t));
  Payload += Strings;
  Payload.append((*Buf)->getBufferStart(), (*Buf)->getBufferSize());
  H.checksum = hotpatch_patch_checksum(
      reinterpret_cast<const unsigned char *>(Payload.data()), Payload.size());

  if (Error E = writeFileAtomically(Opts.Output, [&](raw_ostream &OS) {
        OS.write(reinterpret_cast<const char *>(&H), sizeof(H));
        OS << Payload;
      }))
    return E;

  // Record what this patch placed, for the next one.
  for (Rebuilt &R : Objects) {
    for (const InputSection &S : R.Hashed.Sections) {
      auto It = R.Plans.find(S.Index);
      if (It == R.Plans.end())
        continue;
      std::string Key = chainSectionKey(R.Abs, S.Name, S.Group);
      if (It->second.F == Fate::Include && !(S.Flags & ELF::SHF_MERGE) &&
          S.Name != ".eh_frame") {
        // Find its address through a symbol it defines.
        auto Syms = R.BySection.find(S.Index);
        if (Syms != R.BySection.end())
          for (const ObjSymbol *Sym : Syms->second) {
            std::optional<uint64_t> A = Lookup(R.SourceFile, Sym->Name.str());
            if (!A)
              continue;
            if (Sym->Binding != ELF::STB_LOCAL && It->second.New)
              Chain.Globals[Sym->Name.str()] = *A;
            Chain.Sections[Key] = {S.Hash, *A - Sym->Value, S.Size};
            break;
          }
      } else if (It->second.F == Fate::Ghost && It->second.Changed &&
                 !Chain.Sections.count(Key)) {
        // Existing data whose initialiser changed: compare later patches
        // with the new text, not again with the base's.
        Chain.Sections[Key] = {S.Hash, It->second.Address, S.Size};
      }
    }
  }
  Chain.Count++;
  Chain.Patches.push_back(absolutePath(Opts.Output));
  if (Error E = Chain.save(BasePath)) {
    // A patch the chain state does not count would break the next one.
    sys::fs::remove(Opts.Output);
    return E;
  }
  return Error::success();
}

PatchResult PatchBuilder::run() {
  auto Start = std::chrono::steady_clock::now();
  PatchResult Result;
  auto Refuse = [&](Error E) {
    Result.Error = toString(std::move(E));
    return Result;
  };
  if (Error E = loadBase())
    return Refuse(std::move(E));
  if (Error E = loadObjects())
    return Refuse(std::move(E));
  indexBaseSymbols();
  for (Rebuilt &R : Objects)
    if (Error E = plan(R))
      return Refuse(std::move(E));
  for (Rebuilt &R : Objects)
    if (Error E = propagate(R))
      return Refuse(std::move(E));

  SmallString<128> Dir;
  if (std::error_code EC = sys::fs::createUniqueDirectory("thinlink-patch", Dir))
    return Refuse(fail("cannot create a work directory: " + EC.message()));
  WorkDir = std::string(Dir);
  auto Cleanup = make_scope_exit([&] {
    if (!Opts.KeepTemps)
      sys::fs::remove_directories(WorkDir);
  });
  for (Rebuilt &R : Objects)
    if (Error E = rewrite(R))
      return Refuse(std::move(E));
  std::string BaseSyms = WorkDir + "/base-symbols.o";
  std::string Script = WorkDir + "/patch.lds";
  std::string Image = WorkDir + "/patch.elf";
  if (Error E = writeBaseSymbols(BaseSyms))
    return Refuse(std::move(E));
  if (Error E = writeScript(Script, BaseSyms))
    return Refuse(std::move(E));
  if (Error E = link(Script, BaseSyms, Image))
    return Refuse(std::move(E));
  if (Error E = writePatch(Image))
    return Refuse(std::move(E));

  Result.Ok = true;
  Result.Ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                        Start)
                  .count();
  Result.Notes = Notes;
  Result.NothingToPatch = NothingToPatch;
  if (NothingToPatch)
    return Result;
  Result.ChainIndex = Chain.Count;
  sys::fs::file_size(Opts.Output, Result.PatchBytes);
  for (const hotpatch_patch_update &U : Updates)
    Result.SlotUpdates += U.slot != 0;
  for (const std::string &N : Changed)
    (isLibraryFunction(N) ? Result.Library : Result.Changed).push_back(N);
  for (const std::string &N : Added)
    (isLibraryFunction(N) ? Result.Library : Result.Added).push_back(N);
  Result.NotHot = NotHot;
  Result.NewGlobals = InitCount;
  for (Rebuilt &R : Objects)
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

static bool FastExit = false;
void setPatchLinkFastExit(bool On) { FastExit = On; }

bool isLibraryFunction(StringRef N) {
  return N.starts_with("_ZSt") || N.starts_with("_ZNSt") || N.starts_with("_ZNKSt") ||
         N.starts_with("_ZN9__gnu_cxx") || N.starts_with("_ZNK9__gnu_cxx") ||
         N.starts_with("_ZN10__cxxabiv1") || N.starts_with("__clang_") ||
         N.starts_with("__cxx_") || N.starts_with("_GLOBAL__");
}

PatchResult buildPatch(const PatchOptions &Opts) {
  auto *B = new PatchBuilder(Opts);
  PatchResult R = B->run();
  // The thinlink command exits right after: freeing the base's cache would
  // only cost time. Library callers (hotpatch dev) free it.
  if (!FastExit)
    delete B;
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
  return printPatchResult(buildPatch(Opts), Opts, Out, Err);
}

} // namespace hotpatch
