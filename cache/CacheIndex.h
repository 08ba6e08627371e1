//===- CacheIndex.h - the sorted hash indexes of a HotpatchModuleCache ----===//
//
// A cache finds a symbol, an input, a slot or a layout by binary search in
// an index: entries (u64 key, u32 record, u32 aux) sorted by (key, aux,
// record), the key the hash of a name (cacheformat::keyHash) or a slot's
// address (CacheFormat.h). A search gives record numbers; the caller
// compares the names the records hold, since two names can share a hash.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_CACHE_CACHEINDEX_H
#define HOTPATCH_CACHE_CACHEINDEX_H

#include "CacheMapping.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>

namespace hotpatch {

class CacheIndex {
public:
  /// The index in table `Table` (SymbolIndex, InputIndex, SlotIndex,
  /// LayoutIndex) of a mapping that outlives it.
  CacheIndex(const CacheMapping &Map, CacheMapping::TableId Table)
      : Map(Map), Table(Table) {}

  /// The records whose entry has key `Key`, in index order.
  llvm::SmallVector<uint32_t, 2> lookup(uint64_t Key) const;

  /// The symbol index's records under `Key` that a thin link can bind to from
  /// objects of the given files, sorted, each once: the globals, the locals
  /// of other than default visibility, and the plain locals of those files.
  llvm::SmallVector<uint32_t, 4> symbolsFrom(uint64_t Key,
                                             llvm::ArrayRef<uint32_t> LocalFiles) const;

private:
  /// The first entry at or after (Key, Aux), searching [Lo, Hi).
  uint32_t lowerBound(uint64_t Key, uint32_t Aux, uint32_t Lo, uint32_t Hi) const;
  uint64_t entry(uint32_t E) const {
    return Map.record(Table, E, cacheformat::IndexSize);
  }

  const CacheMapping &Map;
  CacheMapping::TableId Table;
};

} // namespace hotpatch

#endif
