//===- DevPatch.h - hotpatch dev's thin links ------------------------------===//
//
// What links: the rebuilt objects, grouped by the image each was linked
// into (the program, or a shared library of the build), thin-linked in
// process into one patch per image; and the words of the line that says
// what a patch changed. It neither compiles nor talks to processes.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_DEVPATCH_H
#define HOTPATCH_TOOLS_DEVPATCH_H

#include "DevImages.h"
#include "PatchLinker.h"

#include <string>
#include <vector>

namespace hotpatch {

struct MadePatch {
  const BuildImage *Image;
  PatchOptions Options;
  PatchResult Result;
};

struct DevLinkResult {
  bool Ok = true;
  std::string Error;            // the thin link's refusal
  std::string Refused;          // " libx.so" when a library's patch was refused, else ""
  std::vector<MadePatch> Made;  // images with something to patch
  std::vector<std::string> Warnings, Notes;
};

/// Thin-links Objects into .hotpatch/patch-<N>[-<library>].hpp under
/// BuildDir. An object no image of Images lists goes to the program
/// (Images' first, or Program when the build's images could not be read),
/// whose thin link says why it cannot be patched.
DevLinkResult linkPatches(const std::vector<std::string> &Objects,
                          const std::vector<BuildImage> &Images, const BuildImage &Program,
                          const std::string &BuildDir, unsigned N);

/// "f(int), g() (new) (with 3 library functions) in libx.so": what the user
/// changed, not the library code that came along.
std::string describePatch(const MadePatch &M);

} // namespace hotpatch

#endif
