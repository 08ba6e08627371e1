//===- CacheMapping.h - a HotpatchModuleCache mapped and checked ----------===//
//
// The bytes of a cache, mapped where they lie, and what makes reading them
// safe: opening checks the header, the table directory and the header's
// checksum; each 4 KiB block of the tables is checked against its own
// checksum the first time a read touches it, so that a thin link pays for
// the few blocks its lookups land in. Every read is bounds-checked and gives
// 0 (or "") past the end or in a corrupted block: a cache with a forged
// checksum gives wrong answers, never a crash.
//
// The reads are here, inline, because every lookup of a thin link is made
// of them. What the records mean is CacheRecords.h's; the indexes are
// CacheIndex.h's; CacheView.h puts them together.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_CACHE_CACHEMAPPING_H
#define HOTPATCH_CACHE_CACHEMAPPING_H

#include "CacheFormat.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace hotpatch {

class CacheMapping {
public:
  /// The file a mapping maps, as it was when opened: a mapping stays valid
  /// while the file at its path is this one.
  struct Identity {
    uint64_t Device = 0, Inode = 0, Size = 0;
    int64_t MTimeNs = 0;
    bool operator==(const Identity &O) const {
      return Device == O.Device && Inode == O.Inode && Size == O.Size &&
             MTimeNs == O.MTimeNs;
    }
  };
  using TableId = uint32_t; // cacheformat::TableId

  CacheMapping() = default;
  CacheMapping(const CacheMapping &) = delete;
  CacheMapping &operator=(const CacheMapping &) = delete;

  /// Maps `Path` and checks its header, directory and header checksum. The
  /// caller waits for a background writer first.
  llvm::Error open(llvm::StringRef Path);

  llvm::StringRef path() const { return Path; }
  const Identity &identity() const { return Id; }

  /// The number of records of table T.
  uint32_t count(TableId T) const { return Count[T]; }
  /// Where table T lies in the file, and its size in bytes.
  uint64_t offset(TableId T) const { return Offset[T]; }
  uint64_t bytes(TableId T) const { return Bytes[T]; }

  /// The offset of record I of table T, or 0 when out of range.
  uint64_t record(TableId T, uint32_t I, uint64_t RecordSize) const {
    if (I >= Count[T])
      return 0;
    return Offset[T] + uint64_t(I) * RecordSize;
  }
  /// The string a StrRef at RefOffset names ("" when it lies outside the
  /// string pool or in a corrupted block).
  llvm::StringRef str(uint64_t RefOffset) const {
    uint64_t Off = u32(RefOffset), Len = u32(RefOffset + 4);
    uint64_t Pool = Offset[cacheformat::Strings], PoolBytes = Bytes[cacheformat::Strings];
    if (Off > PoolBytes || Len > PoolBytes - Off || !touch(Pool + Off, Len))
      return llvm::StringRef();
    return llvm::StringRef(reinterpret_cast<const char *>(Data + Pool + Off), Len);
  }
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
  /// The mapped file, unchecked: for a reader that touch()es what it reads.
  const uint8_t *data() const { return Data; }

  /// Checks the blocks that [Off, Off + Len) lies in, the first time each
  /// is touched; false when one of them does not match its checksum.
  bool touch(uint64_t Off, uint64_t Len) const;
  /// Whether a block read so far did not match its checksum.
  bool corrupt() const { return FirstBadBlock.load() != NoBadBlock; }
  /// The error that names the first corrupted block.
  llvm::Error corruption() const;
  /// An error about this cache: "module cache '<path>' <What>; relink the
  /// program with thinlink to write a new one".
  llvm::Error error(const llvm::Twine &What) const;

private:
  llvm::Error check();

  std::string Path;
  Identity Id;
  std::unique_ptr<llvm::MemoryBuffer> Buffer;
  const uint8_t *Data = nullptr;
  uint64_t Size = 0;
  static constexpr unsigned NumIds = cacheformat::NumTables + 1;
  uint64_t Offset[NumIds] = {}, Bytes[NumIds] = {};
  uint32_t Count[NumIds] = {};
  uint64_t TablesAt = 0, NumBlocks = 0;
  /// Per block: 0 not checked yet, 1 good, 2 corrupted.
  std::unique_ptr<std::atomic<uint8_t>[]> BlockState;
  static constexpr uint64_t NoBadBlock = ~0ull;
  mutable std::atomic<uint64_t> FirstBadBlock{NoBadBlock};
};

} // namespace hotpatch

#endif
