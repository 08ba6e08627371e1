//===- ChainState.h - what earlier patches of a base placed ---------------===//
//
// The contract between one thin link and the next: `<program>.hpchain`, a
// JSON file beside the program, written after each patch. It says which
// sections the patches replaced or added and where they live, and which
// global symbols the patches defined, so that the next patch is compared
// with the current state of the running program rather than with its base.
//
//   {
//     "format": "hotpatch-chain", "version": 1,
//     "build_id": "<hex build-id of the base>",
//     "count": <patches in the chain>,
//     "sections": { "<object>|<section>|<group>":
//                     {"hash": "<hex>", "address": N, "size": N}, ... },
//     "globals": { "<symbol>": <address>, ... },
//   }
//
// Saving also writes `<program>.hpjournal` (hotpatch/journal_format.h), the
// list of patches the runtime applies when a process of this build starts;
// it is also where the chain's patch files are read from (version 1 listed
// them here too, and each save grew with the chain).
//
// Addresses are link addresses (base address + HOTPATCH_PATCH_BIAS). A chain
// made for another build of the base is ignored: the next patch starts a new
// chain. Any other mismatch is an error that says what to do.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_PATCHLINK_CHAINSTATE_H
#define HOTPATCH_PATCHLINK_CHAINSTATE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hotpatch {

struct ChainState {
  static constexpr int64_t Version = 2;

  std::string BuildId; // hex
  uint32_t Count = 0;
  /// The link address (with bias) at which the next patch starts: the page
  /// after the last one's segments; 0 before the first (the window's bottom,
  /// hotpatch/patch_format.h).
  uint64_t NextFree = 0;
  struct Placed {
    uint64_t Hash = 0;
    uint64_t Address = 0; // link address (with bias)
    uint64_t Size = 0;
  };
  std::map<std::string, Placed> Sections;  // section key -> where it lives
  std::map<std::string, uint64_t> Globals; // global symbols patches defined
  std::vector<std::string> Patches;        // patch files, in chain order (the journal's)

  /// The journal as this state last read or wrote it: when it is still that
  /// file and the state has one patch more, saving appends one line instead
  /// of writing the whole list again (which grew with the chain).
  struct JournalStamp {
    llvm::sys::fs::UniqueID Id;
    uint64_t Size = 0;
    llvm::sys::TimePoint<> MTime;
    size_t Listed = 0;
  };
  std::optional<JournalStamp> JournalSeen;

  static std::string pathFor(llvm::StringRef Program) {
    return (Program + ".hpchain").str();
  }
  static std::string journalPathFor(llvm::StringRef Program);

  /// Forgets the chain of `Program`: the next patch starts a new one, and
  /// processes start unpatched.
  static void remove(llvm::StringRef Program);

  /// Parses a chain file's text (Patches stays empty: the journal lists
  /// them). `Path` only names it in errors.
  static llvm::Expected<ChainState> parse(llvm::StringRef Text, llvm::StringRef Path);

  /// The chain of `Program` for the build `BuildId`: empty when there is
  /// none yet or when it belongs to another build.
  static llvm::Expected<ChainState> load(llvm::StringRef Program,
                                         llvm::StringRef BuildId);

  /// Reads Patches from the journal, which must list Count of them.
  llvm::Error readPatches(llvm::StringRef JournalPath, llvm::StringRef Path);

  std::string serialize() const;
  std::string journal() const;
  llvm::Error save(llvm::StringRef Program) const;

private:
  bool appendToJournal(llvm::StringRef JournalPath) const;
};

/// The key of a section in the chain: object, section name, COMDAT group.
std::string chainSectionKey(llvm::StringRef Object, llvm::StringRef Section,
                            llvm::StringRef Group);

} // namespace hotpatch

#endif
