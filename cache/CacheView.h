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
// openCacheView() keeps the views it opened: a long-running process (hotpatch
// dev) maps a program's cache once and reuses it while the file is the same.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_CACHE_CACHEVIEW_H
#define HOTPATCH_CACHE_CACHEVIEW_H

#include "CacheFormat.h"
#include "ModuleCache.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/DataExtractor.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace hotpatch {

class CacheView {
public:
  /// Maps and checks `Path` (after waiting for a background writer).
  static llvm::Expected<std::unique_ptr<CacheView>> open(llvm::StringRef Path);

  llvm::StringRef path() const { return Path; }
  const std::string &output() const { return Output; }
  const ImageLayout &image() const { return Image; }
  const std::string &workingDirectory() const { return WorkingDirectory; }
  const std::vector<std::string> &linkArgs() const { return LinkArgs; }

  uint32_t numFiles() const { return Count[cacheformat::Files]; }
  /// The STT_FILE name of a file index ("" when out of range).
  llvm::StringRef file(uint32_t I) const;
  bool hasFile(llvm::StringRef Name) const;
  /// The indexes of the files of that name.
  llvm::SmallVector<uint32_t, 1> filesNamed(llvm::StringRef Name) const;

  uint32_t numSymbols() const { return Count[cacheformat::Symbols]; }
  Symbol symbol(uint32_t I) const;
  /// Every symbol of that name, in cache order.
  llvm::SmallVector<Symbol, 2> symbolsNamed(llvm::StringRef Name) const;
  /// The symbols of that name a thin link can bind to from objects of the
  /// given files: the globals, the locals of other than default visibility
  /// (hidden globals the link made local), and the plain locals of those
  /// files only (a `static` helper's name can have one symbol per file).
  llvm::SmallVector<Symbol, 2> symbolsNamed(llvm::StringRef Name,
                                            llvm::ArrayRef<uint32_t> LocalFiles) const;

  uint32_t numInputs() const { return Count[cacheformat::Inputs]; }
  /// An input; its sections only when asked for.
  InputFile input(uint32_t I, bool WithSections) const;
  /// The plain objects (not archive members) at an absolute path.
  llvm::SmallVector<uint32_t, 1> objectsAt(llvm::StringRef Path) const;

  uint32_t numSlots() const { return Count[cacheformat::Slots]; }
  SlotRecord slot(uint32_t I) const;
  std::optional<SlotRecord> slotAt(uint64_t SlotAddress) const;

  uint32_t numComdats() const { return Count[cacheformat::Comdats]; }
  ComdatWinner comdat(uint32_t I) const;

  uint32_t numLayouts() const { return Count[cacheformat::Layouts]; }
  std::pair<std::string, std::string> layout(uint32_t I) const;
  std::optional<llvm::StringRef> layoutOf(llvm::StringRef Type) const;

  /// Whether a block read so far did not match its checksum: then every
  /// answer given may be wrong, and the caller must refuse with corruption().
  bool corrupt() const { return FirstBadBlock.load() != NoBadBlock; }
  llvm::Error corruption() const;

  /// Everything, decoded (readModuleCache; the tools that show a cache).
  ModuleCache decode() const;

  /// The file this view maps, as it was when opened: a view stays valid
  /// while the file at path() is this one.
  struct Identity {
    uint64_t Device = 0, Inode = 0, Size = 0;
    int64_t MTimeNs = 0;
    bool operator==(const Identity &O) const {
      return Device == O.Device && Inode == O.Inode && Size == O.Size &&
             MTimeNs == O.MTimeNs;
    }
  };
  const Identity &identity() const { return Id; }

private:
  using TableId = uint32_t; // cacheformat::TableId
  CacheView() = default;
  llvm::Error check();
  /// The offset of record I of table T, or 0 when out of range.
  uint64_t record(TableId T, uint32_t I, uint64_t RecordSize) const;
  llvm::StringRef str(uint64_t RefOffset) const;
  /// The records whose index entry (in table `Index`) has key `Key`.
  llvm::SmallVector<uint32_t, 2> lookup(TableId Index, uint64_t Key) const;
  /// The first index entry at or after (Key, Aux), searching [Lo, Hi).
  uint32_t lowerBound(TableId Index, uint64_t Key, uint32_t Aux, uint32_t Lo,
                      uint32_t Hi) const;
  InputSection section(uint32_t I) const;
  /// Checks the blocks that [Off, Off + Len) lies in, the first time each
  /// is touched; false when one of them does not match its checksum.
  bool touch(uint64_t Off, uint64_t Len) const;
  // Fixed-width reads at a file offset; 0 past the end or in a corrupted block.
  uint8_t u8(uint64_t Off) const { return Off < Size && touch(Off, 1) ? Data[Off] : 0; }
  uint32_t u32(uint64_t Off) const {
    return Off + 4 <= Size && Off + 4 > Off && touch(Off, 4)
               ? llvm::support::endian::read32le(Data + Off)
               : 0;
  }
  uint64_t u64(uint64_t Off) const {
    return Off + 8 <= Size && Off + 8 > Off && touch(Off, 8)
               ? llvm::support::endian::read64le(Data + Off)
               : 0;
  }

  std::string Path;
  Identity Id;
  std::unique_ptr<llvm::MemoryBuffer> Buffer;
  const uint8_t *Data = nullptr;
  uint64_t Size = 0;
  static constexpr unsigned NumIds = cacheformat::NumTables + 1;
  uint64_t Offset[NumIds] = {}, Bytes[NumIds] = {};
  uint32_t Count[NumIds] = {};
  llvm::DataExtractor DE{llvm::ArrayRef<uint8_t>(), true, 8};
  uint64_t TablesAt = 0, NumBlocks = 0;
  /// Per block: 0 not checked yet, 1 good, 2 corrupted.
  std::unique_ptr<std::atomic<uint8_t>[]> BlockState;
  static constexpr uint64_t NoBadBlock = ~0ull;
  mutable std::atomic<uint64_t> FirstBadBlock{NoBadBlock};
  std::string Output, WorkingDirectory;
  ImageLayout Image;
  std::vector<std::string> LinkArgs;
};

/// The view of the cache at `Path`: the one this process already opened when
/// the file is still the same, else a new one (kept for the next call; a
/// few are kept, the least recently used go).
llvm::Expected<std::shared_ptr<const CacheView>> openCacheView(llvm::StringRef Path);

} // namespace hotpatch

#endif
