//===- CacheMapping.cpp - map a HotpatchModuleCache and check it ----------===//
//
// Opening a cache: the file mapped, its identity taken, then the header, the
// header's checksum (which covers the directory and the block checksums) and
// the table directory checked, each failure named for what it is. The
// blocks of the tables are checked later, one at a time, by touch().
//
//===----------------------------------------------------------------------===//
#include "CacheMapping.h"
#include "ModuleCache.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/xxhash.h"

#include <algorithm>
#include <cstring>

using namespace llvm;

namespace hotpatch {
namespace cf = cacheformat;

Error CacheMapping::error(const Twine &What) const {
  return createStringError(inconvertibleErrorCode(),
                           "module cache '" + Path + "' " + What +
                               "; relink the program with thinlink to "
                               "write a new one");
}

Error CacheMapping::open(StringRef P) {
  Path = P.str();
  int FD;
  if (std::error_code EC = sys::fs::openFileForRead(Path, FD))
    return error("cannot be read (" + EC.message() + ")");
  sys::fs::file_status St;
  if (std::error_code EC = sys::fs::status(FD, St)) {
    sys::Process::SafelyCloseFileDescriptor(FD);
    return error("cannot be read (" + EC.message() + ")");
  }
  auto Buf = MemoryBuffer::getOpenFile(sys::fs::convertFDToNativeFile(FD), Path,
                                       St.getSize(), /*RequiresNullTerminator=*/false);
  sys::Process::SafelyCloseFileDescriptor(FD);
  if (!Buf)
    return error("cannot be read (" + Buf.getError().message() + ")");
  Id = {St.getUniqueID().getDevice(), St.getUniqueID().getFile(), St.getSize(),
        int64_t(St.getLastModificationTime().time_since_epoch().count())};
  Buffer = std::move(*Buf);
  Data = reinterpret_cast<const uint8_t *>(Buffer->getBufferStart());
  Size = Buffer->getBufferSize();
  return check();
}

Error CacheMapping::check() {
  if (Size < 8 || memcmp(Data, ModuleCache::Magic, 8) != 0)
    return error("is not a HotpatchModuleCache (bad magic)");
  if (Size < 16)
    return error("is truncated (" + Twine(Size) +
                 " bytes, shorter than its header)");
  uint32_t Version = u32(cf::OffVersion);
  if (Version != ModuleCache::Version)
    return error("has format version " + Twine(Version) +
                 ", this thinlink reads version " +
                 Twine(ModuleCache::Version));
  if (Size < cf::HeaderSize)
    return error("is truncated (" + Twine(Size) +
                 " bytes, shorter than its header)");
  uint64_t FileSize = u64(uint64_t(cf::OffFileSize));
  if (FileSize > Size)
    return error("is truncated (" + Twine(Size) + " bytes; its header says " +
                 Twine(FileSize) + ")");
  if (FileSize != Size)
    return error("is corrupted (" + Twine(Size) + " bytes; its header says " +
                 Twine(FileSize) + ")");
  // The header's checksum first: it covers the directory and the block
  // checksums, so that a flipped bit there is reported as what it is.
  uint64_t HeadSize = u32(cf::OffHeadSize);
  if (HeadSize < cf::OffDirectory || HeadSize > Size)
    return error("is corrupted (its header is malformed)");
  if (xxh3_64bits(ArrayRef<uint8_t>(Data + cf::OffTableCount, HeadSize - cf::OffTableCount)) !=
      u64(cf::OffChecksum))
    return error("is corrupted (checksum mismatch)");

  // The directory: every table present once, inside the file, its size a
  // whole number of records.
  uint32_t Tables = u32(cf::OffTableCount);
  uint64_t DirEnd = cf::OffDirectory + uint64_t(Tables) * cf::DirEntrySize;
  if (Tables != cf::NumTables || DirEnd > HeadSize)
    return error("is corrupted (its table directory is malformed)");
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
      return error("is corrupted (table " + Twine(I + 1) +
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
    return error("is corrupted (its block checksums are malformed)");
  for (uint32_t Id = 1; Id < NumIds; ++Id)
    if (Id != cf::BlockSums && Offset[Id] < TablesAt)
      return error("is corrupted (table " + Twine(Id) +
                   " overlaps the header)");
  BlockState.reset(new std::atomic<uint8_t>[NumBlocks]);
  for (uint64_t B = 0; B < NumBlocks; ++B)
    BlockState[B] = 0;
  return Error::success();
}

bool CacheMapping::touch(uint64_t Off, uint64_t Len) const {
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

Error CacheMapping::corruption() const {
  return error("is corrupted (checksum mismatch in block " +
               Twine(FirstBadBlock.load()) + ")");
}

} // namespace hotpatch
