//===- LineTable.h - the patch's source lines, for the runtime ------------===//
#ifndef HOTPATCH_PATCHLINK_LINETABLE_H
#define HOTPATCH_PATCHLINK_LINETABLE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace hotpatch {

/// The rows of the DWARF line tables of the ELF image lld linked for a patch
/// that lie in its executable segments, as the runtime's line table
/// (hotpatch/patch_format.h, HOTPATCH_LINES_SECTION), so that
/// hotpatch_describe_address() can name a file and line without reading
/// DWARF. Empty when the image has no line table in its code (built
/// without -g).
llvm::Expected<std::string> buildLineTable(llvm::StringRef Elf);

} // namespace hotpatch

#endif
