//===- CacheIndex.cpp - search the sorted hash indexes of a cache ---------===//
//
// Binary searches over the index entries, read where they lie: a search
// touches the few blocks of the index it lands in (CacheMapping.h).
//
//===----------------------------------------------------------------------===//
#include "CacheIndex.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace llvm;

namespace hotpatch {
namespace cf = cacheformat;

SmallVector<uint32_t, 2> CacheIndex::lookup(uint64_t Key) const {
  SmallVector<uint32_t, 2> Out;
  // Entries sorted by key: the first with this key, then all that follow.
  uint32_t Lo = 0, Hi = Map.count(Table);
  while (Lo < Hi) {
    uint32_t Mid = Lo + (Hi - Lo) / 2;
    if (Map.u64(entry(Mid)) < Key)
      Lo = Mid + 1;
    else
      Hi = Mid;
  }
  for (; Lo < Map.count(Table); ++Lo) {
    uint64_t R = entry(Lo);
    if (Map.u64(R) != Key)
      break;
    Out.push_back(Map.u32(R + 8));
  }
  return Out;
}

uint32_t CacheIndex::lowerBound(uint64_t Key, uint32_t Aux, uint32_t Lo,
                                uint32_t Hi) const {
  while (Lo < Hi) {
    uint32_t Mid = Lo + (Hi - Lo) / 2;
    uint64_t R = entry(Mid);
    uint64_t K = Map.u64(R);
    if (K < Key || (K == Key && Map.u32(R + 12) < Aux))
      Lo = Mid + 1;
    else
      Hi = Mid;
  }
  return Lo;
}

SmallVector<uint32_t, 4> CacheIndex::symbolsFrom(uint64_t Key,
                                                 ArrayRef<uint32_t> LocalFiles) const {
  uint32_t N = Map.count(Table);
  uint32_t Begin = lowerBound(Key, 0, 0, N);
  uint32_t End = lowerBound(Key + 1, 0, Begin, N);
  if (Key == ~0ull)
    End = N;
  SmallVector<uint32_t, 4> Records;
  // Globals and hidden locals: all of them.
  uint32_t Locals = lowerBound(Key, cf::AuxLocal, Begin, End);
  for (uint32_t E = Begin; E < Locals; ++E)
    Records.push_back(Map.u32(entry(E) + 8));
  // Plain locals: those of the files asked for.
  for (uint32_t F : LocalFiles) {
    uint32_t Aux = cf::AuxLocal | std::min<uint32_t>(F, cf::AuxFileMask);
    for (uint32_t E = lowerBound(Key, Aux, Locals, End); E < End; ++E) {
      uint64_t R = entry(E);
      if (Map.u32(R + 12) != Aux)
        break;
      Records.push_back(Map.u32(R + 8));
    }
  }
  llvm::sort(Records);
  Records.erase(std::unique(Records.begin(), Records.end()), Records.end());
  return Records;
}

} // namespace hotpatch
