//===- BuildId.cpp - the GNU build-id of a linked image -------------------===//
#include "BuildId.h"

#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELF.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {

Expected<std::vector<uint8_t>> readImageBuildId(StringRef Path) {
  auto Buf = MemoryBuffer::getFile(Path, /*IsText=*/false,
                                   /*RequiresNullTerminator=*/false);
  if (!Buf)
    return createStringError(Buf.getError(),
                             "cannot read '" + Path + "': " + Buf.getError().message());
  auto Obj = ELFFile<ELF64LE>::create((*Buf)->getBuffer());
  if (!Obj)
    return createStringError(inconvertibleErrorCode(),
                             "'" + Path + "' is not an ELF image: " +
                                 toString(Obj.takeError()));
  auto Phdrs = Obj->program_headers();
  if (!Phdrs)
    return createStringError(inconvertibleErrorCode(),
                             "'" + Path + "' has broken program headers: " +
                                 toString(Phdrs.takeError()));
  std::vector<uint8_t> Id;
  for (const auto &P : *Phdrs) {
    if (P.p_type != ELF::PT_NOTE)
      continue;
    Error Err = Error::success();
    for (const auto &Note : Obj->notes(P, Err))
      if (Note.getType() == ELF::NT_GNU_BUILD_ID && Note.getName() == "GNU") {
        ArrayRef<uint8_t> Desc = Note.getDesc(P.p_align);
        Id.assign(Desc.begin(), Desc.end());
      }
    if (Err)
      return createStringError(inconvertibleErrorCode(),
                               "'" + Path + "' has a broken note: " + toString(std::move(Err)));
  }
  return Id;
}

} // namespace hotpatch
