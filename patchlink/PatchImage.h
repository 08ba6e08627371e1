//===- PatchImage.h - the linked patch, reduced to what is loaded ---------===//
#ifndef HOTPATCH_PATCHLINK_PATCHIMAGE_H
#define HOTPATCH_PATCHLINK_PATCHIMAGE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace hotpatch {

/// The ELF image lld wrote for a patch, keeping only what the runtime reads:
/// the program headers and the bytes of the loaded segments, the section
/// headers of the sections inside them (.eh_frame, .dynamic, ...), and a
/// symbol table of the symbols the patch defines. The program's unchanged
/// sections that the patch link placed at their running addresses (ghosts)
/// and their symbols are left out: a patch's size follows the edit, not
/// the object it came from. Its debug sections are kept, unloaded, for
/// debuggers, and `Lines` (LineTable.h), when not empty, becomes its
/// HOTPATCH_LINES_SECTION.
llvm::Expected<std::string> compactPatchImage(llvm::StringRef Elf, llvm::StringRef Lines = {});

} // namespace hotpatch

#endif
