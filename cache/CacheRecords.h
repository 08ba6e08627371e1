//===- CacheRecords.h - the records of a HotpatchModuleCache, decoded -----===//
//
// What the bytes of a mapped cache mean: the core stream (the output, the
// image's layout, the working directory, the link arguments), decoded once
// at open, and the fixed-size records of the tables (files, symbols,
// inputs and their sections, slots, COMDAT winners, layouts), decoded one at
// a time into the types of ModuleCache.h when asked for. A record out of
// range decodes as an empty one; the byte layout is CacheFormat.h's.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_CACHE_CACHERECORDS_H
#define HOTPATCH_CACHE_CACHERECORDS_H

#include "CacheMapping.h"
#include "ModuleCache.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hotpatch {

/// The core stream of a cache: what a ModuleCache holds besides its tables.
struct CacheCore {
  std::string Output;
  ImageLayout Image;
  std::string WorkingDirectory;
  std::vector<std::string> LinkArgs;
};

class CacheRecords {
public:
  /// The records of a mapping that outlives them.
  explicit CacheRecords(const CacheMapping &Map) : Map(Map) {}

  /// Checks, once at open, that every input's sections lie inside the
  /// sections table, so that input() never has to.
  llvm::Error checkInputs() const;
  /// Decodes the core stream (checking its blocks first).
  llvm::Error readCore(CacheCore &Core) const;

  /// The STT_FILE name of a file index ("" when out of range).
  llvm::StringRef file(uint32_t I) const;
  Symbol symbol(uint32_t I) const;
  /// An input; its sections only when asked for.
  InputFile input(uint32_t I, bool WithSections) const;
  InputSection section(uint32_t I) const;
  SlotRecord slot(uint32_t I) const;
  ComdatWinner comdat(uint32_t I) const;
  /// A layout: its type and its text.
  std::pair<std::string, std::string> layout(uint32_t I) const;

private:
  const CacheMapping &Map;
};

} // namespace hotpatch

#endif
