//===- CacheView.h - a HotpatchModuleCache read where it lies -------------===//
//
// A thin link needs a few hundred of a program's symbols, the sections of
// the objects it was given, and a handful of slots and layouts. The view maps
// the cache and answers those questions from its indexes, so that what a thin
// link reads follows the edit, not the size of the program.
//
// Opening checks the header, the table directory and the checksum; every
// record read afterwards is bounds-checked (a cache with a forged checksum
// gives wrong answers, never a crash).
//
// The view puts together the mapped file and its block checksums
// (CacheMapping.h), the index searches (CacheIndex.h) and the decoding of
// records (CacheRecords.h); here are the questions a thin link and the tools
// ask. openCacheView() keeps the views it opened (CacheViewMemo.cpp): a
// long-running process (hotpatch dev) maps a program's cache once and reuses
// it while the file is the same.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_CACHE_CACHEVIEW_H
#define HOTPATCH_CACHE_CACHEVIEW_H

#include "CacheFormat.h"
#include "CacheMapping.h"
#include "CacheRecords.h"
#include "ModuleCache.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hotpatch {

class CacheView {
public:
  /// Maps and checks `Path` (after waiting for a background writer).
  static llvm::Expected<std::unique_ptr<CacheView>> open(llvm::StringRef Path);

  llvm::StringRef path() const { return Map.path(); }
  const std::string &output() const { return Core.Output; }
  const ImageLayout &image() const { return Core.Image; }
  const std::string &workingDirectory() const { return Core.WorkingDirectory; }
  const std::vector<std::string> &linkArgs() const { return Core.LinkArgs; }

  uint32_t numFiles() const { return Map.count(cacheformat::Files); }
  /// The STT_FILE name of a file index ("" when out of range).
  llvm::StringRef file(uint32_t I) const { return Records.file(I); }
  bool hasFile(llvm::StringRef Name) const;
  /// The indexes of the files of that name.
  llvm::SmallVector<uint32_t, 1> filesNamed(llvm::StringRef Name) const;

  uint32_t numSymbols() const { return Map.count(cacheformat::Symbols); }
  Symbol symbol(uint32_t I) const { return Records.symbol(I); }
  /// Every symbol of that name, in cache order.
  llvm::SmallVector<Symbol, 2> symbolsNamed(llvm::StringRef Name) const;
  /// The symbols of that name a thin link can bind to from objects of the
  /// given files: the globals, the locals of other than default visibility
  /// (hidden globals the link made local), and the plain locals of those
  /// files only (a `static` helper's name can have one symbol per file).
  llvm::SmallVector<Symbol, 2> symbolsNamed(llvm::StringRef Name,
                                            llvm::ArrayRef<uint32_t> LocalFiles) const;

  uint32_t numInputs() const { return Map.count(cacheformat::Inputs); }
  /// An input; its sections only when asked for.
  InputFile input(uint32_t I, bool WithSections) const {
    return Records.input(I, WithSections);
  }
  /// The plain objects (not archive members) at an absolute path.
  llvm::SmallVector<uint32_t, 1> objectsAt(llvm::StringRef Path) const;

  uint32_t numSlots() const { return Map.count(cacheformat::Slots); }
  SlotRecord slot(uint32_t I) const { return Records.slot(I); }
  std::optional<SlotRecord> slotAt(uint64_t SlotAddress) const;

  uint32_t numComdats() const { return Map.count(cacheformat::Comdats); }
  ComdatWinner comdat(uint32_t I) const { return Records.comdat(I); }

  uint32_t numLayouts() const { return Map.count(cacheformat::Layouts); }
  std::pair<std::string, std::string> layout(uint32_t I) const {
    return Records.layout(I);
  }
  std::optional<llvm::StringRef> layoutOf(llvm::StringRef Type) const;

  /// Whether a block read so far did not match its checksum: then every
  /// answer given may be wrong, and the caller must refuse with corruption().
  bool corrupt() const { return Map.corrupt(); }
  llvm::Error corruption() const { return Map.corruption(); }

  /// Everything, decoded (readModuleCache; the tools that show a cache).
  ModuleCache decode() const;

  /// The file this view maps, as it was when opened: a view stays valid
  /// while the file at path() is this one.
  using Identity = CacheMapping::Identity;
  const Identity &identity() const { return Map.identity(); }

private:
  CacheView() = default;

  CacheMapping Map;
  CacheRecords Records{Map};
  CacheCore Core;
};

/// The view of the cache at `Path`: the one this process already opened when
/// the file is still the same, else a new one (kept for the next call; a
/// few are kept, the least recently used go).
llvm::Expected<std::shared_ptr<const CacheView>> openCacheView(llvm::StringRef Path);

} // namespace hotpatch

#endif
