//===- ModuleCache.cpp - read, write and show the HotpatchModuleCache -----===//
//
// Writing lays the structs of ModuleCache.h out as the tables of
// CacheFormat.h, every string once in a pool, with the indexes a thin link
// looks names up in; reading decodes a CacheView (CacheView.h).
//
//===----------------------------------------------------------------------===//
#include "ModuleCache.h"

#include "CacheFormat.h"
#include "CacheView.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/EndianStream.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/xxhash.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <unistd.h>

using namespace llvm;

namespace hotpatch {
namespace cf = cacheformat;

namespace {

/// The file being built: tables in order, strings pooled (each distinct
/// string once: section names, COMDAT signatures and symbol names repeat).
class TableWriter {
public:
  explicit TableWriter(SmallVectorImpl<char> &Out) : OS(Out), W(OS, endianness::little) {}

  void u8(uint8_t V) { W.write(V); }
  void u32(uint32_t V) { W.write(V); }
  void u64(uint64_t V) { W.write(V); }
  /// An inline string (the core stream): u32 length, bytes.
  void inlineStr(StringRef S) {
    u32(S.size());
    OS << S;
  }
  /// A pooled string: (u32 offset, u32 length) into the strings table.
  void ref(StringRef S) {
    auto [It, New] = Pool.try_emplace(S, PoolBytes.size());
    if (New)
      PoolBytes.append(S.begin(), S.end());
    u32(It->second);
    u32(S.size());
  }
  uint64_t tell() const { return OS.tell(); }
  void align8() {
    while (OS.tell() % 8)
      u8(0);
  }

  raw_svector_ostream OS;
  support::endian::Writer W;
  StringMap<uint32_t> Pool;
  std::string PoolBytes;
};

struct Entry {
  uint64_t Key;
  uint32_t Record;
  uint32_t Aux = 0;
};

void writeIndex(TableWriter &T, std::vector<Entry> Index) {
  llvm::sort(Index, [](const Entry &A, const Entry &B) {
    return std::tie(A.Key, A.Aux, A.Record) < std::tie(B.Key, B.Aux, B.Record);
  });
  for (const Entry &E : Index) {
    T.u64(E.Key);
    T.u32(E.Record);
    T.u32(E.Aux);
  }
}

uint32_t symbolAux(const Symbol &S) {
  if (S.Binding != SymbolBinding::Local)
    return cf::AuxGlobal;
  return (S.Visibility != 0 ? cf::AuxHiddenLocal : cf::AuxLocal) |
         std::min<uint32_t>(S.File, cf::AuxFileMask);
}

void writeSegment(TableWriter &T, const Segment &S) {
  T.u32(S.Type);
  T.u32(S.Flags);
  T.u64(S.VAddr);
  T.u64(S.MemSize);
  T.u64(S.Offset);
  T.u64(S.FileSize);
  T.u64(S.Align);
}

void writeCore(TableWriter &T, const ModuleCache &C) {
  T.inlineStr(C.Output);
  const ImageLayout &I = C.Image;
  T.u8(uint8_t(I.Kind));
  T.inlineStr(StringRef(reinterpret_cast<const char *>(I.BuildId.data()), I.BuildId.size()));
  T.u64(I.Entry);
  T.u64(I.Begin);
  T.u64(I.End);
  T.u64(I.PatchWindowNear);
  T.u64(I.PatchWindowFar);
  T.u32(I.Segments.size());
  for (const Segment &S : I.Segments)
    writeSegment(T, S);
  T.u32(I.Sections.size());
  for (const OutputSection &S : I.Sections) {
    T.inlineStr(S.Name);
    T.u32(S.Type);
    T.u64(S.Flags);
    T.u64(S.Address);
    T.u64(S.Size);
    T.u64(S.Align);
  }
  T.u8(I.HasTls);
  writeSegment(T, I.Tls);
  T.inlineStr(C.WorkingDirectory);
  T.u32(C.LinkArgs.size());
  for (const std::string &A : C.LinkArgs)
    T.inlineStr(A);
}

/// Writes the tables after the header and directory, then the strings
/// table last (its contents are known once every other table is written);
/// returns the directory entries.
struct DirEntry {
  uint32_t Id, Count;
  uint64_t Offset, Size;
};

std::vector<DirEntry> writeTables(TableWriter &T, const ModuleCache &C) {
  std::vector<DirEntry> Dir;
  auto Table = [&](uint32_t Id, uint32_t Count, auto Body) {
    T.align8();
    uint64_t Start = T.tell();
    Body();
    Dir.push_back({Id, Count, Start, T.tell() - Start});
  };
  Table(cf::Core, 1, [&] { writeCore(T, C); });
  Table(cf::Files, C.Files.size(), [&] {
    for (const std::string &F : C.Files)
      T.ref(F);
  });
  Table(cf::Symbols, C.Symbols.size(), [&] {
    for (const Symbol &S : C.Symbols) {
      T.ref(S.Name);
      T.ref(S.Section);
      T.u32(S.File);
      T.u8(uint8_t(S.Kind));
      T.u8(uint8_t(S.Binding));
      T.u8(S.Visibility);
      T.u8(0);
      T.u64(S.Address);
      T.u64(S.Size);
    }
  });
  Table(cf::SymbolIndex, C.Symbols.size(), [&] {
    std::vector<Entry> Index;
    for (size_t I = 0; I < C.Symbols.size(); ++I)
      Index.push_back({cf::keyHash(C.Symbols[I].Name), uint32_t(I), symbolAux(C.Symbols[I])});
    writeIndex(T, std::move(Index));
  });
  Table(cf::Inputs, C.Inputs.size(), [&] {
    uint32_t First = 0;
    for (const InputFile &In : C.Inputs) {
      T.ref(In.Path);
      T.ref(In.Member);
      T.u64(In.ContentHash);
      T.u64(In.Size);
      T.u32(First);
      T.u32(In.Sections.size());
      First += In.Sections.size();
    }
  });
  Table(cf::InputIndex, C.Inputs.size(), [&] {
    std::vector<Entry> Index;
    for (size_t I = 0; I < C.Inputs.size(); ++I)
      Index.push_back({cf::keyHash(C.Inputs[I].Path), uint32_t(I)});
    writeIndex(T, std::move(Index));
  });
  size_t NumSections = 0;
  for (const InputFile &In : C.Inputs)
    NumSections += In.Sections.size();
  Table(cf::Sections, NumSections, [&] {
    for (const InputFile &In : C.Inputs)
      for (const InputSection &S : In.Sections) {
        T.ref(S.Name);
        T.ref(S.Group);
        T.u32(S.Index);
        T.u32(S.Type);
        T.u64(S.Flags);
        T.u64(S.Size);
        T.u64(S.Hash);
      }
  });
  Table(cf::Slots, C.Slots.size(), [&] {
    for (const SlotRecord &S : C.Slots) {
      T.ref(S.Name);
      T.u32(S.File);
      T.u8(S.Local | (S.UnpatchedCopy << 1));
      T.u8(0);
      T.u8(0);
      T.u8(0);
      T.u64(S.SlotAddress);
      T.u64(S.BodyAddress);
      T.u64(S.SymbolAddress);
    }
  });
  Table(cf::SlotIndex, C.Slots.size(), [&] {
    std::vector<Entry> Index;
    for (size_t I = 0; I < C.Slots.size(); ++I)
      Index.push_back({C.Slots[I].SlotAddress, uint32_t(I)});
    writeIndex(T, std::move(Index));
  });
  Table(cf::Comdats, C.Comdats.size(), [&] {
    for (const ComdatWinner &G : C.Comdats) {
      T.ref(G.Signature);
      T.u32(G.Input);
      T.u32(0);
    }
  });
  Table(cf::Layouts, C.Layouts.size(), [&] {
    for (const auto &[Type, Layout] : C.Layouts) {
      T.ref(Type);
      T.ref(Layout);
    }
  });
  Table(cf::LayoutIndex, C.Layouts.size(), [&] {
    std::vector<Entry> Index;
    for (size_t I = 0; I < C.Layouts.size(); ++I)
      Index.push_back({cf::keyHash(C.Layouts[I].first), uint32_t(I)});
    writeIndex(T, std::move(Index));
  });
  Table(cf::Strings, 1, [&] { T.OS << T.PoolBytes; });
  // The directory lists tables by id.
  llvm::sort(Dir, [](const DirEntry &A, const DirEntry &B) { return A.Id < B.Id; });
  return Dir;
}

} // namespace

std::string absolutePath(StringRef Path, StringRef Base) {
  SmallString<256> P(Path);
  if (!sys::path::is_absolute(P)) {
    if (Base.empty()) {
      sys::fs::make_absolute(P);
    } else {
      SmallString<256> B(Base);
      sys::path::append(B, P);
      P = B;
    }
  }
  sys::path::remove_dots(P, /*remove_dot_dot=*/true);
  return std::string(P);
}

std::string cachePathFor(StringRef Output) { return (Output + ".hpcache").str(); }

Error writeModuleCache(const ModuleCache &C, StringRef Path) {
  // The tables first, then what precedes them: the header, the directory
  // and the checksum of each block of the tables.
  SmallVector<char, 0> Body;
  TableWriter T(Body);
  std::vector<DirEntry> Dir = writeTables(T, C);
  uint64_t Blocks = (Body.size() + cf::BlockSize - 1) / cf::BlockSize;
  uint64_t SumsAt = cf::OffDirectory + cf::NumTables * cf::DirEntrySize;
  uint64_t TablesAt = SumsAt + Blocks * 8;
  for (DirEntry &E : Dir)
    E.Offset += TablesAt;
  Dir.push_back({cf::BlockSums, uint32_t(Blocks), SumsAt, Blocks * 8});

  std::vector<uint8_t> Head(TablesAt);
  uint8_t *P = Head.data();
  memcpy(P, ModuleCache::Magic, 8);
  support::endian::write32le(P + cf::OffVersion, ModuleCache::Version);
  support::endian::write32le(P + cf::OffReserved, 0);
  support::endian::write64le(P + cf::OffFileSize, TablesAt + Body.size());
  support::endian::write32le(P + cf::OffTableCount, Dir.size());
  support::endian::write32le(P + cf::OffHeadSize, TablesAt);
  for (size_t I = 0; I < Dir.size(); ++I) {
    uint8_t *E = P + cf::OffDirectory + I * cf::DirEntrySize;
    support::endian::write32le(E, Dir[I].Id);
    support::endian::write32le(E + 4, Dir[I].Count);
    support::endian::write64le(E + 8, Dir[I].Offset);
    support::endian::write64le(E + 16, Dir[I].Size);
  }
  ArrayRef<uint8_t> Tables(reinterpret_cast<const uint8_t *>(Body.data()), Body.size());
  for (uint64_t B = 0; B < Blocks; ++B)
    support::endian::write64le(
        P + SumsAt + B * 8,
        xxh3_64bits(Tables.slice(B * cf::BlockSize,
                                 std::min<uint64_t>(cf::BlockSize, Body.size() - B * cf::BlockSize))));
  support::endian::write64le(P + cf::OffChecksum,
                             xxh3_64bits(ArrayRef<uint8_t>(Head).drop_front(cf::OffTableCount)));
  return writeFileAtomically(Path, [&](raw_ostream &OS) {
    OS.write(reinterpret_cast<const char *>(Head.data()), Head.size());
    OS.write(Body.data(), Body.size());
  });
}

Error writeFileAtomically(StringRef Path,
                          function_ref<void(raw_ostream &)> Write) {
  std::string Tmp = (Path + ".tmp." + Twine(sys::Process::getProcessId())).str();
  {
    std::error_code EC;
    raw_fd_ostream OS(Tmp, EC, sys::fs::OF_None);
    if (EC)
      return createStringError(EC, "cannot write '" + Tmp + "': " + EC.message());
    Write(OS);
    OS.close();
    if (OS.has_error()) {
      std::error_code E = OS.error();
      OS.clear_error(); // a reported error: raw_fd_ostream must not abort
      sys::fs::remove(Tmp);
      return createStringError(E, "cannot write '" + Tmp + "': " + E.message());
    }
  }
  if (std::error_code EC = sys::fs::rename(Tmp, Path)) {
    sys::fs::remove(Tmp);
    return createStringError(EC, "cannot move '" + Tmp + "' into place at '" +
                                     Path + "': " + EC.message());
  }
  return Error::success();
}

Expected<ModuleCache> readModuleCache(StringRef Path) {
  auto V = CacheView::open(Path);
  if (!V)
    return V.takeError();
  ModuleCache C = (*V)->decode();
  if ((*V)->corrupt())
    return (*V)->corruption();
  return C;
}

static StringRef kindName(ImageKind K) {
  switch (K) {
  case ImageKind::PieExecutable:
    return "pie-executable";
  case ImageKind::Executable:
    return "executable";
  case ImageKind::SharedLibrary:
    return "shared-library";
  }
  return "unknown";
}

static std::string fileName(const ModuleCache &C, uint32_t File) {
  return File < C.Files.size() ? C.Files[File] : std::string();
}

void dumpModuleCache(const ModuleCache &C, raw_ostream &OS) {
  const ImageLayout &I = C.Image;
  OS << "HotpatchModuleCache version " << ModuleCache::Version << "\n";
  OS << "output:      " << C.Output << "\n";
  OS << "kind:        " << kindName(I.Kind) << "\n";
  OS << "build-id:    " << toHex(I.BuildId, /*LowerCase=*/true) << "\n";
  OS << format("image:       [0x%llx, 0x%llx) entry 0x%llx\n",
               (unsigned long long)I.Begin, (unsigned long long)I.End,
               (unsigned long long)I.Entry);
  OS << format("patch window: [begin - 0x%llx, begin - 0x%llx)\n",
               (unsigned long long)I.PatchWindowFar,
               (unsigned long long)I.PatchWindowNear);
  OS << "segments:    " << I.Segments.size() << "\n";
  for (const Segment &S : I.Segments)
    OS << format("  type 0x%x flags %c%c%c vaddr 0x%llx memsz 0x%llx align 0x%llx\n",
                 S.Type, (S.Flags & 4) ? 'R' : '-', (S.Flags & 2) ? 'W' : '-',
                 (S.Flags & 1) ? 'X' : '-', (unsigned long long)S.VAddr,
                 (unsigned long long)S.MemSize, (unsigned long long)S.Align);
  if (I.HasTls)
    OS << format("tls:         vaddr 0x%llx memsz 0x%llx filesz 0x%llx align 0x%llx\n",
                 (unsigned long long)I.Tls.VAddr, (unsigned long long)I.Tls.MemSize,
                 (unsigned long long)I.Tls.FileSize, (unsigned long long)I.Tls.Align);
  OS << "sections:    " << I.Sections.size() << "\n";
  OS << "symbols:     " << C.Symbols.size() << "\n";
  OS << "inputs:      " << C.Inputs.size() << "\n";
  for (const InputFile &In : C.Inputs) {
    OS << "  " << In.Path;
    if (!In.Member.empty())
      OS << "(" << In.Member << ")";
    OS << format(" hash %016llx, %zu sections\n",
                 (unsigned long long)In.ContentHash, In.Sections.size());
  }
  OS << "hot slots:   " << C.Slots.size() << "\n";
  for (const SlotRecord &S : C.Slots) {
    OS << format("  0x%llx -> 0x%llx ", (unsigned long long)S.SlotAddress,
                 (unsigned long long)S.BodyAddress)
       << S.Name;
    if (S.Local)
      OS << " (local to " << fileName(C, S.File) << ")";
    if (S.UnpatchedCopy)
      OS << " [copy built without the plugin won: not patchable]";
    OS << "\n";
  }
  OS << "comdats:     " << C.Comdats.size() << "\n";
  OS << "layouts:     " << C.Layouts.size() << " record types\n";
  OS << "link:        (cd " << C.WorkingDirectory << ";";
  for (const std::string &A : C.LinkArgs)
    OS << " " << A;
  OS << ")\n";
}

void dumpModuleCacheJSON(const ModuleCache &C, raw_ostream &OS) {
  auto Seg = [](const Segment &S) {
    return json::Object{{"type", S.Type},         {"flags", S.Flags},
                        {"vaddr", S.VAddr},       {"memsz", S.MemSize},
                        {"offset", S.Offset},     {"filesz", S.FileSize},
                        {"align", S.Align}};
  };
  json::Array Segments;
  for (const Segment &S : C.Image.Segments)
    Segments.push_back(Seg(S));
  json::Array OutSections;
  for (const OutputSection &S : C.Image.Sections)
    OutSections.push_back(json::Object{{"name", S.Name},       {"type", S.Type},
                                       {"flags", S.Flags},     {"address", S.Address},
                                       {"size", S.Size},       {"align", S.Align}});
  json::Object Image{{"kind", kindName(C.Image.Kind)},
                     {"sections", std::move(OutSections)},
                     {"build_id", toHex(C.Image.BuildId, true)},
                     {"entry", C.Image.Entry},
                     {"begin", C.Image.Begin},
                     {"end", C.Image.End},
                     {"patch_window_near", C.Image.PatchWindowNear},
                     {"patch_window_far", C.Image.PatchWindowFar},
                     {"segments", std::move(Segments)}};
  if (C.Image.HasTls)
    Image["tls"] = Seg(C.Image.Tls);

  json::Array Symbols;
  for (const Symbol &S : C.Symbols) {
    json::Object O{{"name", S.Name},       {"section", S.Section},
                   {"address", S.Address}, {"size", S.Size},
                   {"type", int(S.Kind)},  {"binding", int(S.Binding)},
                   {"visibility", S.Visibility}};
    if (S.File != Symbol::NoFile)
      O["file"] = fileName(C, S.File);
    Symbols.push_back(std::move(O));
  }
  json::Array Inputs;
  for (const InputFile &In : C.Inputs) {
    json::Array Sections;
    for (const InputSection &S : In.Sections)
      Sections.push_back(json::Object{{"name", S.Name},
                                      {"index", S.Index},
                                      {"type", S.Type},
                                      {"flags", S.Flags},
                                      {"size", S.Size},
                                      {"group", S.Group},
                                      {"hash", utohexstr(S.Hash, true, 16)}});
    Inputs.push_back(json::Object{{"path", In.Path},
                                  {"member", In.Member},
                                  {"hash", utohexstr(In.ContentHash, true, 16)},
                                  {"size", In.Size},
                                  {"sections", std::move(Sections)}});
  }
  json::Array Slots;
  for (const SlotRecord &S : C.Slots) {
    json::Object O{{"name", S.Name},
                   {"slot", S.SlotAddress},
                   {"body", S.BodyAddress},
                   {"symbol", S.SymbolAddress},
                   {"local", S.Local},
                   {"unpatched_copy", S.UnpatchedCopy}};
    if (S.File != Symbol::NoFile)
      O["file"] = fileName(C, S.File);
    Slots.push_back(std::move(O));
  }
  json::Array Comdats;
  for (const ComdatWinner &G : C.Comdats)
    Comdats.push_back(json::Object{{"signature", G.Signature}, {"input", G.Input}});
  json::Array Args;
  for (const std::string &A : C.LinkArgs)
    Args.push_back(A);
  json::Object Root{{"version", ModuleCache::Version},
                    {"output", C.Output},
                    {"image", std::move(Image)},
                    {"files", json::Array(C.Files)},
                    {"symbols", std::move(Symbols)},
                    {"inputs", std::move(Inputs)},
                    {"slots", std::move(Slots)},
                    {"comdats", std::move(Comdats)},
                    {"layouts", [&] {
                       json::Object L;
                       for (const auto &[Type, Layout] : C.Layouts)
                         L[Type] = Layout;
                       return L;
                     }()},
                    {"working_directory", C.WorkingDirectory},
                    {"link_args", std::move(Args)}};
  OS << formatv("{0:2}", json::Value(std::move(Root))) << "\n";
}

} // namespace hotpatch
