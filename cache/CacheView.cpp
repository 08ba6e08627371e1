//===- CacheView.cpp - read a HotpatchModuleCache where it lies -----------===//
#include "CacheView.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"

#include <algorithm>
#include <list>
#include <mutex>

using namespace llvm;

namespace hotpatch {
namespace cf = cacheformat;

namespace {

Error cacheError(StringRef Path, const Twine &What) {
  return createStringError(inconvertibleErrorCode(),
                           "module cache '" + Path + "' " + What +
                               "; relink the program with thinlink to "
                               "write a new one");
}

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

Expected<std::unique_ptr<CacheView>> CacheView::open(StringRef Path) {
  if (Error E = waitForCacheWriter(Path))
    return std::move(E);
  std::unique_ptr<CacheView> V(new CacheView);
  V->Path = Path.str();
  int FD;
  if (std::error_code EC = sys::fs::openFileForRead(Path, FD))
    return cacheError(Path, "cannot be read (" + EC.message() + ")");
  sys::fs::file_status St;
  if (std::error_code EC = sys::fs::status(FD, St)) {
    sys::Process::SafelyCloseFileDescriptor(FD);
    return cacheError(Path, "cannot be read (" + EC.message() + ")");
  }
  auto Buf = MemoryBuffer::getOpenFile(sys::fs::convertFDToNativeFile(FD), Path,
                                       St.getSize(), /*RequiresNullTerminator=*/false);
  sys::Process::SafelyCloseFileDescriptor(FD);
  if (!Buf)
    return cacheError(Path, "cannot be read (" + Buf.getError().message() + ")");
  V->Id = {St.getUniqueID().getDevice(), St.getUniqueID().getFile(), St.getSize(),
           int64_t(St.getLastModificationTime().time_since_epoch().count())};
  V->Buffer = std::move(*Buf);
  V->Data = reinterpret_cast<const uint8_t *>(V->Buffer->getBufferStart());
  V->Size = V->Buffer->getBufferSize();
  V->DE = DataExtractor(ArrayRef<uint8_t>(V->Data, V->Size), true, 8);
  if (Error E = V->check())
    return std::move(E);
  return std::move(V);
}

Error CacheView::check() {
  if (Size < 8 || memcmp(Data, ModuleCache::Magic, 8) != 0)
    return cacheError(Path, "is not a HotpatchModuleCache (bad magic)");
  if (Size < 16)
    return cacheError(Path, "is truncated (" + Twine(Size) +
                                " bytes, shorter than its header)");
  uint32_t Version = u32(cf::OffVersion);
  if (Version != ModuleCache::Version)
    return cacheError(Path, "has format version " + Twine(Version) +
                                ", this thinlink reads version " +
                                Twine(ModuleCache::Version));
  if (Size < cf::HeaderSize)
    return cacheError(Path, "is truncated (" + Twine(Size) +
                                " bytes, shorter than its header)");
  uint64_t FileSize = u64(uint64_t(cf::OffFileSize));
  if (FileSize > Size)
    return cacheError(Path, "is truncated (" + Twine(Size) + " bytes; its header says " +
                                Twine(FileSize) + ")");
  if (FileSize != Size)
    return cacheError(Path, "is corrupted (" + Twine(Size) + " bytes; its header says " +
                                Twine(FileSize) + ")");
  // The header's checksum first: it covers the directory and the block
  // checksums, so that a flipped bit there is reported as what it is.
  uint64_t HeadSize = u32(cf::OffHeadSize);
  if (HeadSize < cf::OffDirectory || HeadSize > Size)
    return cacheError(Path, "is corrupted (its header is malformed)");
  if (xxh3_64bits(ArrayRef<uint8_t>(Data + cf::OffTableCount, HeadSize - cf::OffTableCount)) !=
      u64(cf::OffChecksum))
    return cacheError(Path, "is corrupted (checksum mismatch)");

  // The directory: every table present once, inside the file, its size a
  // whole number of records.
  uint32_t Tables = u32(cf::OffTableCount);
  uint64_t DirEnd = cf::OffDirectory + uint64_t(Tables) * cf::DirEntrySize;
  if (Tables != cf::NumTables || DirEnd > HeadSize)
    return cacheError(Path, "is corrupted (its table directory is malformed)");
  static constexpr uint64_t RecordSize[NumIds] = {
      0, 1, 1, cf::StrRefSize, cf::SymbolSize, cf::IndexSize, cf::InputSize,
      cf::IndexSize, cf::SectionSize, cf::SlotSize, cf::IndexSize, cf::ComdatSize,
      cf::LayoutSize, cf::IndexSize, 8};
  for (uint32_t I = 0; I < Tables; ++I) {
    uint64_t At = cf::OffDirectory + I * cf::DirEntrySize;
    uint32_t Id = u32(At), N = u32(At + 4);
    uint64_t Off = u64(At + 8), Len = u64(At + 16);
    if (Id != I + 1 || Off > Size || Len > Size - Off ||
        (RecordSize[Id] > 1 && Len != uint64_t(N) * RecordSize[Id]))
      return cacheError(Path, "is corrupted (table " + Twine(I + 1) +
                                  " does not fit its directory entry)");
    Offset[Id] = Off;
    Bytes[Id] = Len;
    Count[Id] = N;
  }
  // The block checksums follow the directory; the tables follow them.
  TablesAt = Offset[cf::BlockSums] + Bytes[cf::BlockSums];
  NumBlocks = Count[cf::BlockSums];
  if (Offset[cf::BlockSums] != DirEnd || TablesAt != HeadSize ||
      NumBlocks != (Size - TablesAt + cf::BlockSize - 1) / cf::BlockSize)
    return cacheError(Path, "is corrupted (its block checksums are malformed)");
  for (uint32_t Id = 1; Id < NumIds; ++Id)
    if (Id != cf::BlockSums && Offset[Id] < TablesAt)
      return cacheError(Path, "is corrupted (table " + Twine(Id) +
                                  " overlaps the header)");
  BlockState.reset(new std::atomic<uint8_t>[NumBlocks]);
  for (uint64_t B = 0; B < NumBlocks; ++B)
    BlockState[B] = 0;
  // An input's sections lie inside the sections table (checked here once,
  // so that input() never has to).
  for (uint32_t I = 0; I < Count[cf::Inputs]; ++I) {
    uint64_t R = record(cf::Inputs, I, cf::InputSize);
    uint64_t First = u32(R + 32), N = u32(R + 36);
    if (corrupt())
      return corruption();
    if (First + N > Count[cf::Sections])
      return cacheError(Path, "is corrupted (input " + Twine(I) +
                                  "'s sections lie outside the section table)");
  }

  // The core: output, image, working directory, link arguments.
  uint64_t End = Offset[cf::Core] + Bytes[cf::Core];
  if (!touch(Offset[cf::Core], Bytes[cf::Core]))
    return corruption();
  DataExtractor Core(ArrayRef<uint8_t>(Data, End), true, 8);
  DataExtractor::Cursor C(Offset[cf::Core]);
  Output = readStr(Core, C);
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
  WorkingDirectory = readStr(Core, C);
  LinkArgs.resize(readCount(Core, C, 4, End));
  for (std::string &A : LinkArgs)
    A = readStr(Core, C);
  if (!C) {
    consumeError(C.takeError());
    return cacheError(Path, "is corrupted (malformed records)");
  }
  if (C.tell() != End)
    return cacheError(Path, "is corrupted (malformed records)");
  return Error::success();
}

bool CacheView::touch(uint64_t Off, uint64_t Len) const {
  if (Off < TablesAt || Len == 0 || Off >= Size)
    return true; // the header and directory are checked at open
  uint64_t First = (Off - TablesAt) / cf::BlockSize;
  uint64_t Last = (std::min(Off + Len, Size) - 1 - TablesAt) / cf::BlockSize;
  bool Good = true;
  for (uint64_t B = First; B <= Last && B < NumBlocks; ++B) {
    uint8_t State = BlockState[B].load(std::memory_order_relaxed);
    if (State == 0) {
      uint64_t At = TablesAt + B * cf::BlockSize;
      uint64_t Want = support::endian::read64le(Data + Offset[cf::BlockSums] + B * 8);
      bool Ok = xxh3_64bits(ArrayRef<uint8_t>(Data + At, std::min(cf::BlockSize, Size - At))) ==
                Want;
      State = Ok ? 1 : 2;
      BlockState[B].store(State, std::memory_order_relaxed);
      if (!Ok) {
        uint64_t None = NoBadBlock;
        FirstBadBlock.compare_exchange_strong(None, B);
      }
    }
    Good &= State == 1;
  }
  return Good;
}

Error CacheView::corruption() const {
  return cacheError(Path, "is corrupted (checksum mismatch in block " +
                              Twine(FirstBadBlock.load()) + ")");
}

uint64_t CacheView::record(TableId T, uint32_t I, uint64_t RecordSize) const {
  if (I >= Count[T])
    return 0;
  return Offset[T] + uint64_t(I) * RecordSize;
}

StringRef CacheView::str(uint64_t RefOffset) const {
  uint64_t Off = u32(RefOffset), Len = u32(RefOffset + 4);
  if (Off > Bytes[cf::Strings] || Len > Bytes[cf::Strings] - Off ||
      !touch(Offset[cf::Strings] + Off, Len))
    return StringRef();
  return StringRef(reinterpret_cast<const char *>(Data + Offset[cf::Strings] + Off), Len);
}

SmallVector<uint32_t, 2> CacheView::lookup(TableId Index, uint64_t Key) const {
  SmallVector<uint32_t, 2> Out;
  // Entries sorted by key: the first with this key, then all that follow.
  uint32_t Lo = 0, Hi = Count[Index];
  while (Lo < Hi) {
    uint32_t Mid = Lo + (Hi - Lo) / 2;
    if (u64(record(Index, Mid, cf::IndexSize)) < Key)
      Lo = Mid + 1;
    else
      Hi = Mid;
  }
  for (; Lo < Count[Index]; ++Lo) {
    uint64_t R = record(Index, Lo, cf::IndexSize);
    if (u64(R) != Key)
      break;
    Out.push_back(u32(R + 8));
  }
  return Out;
}

StringRef CacheView::file(uint32_t I) const {
  if (I >= Count[cf::Files])
    return StringRef();
  return str(record(cf::Files, I, cf::StrRefSize));
}

bool CacheView::hasFile(StringRef Name) const {
  for (uint32_t I = 0; I < Count[cf::Files]; ++I)
    if (file(I) == Name)
      return true;
  return false;
}

Symbol CacheView::symbol(uint32_t I) const {
  Symbol S;
  uint64_t R = record(cf::Symbols, I, cf::SymbolSize);
  if (!R)
    return S;
  S.Name = str(R).str();
  S.Section = str(R + 8).str();
  S.File = u32(R + 16);
  S.Kind = SymbolKind(u8(R + 20));
  S.Binding = SymbolBinding(u8(R + 21));
  S.Visibility = u8(R + 22);
  S.Address = u64(R + 24);
  S.Size = u64(R + 32);
  return S;
}

SmallVector<uint32_t, 1> CacheView::filesNamed(StringRef Name) const {
  SmallVector<uint32_t, 1> Out;
  for (uint32_t I = 0; I < Count[cf::Files]; ++I)
    if (file(I) == Name)
      Out.push_back(I);
  return Out;
}

SmallVector<Symbol, 2> CacheView::symbolsNamed(StringRef Name) const {
  SmallVector<Symbol, 2> Out;
  SmallVector<uint32_t, 2> Records = lookup(cf::SymbolIndex, cf::keyHash(Name));
  llvm::sort(Records);
  for (uint32_t I : Records)
    if (uint64_t R = record(cf::Symbols, I, cf::SymbolSize); R && str(R) == Name)
      Out.push_back(symbol(I));
  return Out;
}

uint32_t CacheView::lowerBound(TableId Index, uint64_t Key, uint32_t Aux, uint32_t Lo,
                               uint32_t Hi) const {
  while (Lo < Hi) {
    uint32_t Mid = Lo + (Hi - Lo) / 2;
    uint64_t R = record(Index, Mid, cf::IndexSize);
    uint64_t K = u64(R);
    if (K < Key || (K == Key && u32(R + 12) < Aux))
      Lo = Mid + 1;
    else
      Hi = Mid;
  }
  return Lo;
}

SmallVector<Symbol, 2> CacheView::symbolsNamed(StringRef Name,
                                               ArrayRef<uint32_t> LocalFiles) const {
  uint64_t Key = cf::keyHash(Name);
  uint32_t N = Count[cf::SymbolIndex];
  uint32_t Begin = lowerBound(cf::SymbolIndex, Key, 0, 0, N);
  uint32_t End = lowerBound(cf::SymbolIndex, Key + 1, 0, Begin, N);
  if (Key == ~0ull)
    End = N;
  SmallVector<uint32_t, 4> Records;
  // Globals and hidden locals: all of them.
  uint32_t Locals = lowerBound(cf::SymbolIndex, Key, cf::AuxLocal, Begin, End);
  for (uint32_t E = Begin; E < Locals; ++E)
    Records.push_back(u32(record(cf::SymbolIndex, E, cf::IndexSize) + 8));
  // Plain locals: those of the files asked for.
  for (uint32_t F : LocalFiles) {
    uint32_t Aux = cf::AuxLocal | std::min<uint32_t>(F, cf::AuxFileMask);
    for (uint32_t E = lowerBound(cf::SymbolIndex, Key, Aux, Locals, End); E < End; ++E) {
      uint64_t R = record(cf::SymbolIndex, E, cf::IndexSize);
      if (u32(R + 12) != Aux)
        break;
      Records.push_back(u32(R + 8));
    }
  }
  llvm::sort(Records);
  Records.erase(std::unique(Records.begin(), Records.end()), Records.end());
  SmallVector<Symbol, 2> Out;
  for (uint32_t I : Records)
    if (uint64_t R = record(cf::Symbols, I, cf::SymbolSize); R && str(R) == Name)
      Out.push_back(symbol(I));
  return Out;
}

InputSection CacheView::section(uint32_t I) const {
  InputSection S;
  uint64_t R = record(cf::Sections, I, cf::SectionSize);
  if (!R)
    return S;
  S.Name = str(R).str();
  S.Group = str(R + 8).str();
  S.Index = u32(R + 16);
  S.Type = u32(R + 20);
  S.Flags = u64(R + 24);
  S.Size = u64(R + 32);
  S.Hash = u64(R + 40);
  return S;
}

InputFile CacheView::input(uint32_t I, bool WithSections) const {
  InputFile In;
  uint64_t R = record(cf::Inputs, I, cf::InputSize);
  if (!R)
    return In;
  In.Path = str(R).str();
  In.Member = str(R + 8).str();
  In.ContentHash = u64(R + 16);
  In.Size = u64(R + 24);
  if (WithSections) {
    uint32_t First = u32(R + 32), N = u32(R + 36);
    In.Sections.reserve(N);
    for (uint32_t J = 0; J < N; ++J)
      In.Sections.push_back(section(First + J));
  }
  return In;
}

SmallVector<uint32_t, 1> CacheView::objectsAt(StringRef P) const {
  SmallVector<uint32_t, 1> Out;
  for (uint32_t I : lookup(cf::InputIndex, cf::keyHash(P)))
    if (uint64_t R = record(cf::Inputs, I, cf::InputSize);
        R && str(R) == P && str(R + 8).empty())
      Out.push_back(I);
  return Out;
}

SlotRecord CacheView::slot(uint32_t I) const {
  SlotRecord S;
  uint64_t R = record(cf::Slots, I, cf::SlotSize);
  if (!R)
    return S;
  S.Name = str(R).str();
  S.File = u32(R + 8);
  uint8_t Bits = u8(R + 12);
  S.Local = Bits & 1;
  S.UnpatchedCopy = Bits & 2;
  S.SlotAddress = u64(R + 16);
  S.BodyAddress = u64(R + 24);
  S.SymbolAddress = u64(R + 32);
  return S;
}

std::optional<SlotRecord> CacheView::slotAt(uint64_t SlotAddress) const {
  for (uint32_t I : lookup(cf::SlotIndex, SlotAddress)) {
    SlotRecord S = slot(I);
    if (S.SlotAddress == SlotAddress)
      return S;
  }
  return std::nullopt;
}

ComdatWinner CacheView::comdat(uint32_t I) const {
  ComdatWinner G;
  if (uint64_t R = record(cf::Comdats, I, cf::ComdatSize)) {
    G.Signature = str(R).str();
    G.Input = u32(R + 8);
  }
  return G;
}

std::pair<std::string, std::string> CacheView::layout(uint32_t I) const {
  uint64_t R = record(cf::Layouts, I, cf::LayoutSize);
  if (!R)
    return {};
  return {str(R).str(), str(R + 8).str()};
}

std::optional<StringRef> CacheView::layoutOf(StringRef Type) const {
  for (uint32_t I : lookup(cf::LayoutIndex, cf::keyHash(Type)))
    if (uint64_t R = record(cf::Layouts, I, cf::LayoutSize); R && str(R) == Type)
      return str(R + 8);
  return std::nullopt;
}

ModuleCache CacheView::decode() const {
  ModuleCache C;
  C.Output = Output;
  C.Image = Image;
  C.WorkingDirectory = WorkingDirectory;
  C.LinkArgs = LinkArgs;
  for (uint32_t I = 0; I < numFiles(); ++I)
    C.Files.push_back(file(I).str());
  C.Symbols.reserve(numSymbols());
  for (uint32_t I = 0; I < numSymbols(); ++I)
    C.Symbols.push_back(symbol(I));
  C.Inputs.reserve(numInputs());
  for (uint32_t I = 0; I < numInputs(); ++I)
    C.Inputs.push_back(input(I, /*WithSections=*/true));
  for (uint32_t I = 0; I < numSlots(); ++I)
    C.Slots.push_back(slot(I));
  for (uint32_t I = 0; I < numComdats(); ++I)
    C.Comdats.push_back(comdat(I));
  for (uint32_t I = 0; I < numLayouts(); ++I)
    C.Layouts.push_back(layout(I));
  return C;
}

Expected<std::shared_ptr<const CacheView>> openCacheView(StringRef Path) {
  // A few programs' caches at once (an executable and its libraries).
  static constexpr size_t Kept = 8;
  static std::mutex Lock;
  static std::list<std::shared_ptr<const CacheView>> Views; // most recent first
  if (Error E = waitForCacheWriter(Path))
    return std::move(E);
  sys::fs::file_status St;
  if (!sys::fs::status(Path, St)) {
    CacheView::Identity Now{St.getUniqueID().getDevice(), St.getUniqueID().getFile(),
                            St.getSize(),
                            int64_t(St.getLastModificationTime().time_since_epoch().count())};
    std::lock_guard<std::mutex> G(Lock);
    for (auto It = Views.begin(); It != Views.end(); ++It)
      if ((*It)->path() == Path && (*It)->identity() == Now) {
        Views.splice(Views.begin(), Views, It);
        return Views.front();
      }
  }
  auto V = CacheView::open(Path);
  if (!V)
    return V.takeError();
  std::shared_ptr<const CacheView> Shared = std::move(*V);
  std::lock_guard<std::mutex> G(Lock);
  Views.remove_if([&](const auto &O) { return O->path() == Path; });
  Views.push_front(Shared);
  if (Views.size() > Kept)
    Views.pop_back();
  return Shared;
}

} // namespace hotpatch
