//===- CacheRecords.cpp - decode the records of a HotpatchModuleCache -----===//
//
// The core stream is read with a DataExtractor whose cursor fails on the
// first read past the stream's end, and whose counts are refused when their
// records could not fit (a corrupt count cannot make the reader allocate
// gigabytes). The tables' records are read field by field through the
// mapping's bounds-checked reads.
//
//===----------------------------------------------------------------------===//
#include "CacheRecords.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/DataExtractor.h"

#include <algorithm>

using namespace llvm;

namespace hotpatch {
namespace cf = cacheformat;

namespace {

Segment readSegment(DataExtractor &DE, DataExtractor::Cursor &C) {
  Segment S;
  S.Type = DE.getU32(C);
  S.Flags = DE.getU32(C);
  S.VAddr = DE.getU64(C);
  S.MemSize = DE.getU64(C);
  S.Offset = DE.getU64(C);
  S.FileSize = DE.getU64(C);
  S.Align = DE.getU64(C);
  return S;
}

std::string readStr(DataExtractor &DE, DataExtractor::Cursor &C) {
  uint32_t N = DE.getU32(C);
  return DE.getBytes(C, N).str();
}

/// A count read from the file, refused when its records could not fit in
/// what is left (so a corrupt count cannot make the reader allocate
/// gigabytes).
uint32_t readCount(DataExtractor &DE, DataExtractor::Cursor &C,
                   uint64_t MinRecord, uint64_t End) {
  uint32_t N = DE.getU32(C);
  if (C && uint64_t(N) * MinRecord > End - std::min(End, C.tell())) {
    // Make the cursor fail: read past the end.
    DE.skip(C, End + 1);
    return 0;
  }
  return N;
}

} // namespace

Error CacheRecords::checkInputs() const {
  for (uint32_t I = 0; I < Map.count(cf::Inputs); ++I) {
    uint64_t R = Map.record(cf::Inputs, I, cf::InputSize);
    uint64_t First = Map.u32(R + 32), N = Map.u32(R + 36);
    if (Map.corrupt())
      return Map.corruption();
    if (First + N > Map.count(cf::Sections))
      return Map.error("is corrupted (input " + Twine(I) +
                       "'s sections lie outside the section table)");
  }
  return Error::success();
}

Error CacheRecords::readCore(CacheCore &Out) const {
  uint64_t End = Map.offset(cf::Core) + Map.bytes(cf::Core);
  if (!Map.touch(Map.offset(cf::Core), Map.bytes(cf::Core)))
    return Map.corruption();
  DataExtractor Core(ArrayRef<uint8_t>(Map.data(), End), true, 8);
  DataExtractor::Cursor C(Map.offset(cf::Core));
  Out.Output = readStr(Core, C);
  ImageLayout &Image = Out.Image;
  Image.Kind = ImageKind(Core.getU8(C));
  std::string Id = readStr(Core, C);
  Image.BuildId.assign(Id.begin(), Id.end());
  Image.Entry = Core.getU64(C);
  Image.Begin = Core.getU64(C);
  Image.End = Core.getU64(C);
  Image.PatchWindowNear = Core.getU64(C);
  Image.PatchWindowFar = Core.getU64(C);
  Image.Segments.resize(readCount(Core, C, 48, End));
  for (Segment &S : Image.Segments)
    S = readSegment(Core, C);
  Image.Sections.resize(readCount(Core, C, 40, End));
  for (OutputSection &S : Image.Sections) {
    S.Name = readStr(Core, C);
    S.Type = Core.getU32(C);
    S.Flags = Core.getU64(C);
    S.Address = Core.getU64(C);
    S.Size = Core.getU64(C);
    S.Align = Core.getU64(C);
  }
  Image.HasTls = Core.getU8(C);
  Image.Tls = readSegment(Core, C);
  Out.WorkingDirectory = readStr(Core, C);
  Out.LinkArgs.resize(readCount(Core, C, 4, End));
  for (std::string &A : Out.LinkArgs)
    A = readStr(Core, C);
  if (!C) {
    consumeError(C.takeError());
    return Map.error("is corrupted (malformed records)");
  }
  if (C.tell() != End)
    return Map.error("is corrupted (malformed records)");
  return Error::success();
}

StringRef CacheRecords::file(uint32_t I) const {
  if (I >= Map.count(cf::Files))
    return StringRef();
  return Map.str(Map.record(cf::Files, I, cf::StrRefSize));
}

Symbol CacheRecords::symbol(uint32_t I) const {
  Symbol S;
  uint64_t R = Map.record(cf::Symbols, I, cf::SymbolSize);
  if (!R)
    return S;
  S.Name = Map.str(R).str();
  S.Section = Map.str(R + 8).str();
  S.File = Map.u32(R + 16);
  S.Kind = SymbolKind(Map.u8(R + 20));
  S.Binding = SymbolBinding(Map.u8(R + 21));
  S.Visibility = Map.u8(R + 22);
  S.Address = Map.u64(R + 24);
  S.Size = Map.u64(R + 32);
  return S;
}

InputSection CacheRecords::section(uint32_t I) const {
  InputSection S;
  uint64_t R = Map.record(cf::Sections, I, cf::SectionSize);
  if (!R)
    return S;
  S.Name = Map.str(R).str();
  S.Group = Map.str(R + 8).str();
  S.Index = Map.u32(R + 16);
  S.Type = Map.u32(R + 20);
  S.Flags = Map.u64(R + 24);
  S.Size = Map.u64(R + 32);
  S.Hash = Map.u64(R + 40);
  return S;
}

InputFile CacheRecords::input(uint32_t I, bool WithSections) const {
  InputFile In;
  uint64_t R = Map.record(cf::Inputs, I, cf::InputSize);
  if (!R)
    return In;
  In.Path = Map.str(R).str();
  In.Member = Map.str(R + 8).str();
  In.ContentHash = Map.u64(R + 16);
  In.Size = Map.u64(R + 24);
  if (WithSections) {
    uint32_t First = Map.u32(R + 32), N = Map.u32(R + 36);
    In.Sections.reserve(N);
    for (uint32_t J = 0; J < N; ++J)
      In.Sections.push_back(section(First + J));
  }
  return In;
}

SlotRecord CacheRecords::slot(uint32_t I) const {
  SlotRecord S;
  uint64_t R = Map.record(cf::Slots, I, cf::SlotSize);
  if (!R)
    return S;
  S.Name = Map.str(R).str();
  S.File = Map.u32(R + 8);
  uint8_t Bits = Map.u8(R + 12);
  S.Local = Bits & 1;
  S.UnpatchedCopy = Bits & 2;
  S.SlotAddress = Map.u64(R + 16);
  S.BodyAddress = Map.u64(R + 24);
  S.SymbolAddress = Map.u64(R + 32);
  return S;
}

ComdatWinner CacheRecords::comdat(uint32_t I) const {
  ComdatWinner G;
  if (uint64_t R = Map.record(cf::Comdats, I, cf::ComdatSize)) {
    G.Signature = Map.str(R).str();
    G.Input = Map.u32(R + 8);
  }
  return G;
}

std::pair<std::string, std::string> CacheRecords::layout(uint32_t I) const {
  uint64_t R = Map.record(cf::Layouts, I, cf::LayoutSize);
  if (!R)
    return {};
  return {Map.str(R).str(), Map.str(R + 8).str()};
}

} // namespace hotpatch
