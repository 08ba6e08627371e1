//===- PatchContext.h - what the passes of a thin link share -------------===//
//
// A thin link (PatchLinker.cpp) is a list of passes over one context:
//
//   PatchInputs.cpp      load the base's cache and chain state; read, match
//                        and check each rebuilt object
//   SectionPlanning.cpp  decide each section's fate (ghost, include,
//                        discard) and carry changed constants' users along
//   GhostObjects.cpp     rewrite each object for the patch link
//   BaseSymbols.cpp      define the base's symbols in an object
//   PatchScript.cpp      write the linker script and link with lld
//   PatchWriter.cpp      write the patch file and the next chain state
//
// Each object is parsed once (PatchInputs.cpp); the passes share what it
// found through the context.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_PATCHLINK_PATCHCONTEXT_H
#define HOTPATCH_PATCHLINK_PATCHCONTEXT_H

#include "CacheView.h"
#include "ChainState.h"
#include "ModuleCache.h"
#include "PatchLinker.h"

#include "hotpatch/patch_format.h"
#include "hotpatch/slot_table.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELF.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hotpatch {
namespace patchlink {

using ELFT = llvm::object::ELF64LE;
using Elf_Shdr = ELFT::Shdr;
using Elf_Sym = ELFT::Sym;
using Elf_Rela = ELFT::Rela;

/// Addresses in the patch link are base addresses plus this bias.
constexpr uint64_t Bias = HOTPATCH_PATCH_BIAS;

inline llvm::Error fail(const llvm::Twine &Msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), Msg);
}

enum class Fate { Ghost, Include, Discard };

struct SectionPlan {
  Fate F = Fate::Include;
  uint64_t Address = 0; // ghosts: link address
  bool Changed = false; // differs from the current state
  bool New = false;     // not in the current state at all
  /// A vtable whose entries changed: the patch carries the new contents,
  /// and the runtime copies them over the running one (at Address), which
  /// the objects that already exist point to.
  bool InPlace = false;
};

/// A vtable the runtime rewrites in place (SectionPlanning.cpp).
struct VtableUpdate {
  std::string Symbol; // _ZTV...
  std::string Class;  // "class Square"
  uint64_t Address;   // the running vtable's link address (with Bias)
  uint64_t Size;
};

/// A symbol of a rebuilt object, read once.
struct ObjSymbol {
  llvm::StringRef Name; // into the object's buffer
  unsigned Section;
  uint64_t Value;
  uint8_t Type, Binding;
};

/// One rebuilt object and the decisions about its sections.
struct Rebuilt {
  std::string Path;       // as given
  std::string Abs;        // absolute
  std::string SourceFile; // its STT_FILE
  std::unique_ptr<llvm::MemoryBuffer> Buffer;
  InputFile Hashed;       // hashes of its sections
  const InputFile *BaseInput = nullptr;
  std::map<unsigned, SectionPlan> Plans; // by section index
  std::string PatchedPath;               // the rewritten copy
  std::vector<ObjSymbol> Symbols;        // named symbols (no section/file ones)
  std::map<unsigned, std::vector<const ObjSymbol *>> BySection; // defined ones
  std::map<unsigned, std::set<unsigned>> RefersTo; // section -> sections its relocations name
};

/// A base thread-local the patch references, at its offset in the base's
/// TLS block, and the input section that stands for it in the patch link.
struct TlsItem {
  uint64_t Offset, Size;
  std::string File, Section;
};

/// Assembler-private and numbered labels (.L*, GCC_except_table<N>) name
/// different things in two builds: they never locate a section.
inline bool isNumberedLabel(llvm::StringRef Name) {
  return Name.starts_with(".L") || Name.starts_with("GCC_except_table");
}

inline bool isCode(const InputSection &S) { return S.Flags & llvm::ELF::SHF_EXECINSTR; }
inline bool isWritable(const InputSection &S) { return S.Flags & llvm::ELF::SHF_WRITE; }
/// Relocated read-only data (.data.rel.ro: vtables, const tables of
/// pointers) is writable only while the program is loaded.
inline bool isRelro(const InputSection &S) {
  return llvm::StringRef(S.Name).starts_with(".data.rel.ro");
}
/// Whether a data section can hold the running program's state: writable
/// data and thread-locals. Everything else is a constant.
inline bool holdsState(const InputSection &S) {
  return (isWritable(S) && !isRelro(S)) || (S.Flags & llvm::ELF::SHF_TLS);
}

/// The function a code section holds, if it is one of the plugin's bodies or
/// a plain function section.
inline std::string functionOf(llvm::StringRef Section) {
  if (!Section.consume_front(".text."))
    return "";
  return Section.str();
}

struct PatchContext {
  explicit PatchContext(const PatchOptions &Opts) : Opts(Opts) {}

  const PatchOptions &Opts;
  std::string BasePath;
  /// The base's cache, mapped; kept by openCacheView for the next thin link
  /// of a long-running process.
  std::shared_ptr<const CacheView> Base;
  ChainState Chain;
  std::vector<Rebuilt> Objects;
  std::string WorkDir;
  uint64_t PatchBase = 0; // where this patch is linked
  uint64_t BandEnd = 0;   // and the end of the range it may take
  // Base symbol lookups.
  llvm::StringMap<const Symbol *> BaseGlobals;
  /// Locals by name, each with its file: names are mostly unique, so this
  /// costs one hash lookup and a short scan.
  llvm::StringMap<llvm::SmallVector<const Symbol *, 1>> BaseLocals;
  /// The records read from the cache that the lookups above point to.
  std::deque<Symbol> BaseSymbolRecords;
  std::deque<InputFile> BaseInputRecords;
  // What the passes found.
  std::vector<std::string> Notes;
  std::vector<std::string> Changed, Added, NotHot;
  std::vector<hotpatch_patch_update> Updates;
  std::vector<VtableUpdate> Vtables;
  std::string Strings;
  size_t InitCount = 0;
  bool NothingToPatch = false;
  std::vector<TlsItem> TlsItems; // base thread-locals the patch references

  void note(const llvm::Twine &Msg) { Notes.push_back(Msg.str()); }

  const Symbol *baseLocal(llvm::StringRef File, llvm::StringRef Name) const;
  /// The base's definition of a symbol an object names. A local is found in
  /// its own file. A global or weak one is a global of the base, or, when
  /// its visibility is hidden or protected, a local of the base: the linker
  /// makes those local in an executable. Among such locals the one of the
  /// object's own file wins, then the only one that was not a `static`
  /// (locals keep STV_DEFAULT). Never guesses between two.
  const Symbol *baseDefinition(llvm::StringRef File, llvm::StringRef Name, bool Local) const;
};

// The passes, in order.
llvm::Error loadBase(PatchContext &C);
llvm::Error loadObjects(PatchContext &C);
void indexBaseSymbols(PatchContext &C);
llvm::Error plan(PatchContext &C, Rebuilt &R);
llvm::Error propagate(PatchContext &C, Rebuilt &R);
void dropUnusedExceptionTables(PatchContext &C, Rebuilt &R);
llvm::Error rewrite(PatchContext &C, Rebuilt &R);
llvm::Error writeBaseSymbols(PatchContext &C, llvm::StringRef Path);
llvm::Error writeScript(PatchContext &C, llvm::StringRef Path, llvm::StringRef BaseSymbols);
llvm::Error link(PatchContext &C, llvm::StringRef Script, llvm::StringRef BaseSymbols,
                 llvm::StringRef Output);
llvm::Error writePatch(PatchContext &C, llvm::StringRef Image);

// A shared library's exported symbols (Interposition.cpp).
/// Whether the dynamic linker binds `Name`, a symbol of the base library,
/// at run time (default visibility, not a thread-local).
bool isInterposable(const PatchContext &C, llvm::StringRef Name);
/// The interposable base symbols the rebuilt objects reference and the
/// patch does not define anew: they stay preemptible in the patch link.
std::vector<std::string> interposableReferences(const PatchContext &C);
llvm::Error writeDynamicList(const std::vector<std::string> &Names, llvm::StringRef Path);

// Helpers the passes share.
llvm::Error checkBuiltAlike(PatchContext &C, const Rebuilt &R);
llvm::Error checkIsRebuildOf(PatchContext &C, const Rebuilt &R);
llvm::Expected<const InputFile *> archiveMemberFor(PatchContext &C, const Rebuilt &R);
std::optional<uint64_t> baseAddressOf(PatchContext &C, Rebuilt &R, unsigned Index);
/// A variable of the base: its link address (with Bias) and size.
struct BaseVariable {
  uint64_t Address, Size;
};
std::optional<BaseVariable> baseVariableOf(PatchContext &C, Rebuilt &R, unsigned Index);
/// "the variable 'x' (section .data.x)", or the section alone.
std::string describeData(const Rebuilt &R, const InputSection &S);

} // namespace patchlink
} // namespace hotpatch

#endif
