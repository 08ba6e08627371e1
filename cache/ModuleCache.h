//===- ModuleCache.h - the HotpatchModuleCache format ----------------------===//
//
// The one definition of the HotpatchModuleCache: what thinlink remembers
// about a linked image so that a later thin link can build a patch against
// it without re-reading the whole binary and its inputs.
//
// File layout (all integers little-endian; offsets and sizes in
// CacheFormat.h):
//
//   offset size
//   0      8    magic "HPMCACHE"
//   8      4    format version (ModuleCache::Version)
//   12     4    reserved, 0
//   16     8    size of the whole file
//   24     8    xxh3-64 of the file from offset 32 on
//   32     4    number of tables (13), then 4 reserved
//   40     ...  the table directory: per table, in id order, u32 id, u32 record
//               count, u64 offset, u64 size; then the tables, 8-aligned
//
// Tables hold fixed-size records; a string is (u32 offset, u32 length) into
// the strings table, where each distinct string is stored once. Symbols,
// inputs (by path), slots (by slot address) and layouts (by type) each have a
// sorted index of (u64 key, u32 record) pairs, the key being the xxh3-64 of
// the name (the address for slots). A thin link maps the file and reads
// through the indexes only what its rebuilt objects name (CacheView.h). See
// docs/design.md, "The HotpatchModuleCache", for why each field exists.
//
// The file is written to "<output>.hpcache" beside the linked output, through
// a temporary file and a rename, so a reader never sees half a cache.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_CACHE_MODULECACHE_H
#define HOTPATCH_CACHE_MODULECACHE_H

#include "hotpatch/patch_format.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace hotpatch {

/// What kind of image was linked; only PIE executables can be patched today.
enum class ImageKind : uint8_t { PieExecutable = 0, Executable = 1, SharedLibrary = 2 };

struct Segment {
  uint32_t Type = 0;  // PT_*
  uint32_t Flags = 0; // PF_R | PF_W | PF_X
  uint64_t VAddr = 0, MemSize = 0, Offset = 0, FileSize = 0, Align = 0;
};

/// An output section of the image: patches place the base's symbols in
/// sections of the same address, size and flags.
struct OutputSection {
  std::string Name;
  uint32_t Type = 0;  // SHT_*
  uint64_t Flags = 0; // SHF_*
  uint64_t Address = 0, Size = 0, Align = 0;
};

/// The image as loaded: what patches are placed relative to. Addresses are
/// link-time virtual addresses (for a PIE, relative to its load base).
struct ImageLayout {
  ImageKind Kind = ImageKind::PieExecutable;
  std::vector<uint8_t> BuildId;
  uint64_t Entry = 0;
  uint64_t Begin = 0, End = 0; // lowest and highest+1 address of PT_LOADs
  std::vector<Segment> Segments;
  std::vector<OutputSection> Sections;
  bool HasTls = false;
  Segment Tls; // the PT_TLS segment, when HasTls
  /// Patches are linked at a fixed distance below Begin: the runtime maps
  /// them in [Begin - PatchWindowFar, Begin - PatchWindowNear), where 32-bit
  /// PC-relative references into the image still reach (the window of
  /// hotpatch/patch_format.h).
  uint64_t PatchWindowNear = HOTPATCH_PATCH_GAP;
  uint64_t PatchWindowFar = HOTPATCH_PATCH_GAP + HOTPATCH_PATCH_WINDOW;
};

enum class SymbolKind : uint8_t { NoType = 0, Object = 1, Func = 2, Section = 3, File = 4, Common = 5, Tls = 6, IFunc = 10 };
enum class SymbolBinding : uint8_t { Local = 0, Global = 1, Weak = 2, Unique = 10 };

/// A symbol of the linked image. Locals are told apart by File: two
/// `static int counter` of two files are two symbols with different files.
struct Symbol {
  std::string Name;
  uint32_t File = NoFile; // index into ModuleCache::Files, NoFile for globals
  std::string Section;    // name of the output section, "" if absolute/undef
  uint64_t Address = 0, Size = 0;
  SymbolKind Kind = SymbolKind::NoType;
  SymbolBinding Binding = SymbolBinding::Local;
  uint8_t Visibility = 0; // STV_*
  static constexpr uint32_t NoFile = ~0u;
};

/// One section of one input object, hashed so that the same source compiled
/// twice hashes the same and an edit changes only the sections it touches.
struct InputSection {
  std::string Name;
  uint32_t Index = 0; // section index in the object
  uint32_t Type = 0;  // SHT_*
  uint64_t Flags = 0; // SHF_*
  uint64_t Size = 0;
  std::string Group;  // COMDAT signature, "" if none
  uint64_t Hash = 0;  // normalised bytes + relocations, see ObjectHasher.cpp
};

/// An input object file or archive member that the link used.
struct InputFile {
  std::string Path;   // absolute path of the file (the archive for members)
  std::string Member; // archive member name, "" for plain objects
  uint64_t ContentHash = 0; // xxh3-64 of the object's bytes
  uint64_t Size = 0;
  std::vector<InputSection> Sections;
  /// Record layouts found in this object, before they are merged into
  /// ModuleCache::Layouts (not serialised per input).
  std::vector<std::pair<std::string, std::string>> Layouts;
};

/// A hot function's slot in the image (from the plugin's symbols).
struct SlotRecord {
  std::string Name;       // mangled name of the function
  uint32_t File = Symbol::NoFile; // for file-local functions
  uint64_t SlotAddress = 0, BodyAddress = 0, SymbolAddress = 0;
  bool Local = false;
  /// The symbol is not a plugin thunk: a copy of the function compiled
  /// without the plugin won its COMDAT (see docs/design.md).
  bool UnpatchedCopy = false;
};

/// Which input provided the copy of a COMDAT group that the link kept.
struct ComdatWinner {
  std::string Signature;
  uint32_t Input = 0; // index into ModuleCache::Inputs
};

struct ModuleCache {
  static constexpr uint32_t Version = 4;
  static constexpr char Magic[9] = "HPMCACHE";

  std::string Output;                 // absolute path of the linked output
  ImageLayout Image;
  std::vector<std::string> Files;     // STT_FILE names, for local symbols
  std::vector<Symbol> Symbols;
  std::vector<InputFile> Inputs;
  std::vector<SlotRecord> Slots;
  std::vector<ComdatWinner> Comdats;
  /// Record layouts the plugin recorded (section .hotpatch.layouts of the
  /// inputs): type name -> its layout block. A patch that changes one is
  /// refused, naming the type and the field.
  std::vector<std::pair<std::string, std::string>> Layouts;
  std::string WorkingDirectory;       // where the link ran
  std::vector<std::string> LinkArgs;  // the linker command line, as run
};

/// `Path` made absolute against `Base` (the working directory when empty),
/// with "." and ".." removed: how every file is named in caches and patches.
std::string absolutePath(llvm::StringRef Path, llvm::StringRef Base = "");

/// Writes `Path` through "<Path>.tmp.<pid>" and a rename, so that readers
/// never see half a file; reports (never aborts on) write errors.
llvm::Error writeFileAtomically(llvm::StringRef Path,
                                llvm::function_ref<void(llvm::raw_ostream &)> Write);

/// Where the cache of a linked output lives.
std::string cachePathFor(llvm::StringRef Output);

/// Lays the cache out in its tables. Writes "<Path>.tmp.<pid>" and renames
/// it: a reader that mapped the previous file keeps reading that one.
llvm::Error writeModuleCache(const ModuleCache &Cache, llvm::StringRef Path);

/// The cache's one background writer (CacheWriter.cpp): takes the lock of
/// `Path` and marks the cache as being written; returns the lock's file
/// descriptor, which the writer holds until finishCacheWriter (or its end).
llvm::Expected<int> becomeCacheWriter(llvm::StringRef Path);
void finishCacheWriter(llvm::StringRef Path, int LockFD);

/// Waits while a background writer of `Path` is at work; fails if it died
/// or left an error instead of a cache.
llvm::Error waitForCacheWriter(llvm::StringRef Path);

/// Reads a whole cache (for the tools that show one; a thin link reads it
/// through CacheView). Every failure names the file, what is wrong with it
/// and what to do (relink with thinlink).
llvm::Expected<ModuleCache> readModuleCache(llvm::StringRef Path);

/// Human-readable summary, or the whole cache as JSON for tools.
void dumpModuleCache(const ModuleCache &Cache, llvm::raw_ostream &OS);
void dumpModuleCacheJSON(const ModuleCache &Cache, llvm::raw_ostream &OS);

} // namespace hotpatch

#endif
