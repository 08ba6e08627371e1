//===- ModuleCache.cpp - read, write and show the HotpatchModuleCache -----===//
//
// Serialisation is a flat little-endian encoding of the structs in
// ModuleCache.h, compressed as one zstd frame. The header carries the
// uncompressed size and an xxh3 of the payload, so truncation and corruption
// are told apart from a version mismatch and reported as such.
//
//===----------------------------------------------------------------------===//
#include "ModuleCache.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
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
#include <zstd.h>

using namespace llvm;

namespace hotpatch {
namespace {

constexpr size_t HeaderSize = 32;

class Writer {
public:
  void u8(uint8_t V) { Buf.push_back(V); }
  void u32(uint32_t V) { put(V); }
  void u64(uint64_t V) { put(V); }
  void str(StringRef S) {
    u32(S.size());
    Buf.insert(Buf.end(), S.begin(), S.end());
  }
  void bytes(ArrayRef<uint8_t> B) {
    u32(B.size());
    Buf.insert(Buf.end(), B.begin(), B.end());
  }
  std::vector<uint8_t> Buf;

private:
  template <class T> void put(T V) {
    uint8_t Tmp[sizeof(T)];
    support::endian::write<T, llvm::endianness::little>(Tmp, V);
    Buf.insert(Buf.end(), Tmp, Tmp + sizeof(T));
  }
};

class Reader {
public:
  explicit Reader(ArrayRef<uint8_t> Data) : Data(Data) {}
  bool Failed = false;
  uint8_t u8() { return get<uint8_t>(); }
  uint32_t u32() { return get<uint32_t>(); }
  uint64_t u64() { return get<uint64_t>(); }
  std::string str() {
    uint32_t N = u32();
    if (Failed || Pos + N > Data.size())
      return fail(), std::string();
    std::string S(reinterpret_cast<const char *>(Data.data() + Pos), N);
    Pos += N;
    return S;
  }
  /// Skips a string without copying it.
  void skipStr() {
    uint32_t N = u32();
    if (Failed || Pos + N > Data.size())
      return fail();
    Pos += N;
  }
  void skip(size_t N) {
    if (Failed || Pos + N > Data.size())
      return fail();
    Pos += N;
  }
  std::vector<uint8_t> bytes() {
    std::string S = str();
    return std::vector<uint8_t>(S.begin(), S.end());
  }
  /// A count of records, each at least MinSize bytes: rejects counts that
  /// cannot fit, so a corrupt count cannot make us allocate gigabytes.
  uint32_t count(size_t MinSize) {
    uint32_t N = u32();
    if (Failed || uint64_t(N) * MinSize > Data.size() - Pos)
      return fail(), 0;
    return N;
  }
  bool atEnd() const { return Pos == Data.size(); }

private:
  template <class T> T get() {
    if (Failed || Pos + sizeof(T) > Data.size())
      return fail(), T();
    T V = support::endian::read<T, llvm::endianness::little>(Data.data() + Pos);
    Pos += sizeof(T);
    return V;
  }
  void fail() { Failed = true; }
  ArrayRef<uint8_t> Data;
  size_t Pos = 0;
};

void writeSegment(Writer &W, const Segment &S) {
  W.u32(S.Type);
  W.u32(S.Flags);
  W.u64(S.VAddr);
  W.u64(S.MemSize);
  W.u64(S.Offset);
  W.u64(S.FileSize);
  W.u64(S.Align);
}

Segment readSegment(Reader &R) {
  Segment S;
  S.Type = R.u32();
  S.Flags = R.u32();
  S.VAddr = R.u64();
  S.MemSize = R.u64();
  S.Offset = R.u64();
  S.FileSize = R.u64();
  S.Align = R.u64();
  return S;
}

std::vector<uint8_t> serialise(const ModuleCache &C) {
  Writer W;
  W.str(C.Output);
  const ImageLayout &I = C.Image;
  W.u8(uint8_t(I.Kind));
  W.bytes(I.BuildId);
  W.u64(I.Entry);
  W.u64(I.Begin);
  W.u64(I.End);
  W.u64(I.PatchWindowNear);
  W.u64(I.PatchWindowFar);
  W.u32(I.Segments.size());
  for (const Segment &S : I.Segments)
    writeSegment(W, S);
  W.u32(I.Sections.size());
  for (const OutputSection &S : I.Sections) {
    W.str(S.Name);
    W.u32(S.Type);
    W.u64(S.Flags);
    W.u64(S.Address);
    W.u64(S.Size);
    W.u64(S.Align);
  }
  W.u8(I.HasTls);
  writeSegment(W, I.Tls);

  W.u32(C.Files.size());
  for (const std::string &F : C.Files)
    W.str(F);

  W.u32(C.Symbols.size());
  for (const Symbol &S : C.Symbols) {
    W.str(S.Name);
    W.u32(S.File);
    W.str(S.Section);
    W.u64(S.Address);
    W.u64(S.Size);
    W.u8(uint8_t(S.Kind));
    W.u8(uint8_t(S.Binding));
    W.u8(S.Visibility);
  }

  W.u32(C.Inputs.size());
  for (const InputFile &In : C.Inputs) {
    W.str(In.Path);
    W.str(In.Member);
    W.u64(In.ContentHash);
    W.u64(In.Size);
    W.u32(In.Sections.size());
    for (const InputSection &S : In.Sections) {
      W.str(S.Name);
      W.u32(S.Index);
      W.u32(S.Type);
      W.u64(S.Flags);
      W.u64(S.Size);
      W.str(S.Group);
      W.u64(S.Hash);
    }
  }

  W.u32(C.Slots.size());
  for (const SlotRecord &S : C.Slots) {
    W.str(S.Name);
    W.u32(S.File);
    W.u64(S.SlotAddress);
    W.u64(S.BodyAddress);
    W.u64(S.SymbolAddress);
    W.u8(S.Local | (S.UnpatchedCopy << 1));
  }

  W.u32(C.Comdats.size());
  for (const ComdatWinner &G : C.Comdats) {
    W.str(G.Signature);
    W.u32(G.Input);
  }

  W.u32(C.Layouts.size());
  for (const auto &[Type, Layout] : C.Layouts) {
    W.str(Type);
    W.str(Layout);
  }

  W.str(C.WorkingDirectory);
  W.u32(C.LinkArgs.size());
  for (const std::string &A : C.LinkArgs)
    W.str(A);
  return std::move(W.Buf);
}

} // namespace

std::string memberKey(StringRef Member) {
  return ("member:" + sys::path::filename(Member)).str();
}

namespace {

bool deserialise(ArrayRef<uint8_t> Payload, ModuleCache &C,
                 const StringSet<> *KeepSectionsOf) {
  Reader R(Payload);
  C.Output = R.str();
  ImageLayout &I = C.Image;
  I.Kind = ImageKind(R.u8());
  I.BuildId = R.bytes();
  I.Entry = R.u64();
  I.Begin = R.u64();
  I.End = R.u64();
  I.PatchWindowNear = R.u64();
  I.PatchWindowFar = R.u64();
  I.Segments.resize(R.count(48));
  for (Segment &S : I.Segments)
    S = readSegment(R);
  I.Sections.resize(R.count(40));
  for (OutputSection &S : I.Sections) {
    S.Name = R.str();
    S.Type = R.u32();
    S.Flags = R.u64();
    S.Address = R.u64();
    S.Size = R.u64();
    S.Align = R.u64();
  }
  I.HasTls = R.u8();
  I.Tls = readSegment(R);

  C.Files.resize(R.count(4));
  for (std::string &F : C.Files)
    F = R.str();

  C.Symbols.resize(R.count(31));
  for (Symbol &S : C.Symbols) {
    S.Name = R.str();
    S.File = R.u32();
    S.Section = R.str();
    S.Address = R.u64();
    S.Size = R.u64();
    S.Kind = SymbolKind(R.u8());
    S.Binding = SymbolBinding(R.u8());
    S.Visibility = R.u8();
  }

  C.Inputs.resize(R.count(28));
  for (InputFile &In : C.Inputs) {
    In.Path = R.str();
    In.Member = R.str();
    In.ContentHash = R.u64();
    In.Size = R.u64();
    uint32_t NumSections = R.count(40);
    if (KeepSectionsOf && !KeepSectionsOf->contains(In.Path) &&
        !(!In.Member.empty() &&
          KeepSectionsOf->contains(memberKey(In.Member)))) {
      // Not asked for: step over the records without building them (a
      // thin link needs the sections of the objects it was given only).
      for (uint32_t I = 0; I < NumSections && !R.Failed; ++I) {
        R.skipStr();
        R.skip(4 + 4 + 8 + 8);
        R.skipStr();
        R.skip(8);
      }
      continue;
    }
    In.Sections.resize(NumSections);
    for (InputSection &S : In.Sections) {
      S.Name = R.str();
      S.Index = R.u32();
      S.Type = R.u32();
      S.Flags = R.u64();
      S.Size = R.u64();
      S.Group = R.str();
      S.Hash = R.u64();
    }
  }

  C.Slots.resize(R.count(33));
  for (SlotRecord &S : C.Slots) {
    S.Name = R.str();
    S.File = R.u32();
    S.SlotAddress = R.u64();
    S.BodyAddress = R.u64();
    S.SymbolAddress = R.u64();
    uint8_t Bits = R.u8();
    S.Local = Bits & 1;
    S.UnpatchedCopy = Bits & 2;
  }

  C.Comdats.resize(R.count(8));
  for (ComdatWinner &G : C.Comdats) {
    G.Signature = R.str();
    G.Input = R.u32();
  }

  C.Layouts.resize(R.count(8));
  for (auto &[Type, Layout] : C.Layouts) {
    Type = R.str();
    Layout = R.str();
  }

  C.WorkingDirectory = R.str();
  C.LinkArgs.resize(R.count(4));
  for (std::string &A : C.LinkArgs)
    A = R.str();
  return !R.Failed && R.atEnd();
}

Error cacheError(StringRef Path, const Twine &What) {
  return createStringError(inconvertibleErrorCode(),
                           "module cache '" + Path + "' " + What +
                               "; relink the program with thinlink to "
                               "write a new one");
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
  std::vector<uint8_t> Payload = serialise(C);
  size_t Bound = ZSTD_compressBound(Payload.size());
  std::vector<uint8_t> File(HeaderSize + Bound);
  // Level 1, and both cores when the library can: the cache is written on
  // every link and read on every patch.
  ZSTD_CCtx *CCtx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(CCtx, ZSTD_c_compressionLevel, 1);
  ZSTD_CCtx_setParameter(CCtx, ZSTD_c_contentSizeFlag, 1);
  if (Payload.size() > (1u << 20))
    ZSTD_CCtx_setParameter(CCtx, ZSTD_c_nbWorkers, 2); // ignored without MT
  size_t N = ZSTD_compress2(CCtx, File.data() + HeaderSize, Bound, Payload.data(),
                            Payload.size());
  ZSTD_freeCCtx(CCtx);
  if (ZSTD_isError(N))
    return createStringError(inconvertibleErrorCode(),
                             Twine("cannot compress the module cache: ") +
                                 ZSTD_getErrorName(N));
  File.resize(HeaderSize + N);
  memcpy(File.data(), ModuleCache::Magic, 8);
  support::endian::write32le(File.data() + 8, ModuleCache::Version);
  support::endian::write32le(File.data() + 12, 0);
  support::endian::write64le(File.data() + 16, Payload.size());
  support::endian::write64le(File.data() + 24, xxh3_64bits(Payload));

  return writeFileAtomically(Path, [&](raw_ostream &OS) {
    OS.write(reinterpret_cast<const char *>(File.data()), File.size());
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

Expected<ModuleCache> readModuleCache(StringRef Path,
                                      const StringSet<> *KeepSectionsOf) {
  if (Error E = waitForCacheWriter(Path))
    return std::move(E);
  auto BufOrErr = MemoryBuffer::getFile(Path, /*IsText=*/false,
                                        /*RequiresNullTerminator=*/false);
  if (!BufOrErr)
    return cacheError(Path, "cannot be read (" + BufOrErr.getError().message() +
                                ")");
  ArrayRef<uint8_t> Data(
      reinterpret_cast<const uint8_t *>((*BufOrErr)->getBufferStart()),
      (*BufOrErr)->getBufferSize());
  if (Data.size() < 8 || memcmp(Data.data(), ModuleCache::Magic, 8) != 0)
    return cacheError(Path, "is not a HotpatchModuleCache (bad magic)");
  if (Data.size() < HeaderSize)
    return cacheError(Path, "is truncated (" + Twine(Data.size()) +
                                " bytes, shorter than its header)");
  uint32_t Version = support::endian::read32le(Data.data() + 8);
  if (Version != ModuleCache::Version)
    return cacheError(Path, "has format version " + Twine(Version) +
                                ", this thinlink reads version " +
                                Twine(ModuleCache::Version));
  uint64_t PayloadSize = support::endian::read64le(Data.data() + 16);
  uint64_t Expected = support::endian::read64le(Data.data() + 24);
  ArrayRef<uint8_t> Frame = Data.drop_front(HeaderSize);
  unsigned long long FrameContent =
      ZSTD_getFrameContentSize(Frame.data(), Frame.size());
  // A zstd frame header is at most 18 bytes; one cut inside it is a
  // truncated file, not a corrupted one.
  if (FrameContent == ZSTD_CONTENTSIZE_ERROR && Frame.size() < 18 &&
      (Frame.size() < 4 || support::endian::read32le(Frame.data()) == 0xFD2FB528u))
    return cacheError(Path, "is truncated (" + Twine(Data.size()) +
                                " bytes; the compressed frame is cut short)");
  if (FrameContent == ZSTD_CONTENTSIZE_ERROR ||
      FrameContent == ZSTD_CONTENTSIZE_UNKNOWN || FrameContent != PayloadSize)
    return cacheError(Path, "is corrupted (its compressed frame does not "
                            "match its header)");
  size_t FrameSize = ZSTD_findFrameCompressedSize(Frame.data(), Frame.size());
  if (ZSTD_isError(FrameSize))
    return cacheError(Path, "is truncated (" + Twine(Data.size()) +
                                " bytes; the compressed frame is cut short)");
  // Uninitialised: decompression writes every byte.
  std::unique_ptr<uint8_t[]> PayloadBuf(new uint8_t[PayloadSize]);
  ArrayRef<uint8_t> Payload(PayloadBuf.get(), PayloadSize);
  size_t N = ZSTD_decompress(PayloadBuf.get(), PayloadSize, Frame.data(), FrameSize);
  if (ZSTD_isError(N) || N != PayloadSize)
    return cacheError(Path, Twine("is corrupted (") +
                                (ZSTD_isError(N) ? ZSTD_getErrorName(N)
                                                 : "short frame") +
                                ")");
  if (xxh3_64bits(Payload) != Expected)
    return cacheError(Path, "is corrupted (checksum mismatch)");
  ModuleCache C;
  if (!deserialise(Payload, C, KeepSectionsOf))
    return cacheError(Path, "is corrupted (malformed records)");
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
