//===- CacheFormat.h - the byte layout of a HotpatchModuleCache -----------===//
//
// Internal to cache/: the writer (ModuleCache.cpp) and the reader
// (CacheMapping.cpp, CacheIndex.cpp, CacheRecords.cpp) share these offsets
// and sizes. The format itself is documented in ModuleCache.h, the
// contract.
//
// A cache is read where it lies (mapped, not decoded): fixed-size records,
// strings as (offset, length) into one pool, and sorted hash indexes, so a
// thin link touches the records its rebuilt objects name and nothing else.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_CACHE_CACHEFORMAT_H
#define HOTPATCH_CACHE_CACHEFORMAT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/xxhash.h"

#include <cstdint>

namespace hotpatch {
namespace cacheformat {

// Header fields. The header's checksum covers the table count, the
// directory and the block checksums; each 4 KiB block of the tables that
// follow has its own checksum, checked the first time a reader touches it
// (a thin link reads the few blocks its lookups land in).
constexpr uint64_t OffMagic = 0, OffVersion = 8, OffReserved = 12, OffFileSize = 16,
                   OffChecksum = 24, OffTableCount = 32, OffHeadSize = 36, OffDirectory = 40;
// OffHeadSize: u32, where the tables begin (the end of the block checksums):
// the header's checksum covers [OffTableCount, head size).
constexpr uint64_t HeaderSize = OffDirectory;
constexpr uint64_t DirEntrySize = 24; // u32 id, u32 record count, u64 offset, u64 size

/// The tables, in file order. Each is 8-byte aligned.
enum TableId : uint32_t {
  Strings = 1,     // bytes; strings are (u32 offset, u32 length) into it
  Core = 2,        // one record stream: output, image, working directory, link args
  Files = 3,       // StrRef each
  Symbols = 4,     // SymbolSize each
  SymbolIndex = 5, // IndexSize each: keyHash(name) -> symbol
  Inputs = 6,      // InputSize each
  InputIndex = 7,  // keyHash(path) -> input
  Sections = 8,    // SectionSize each; an input's are contiguous
  Slots = 9,       // SlotSize each
  SlotIndex = 10,  // slot address -> slot
  Comdats = 11,    // ComdatSize each
  Layouts = 12,    // LayoutSize each
  LayoutIndex = 13,// keyHash(type) -> layout
  BlockSums = 14,  // u64 xxh3-64 per block of the tables, placed first
  NumTables = 14,
};
constexpr uint64_t BlockSize = 4096;

// Record sizes and field offsets (all little-endian).
constexpr uint64_t StrRefSize = 8;
// Symbol: name, section, file, kind, binding, visibility, pad, address, size
constexpr uint64_t SymbolSize = 40;
// Input: path, member, content hash, size, first section, section count
constexpr uint64_t InputSize = 40;
// Section: name, group, index, type, flags, size, hash
constexpr uint64_t SectionSize = 48;
// Slot: name, file, bits, pad[3], slot, body, symbol
constexpr uint64_t SlotSize = 40;
// Comdat: signature, input, pad
constexpr uint64_t ComdatSize = 16;
// Layout: type, block
constexpr uint64_t LayoutSize = 16;
// Index entry: u64 key, u32 record, u32 aux; sorted by (key, aux, record).
// aux is 0 except in the symbol index, where it orders a name's symbols:
// globals first, then locals of other than default visibility (hidden
// globals the link made local), then plain locals by file, so that a reader
// finds the locals of one file without stepping over those of every other.
constexpr uint64_t IndexSize = 16;
constexpr uint32_t AuxGlobal = 0, AuxHiddenLocal = 1u << 30, AuxLocal = 2u << 30;
constexpr uint32_t AuxFileMask = (1u << 30) - 1;

/// The key a name is indexed under.
inline uint64_t keyHash(llvm::StringRef S) { return llvm::xxh3_64bits(S); }

} // namespace cacheformat
} // namespace hotpatch

#endif
