//===- ImageReader.h - what the cache says of the linked image ------------===//
//
// Reads the image lld wrote into a ModuleCache: its layout, every symbol
// with the file it came from, and the hot-function slots (ImageReader.cpp).
//
// Internal to the cache library.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_CACHE_IMAGEREADER_H
#define HOTPATCH_CACHE_IMAGEREADER_H

#include "ModuleCache.h"

#include "llvm/Object/ELF.h"
#include "llvm/Support/Error.h"

namespace hotpatch {

/// Fills C.Image, C.Files, C.Symbols and C.Slots from the linked image.
llvm::Error readImage(const llvm::object::ELFFile<llvm::object::ELF64LE> &Image,
                      ModuleCache &C);

} // namespace hotpatch

#endif
