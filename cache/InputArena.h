//===- InputArena.h - the link's objects, copied into huge pages ----------===//
//
// The cache is built after thinlink has returned to the build, from copies
// of the link's plain objects taken before (a compile may rewrite one in
// place). The copies go one after the other into one anonymous mapping
// (InputArena.cpp).
//
// Internal to the cache library.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_CACHE_INPUTARENA_H
#define HOTPATCH_CACHE_INPUTARENA_H

#include "llvm/ADT/StringRef.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace hotpatch {

/// Copies of the link's plain objects, in one anonymous mapping that asks
/// for huge pages: the copy of 200 objects (20 MB) took 150-180 ms in
/// 4 KiB pages on a machine where a page fault costs some 30 us, against
/// a few ms in 2 MiB ones.
struct InputArena {
  char *Base = nullptr;
  size_t Size = 0, Used = 0;
  explicit InputArena(size_t Bytes);
  ~InputArena();
  /// The file's bytes copied into the arena, or None (no room, or the file
  /// is not the size it was: the caller reads it the usual way).
  std::optional<llvm::StringRef> copy(const std::string &Path, uint64_t Expected);
};

} // namespace hotpatch

#endif
