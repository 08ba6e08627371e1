//===- DevImages.cpp - the images of a build and the objects in each ------===//
//
// hotpatch dev patches the image each rebuilt object came from: the
// program, or the shared library (linked at start or loaded with dlopen)
// that was linked from it. The module caches beside the images say which
// objects each was linked from.
//
//===----------------------------------------------------------------------===//
#include "DevImages.h"
#include "CacheView.h"
#include "ModuleCache.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace hotpatch {

static bool readImage(StringRef CachePath, BuildImage &Out) {
  auto C = openCacheView(CachePath);
  if (!C) {
    consumeError(C.takeError());
    return false;
  }
  Out.Path = (*C)->output();
  Out.Library = (*C)->image().Kind == ImageKind::SharedLibrary;
  for (uint32_t I = 0; I < (*C)->numInputs(); ++I) {
    InputFile In = (*C)->input(I, /*WithSections=*/false);
    if (In.Member.empty()) {
      Out.Objects.insert(In.Path);
    } else if (StringRef(In.Member).contains('/')) {
      SmallString<256> Dir(sys::path::parent_path(In.Path));
      Out.Objects.insert(absolutePath(In.Member, Dir));
    } else {
      Out.MemberNames.insert(std::string(sys::path::filename(In.Member)));
    }
  }
  return true;
}

std::vector<BuildImage> findBuildImages(StringRef BuildDir, StringRef Program) {
  std::vector<BuildImage> Images;
  std::string ProgramCache = cachePathFor(Program);
  if (Error E = waitForCacheWriter(ProgramCache))
    consumeError(std::move(E));
  BuildImage Main;
  if (readImage(ProgramCache, Main))
    Images.push_back(std::move(Main));
  std::error_code EC;
  for (sys::fs::recursive_directory_iterator It(BuildDir, EC), End; It != End && !EC;
       It.increment(EC)) {
    StringRef P = It->path();
    StringRef Name = sys::path::filename(P);
    if (Name == ".hotpatch" || Name == "CMakeFiles" || Name == ".git") {
      It.no_push();
      continue;
    }
    if (!Name.ends_with(".hpcache") || P == ProgramCache)
      continue;
    if (Error E = waitForCacheWriter(P))
      consumeError(std::move(E));
    BuildImage I;
    if (readImage(P, I) && I.Library)
      Images.push_back(std::move(I));
  }
  return Images;
}

std::vector<const BuildImage *> imagesOf(const std::vector<BuildImage> &Images,
                                         StringRef Object) {
  std::vector<const BuildImage *> Found;
  std::string Name = std::string(sys::path::filename(Object));
  for (const BuildImage &I : Images)
    if (I.Objects.count(std::string(Object)) || I.MemberNames.count(Name))
      Found.push_back(&I);
  return Found;
}

} // namespace hotpatch
