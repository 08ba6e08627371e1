//===- DevImages.h - the images of a build and the objects in each --------===//
#ifndef HOTPATCH_TOOLS_DEVIMAGES_H
#define HOTPATCH_TOOLS_DEVIMAGES_H

#include "llvm/ADT/StringRef.h"

#include <set>
#include <string>
#include <vector>

namespace hotpatch {

/// An image thinlink linked in the build (the program or a shared library)
/// and the objects it was linked from.
struct BuildImage {
  std::string Path;  // the image file (its cache is beside it)
  bool Library = false;
  std::set<std::string> Objects;     // plain objects and thin-archive members
  std::set<std::string> MemberNames; // file names of regular-archive members
};

/// The program first, then every other image whose module cache lies in
/// `BuildDir` (shared libraries and modules of the build). Images whose
/// cache cannot be read are left out: patches for them are refused.
std::vector<BuildImage> findBuildImages(llvm::StringRef BuildDir, llvm::StringRef Program);

/// The images linked from `Object` (absolute path): usually one; a static
/// library linked into a shared library and the program gives two.
std::vector<const BuildImage *> imagesOf(const std::vector<BuildImage> &Images,
                                         llvm::StringRef Object);

} // namespace hotpatch

#endif
