//===- BuildId.h - the GNU build-id of a linked image ---------------------===//
#ifndef HOTPATCH_CACHE_BUILDID_H
#define HOTPATCH_CACHE_BUILDID_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace hotpatch {

/// The NT_GNU_BUILD_ID of an ELF executable or shared library, read from its
/// program headers; empty if it has none. Errors name the file.
llvm::Expected<std::vector<uint8_t>> readImageBuildId(llvm::StringRef Path);

} // namespace hotpatch

#endif
