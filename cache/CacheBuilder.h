//===- CacheBuilder.h - describe a linked image for later thin links ------===//
//
// Builds a ModuleCache from the image lld just wrote and the input files it
// used (as lld's --trace listed them): CacheBuilder.cpp, which reads the
// image with ImageReader.cpp. Also the entry to the normalised section hash
// (ObjectHasher.cpp), which thin links use to compare rebuilt objects with
// the base, and to what the cache keeps of the sources: record layouts
// (RecordLayouts.cpp) and statics by source name (StaticNames.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_CACHE_CACHEBUILDER_H
#define HOTPATCH_CACHE_CACHEBUILDER_H

#include "ModuleCache.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Object/ELFObjectFile.h"

#include <map>
#include <memory>

namespace hotpatch {

/// An input as lld reported it: a file, or a member of an archive.
struct TracedInput {
  std::string Path;   // as given to the linker (made absolute by the builder)
  std::string Member; // archive member, "" for a plain file
};

/// Parses one line of lld's --trace output ("file.o" or "lib.a(member.o)").
/// Returns false for lines that are not inputs.
bool parseTraceLine(llvm::StringRef Line, TracedInput &Out);

/// Describes the image at `Output`, linked from `Inputs` with `LinkArgs` in
/// `WorkingDirectory`. Non-object inputs (shared libraries, scripts) are
/// skipped: they are not part of the image.
llvm::Expected<ModuleCache>
buildModuleCache(llvm::StringRef Output, llvm::ArrayRef<TracedInput> Inputs,
                 llvm::ArrayRef<std::string> LinkArgs,
                 llvm::StringRef WorkingDirectory);

/// What a cache is built from, held in memory: the output (mapped: links
/// replace it by renaming) and the inputs (copied: a compile may rewrite one
/// in place). Taking it is quick; describing it is the costly part, which
/// thinlink finishes after the link has returned to the build.
class LinkSnapshot {
public:
  static llvm::Expected<std::unique_ptr<LinkSnapshot>>
  take(llvm::StringRef Output, llvm::ArrayRef<TracedInput> Inputs,
       llvm::StringRef WorkingDirectory);
  llvm::Expected<ModuleCache> describe(llvm::ArrayRef<std::string> LinkArgs,
                                       llvm::StringRef WorkingDirectory);
  ~LinkSnapshot();

private:
  LinkSnapshot();
  struct Impl;
  std::unique_ptr<Impl> I;
};

/// Hashes every section of a relocatable object. Stable across recompiles of
/// the same source: relocation targets are hashed by identity (symbol name,
/// or for a section symbol into a named section that section's name),
/// string literals and mergeable constants by content, anonymous sections
/// (jump and lookup tables) by their own hash, so renumbered `.L.str.N`
/// labels and reordered literals do not change a function's hash, and a
/// changed string reached through a lookup table does.
llvm::Expected<InputFile>
hashObject(llvm::MemoryBufferRef Object, llvm::StringRef Path,
           llvm::StringRef Member);

/// Splits the text of .hotpatch.layouts sections into type name -> block.
std::map<std::string, std::string> parseLayouts(llvm::StringRef Text);

/// Reads the .hotpatch.layouts section of an object ("" when there is none).
std::string readLayoutSection(llvm::MemoryBufferRef Object);

/// A function's static variable as the source names it ("tick()::count"),
/// the same for every static of that name in the function (compilers number
/// them in source order: `_ZZ4tickvE5count`, `..._0`; C `tick.count`,
/// `tick.count.1`), or "" for other symbols.
std::string localStaticKey(llvm::StringRef Name);

/// Describes how a record's layout changed, e.g. "field 'mass' moved from
/// offset 8 to 16; size 16 -> 24 bytes".
std::string describeLayoutChange(llvm::StringRef Old, llvm::StringRef New);

} // namespace hotpatch

#endif
