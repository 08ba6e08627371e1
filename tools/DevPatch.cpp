//===- DevPatch.cpp - hotpatch dev's thin links ----------------------------===//
#include "DevPatch.h"

#include "llvm/Demangle/Demangle.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>

using namespace llvm;

namespace hotpatch {

DevLinkResult linkPatches(const std::vector<std::string> &Objects,
                          const std::vector<BuildImage> &Images, const BuildImage &Program,
                          const std::string &BuildDir, unsigned N) {
  // Each object patches the image it was linked into: usually one; a static
  // library linked into a shared library and the program gives two.
  std::vector<std::pair<const BuildImage *, std::vector<std::string>>> ByImage;
  for (const std::string &O : Objects) {
    std::vector<const BuildImage *> Owners = imagesOf(Images, O);
    if (Owners.empty())
      Owners.push_back(Images.empty() ? &Program : &Images.front());
    for (const BuildImage *I : Owners) {
      auto It = std::find_if(ByImage.begin(), ByImage.end(),
                             [&](const auto &E) { return E.first == I; });
      if (It == ByImage.end())
        ByImage.push_back({I, {}}), It = ByImage.end() - 1;
      It->second.push_back(O);
    }
  }
  DevLinkResult L;
  sys::fs::create_directories(BuildDir + "/.hotpatch");
  for (auto &[Image, Objs] : ByImage) {
    PatchOptions P;
    P.Base = Image->Path;
    P.Output = BuildDir + "/.hotpatch/patch-" + std::to_string(N) +
               (Image->Library ? "-" + sys::path::filename(Image->Path).str() : "") + ".hpp";
    P.Objects = Objs;
    PatchResult R = buildPatch(P);
    if (!R.Ok) {
      L.Ok = false;
      L.Error = R.Error;
      L.Refused = Image->Library ? " " + sys::path::filename(Image->Path).str() : "";
      return L;
    }
    for (const std::string &Note : R.Notes)
      L.Notes.push_back(Note);
    for (const std::string &Name : R.NotHot)
      L.Warnings.push_back(demangle(Name) + " is not hot: only calls from patched code and "
                                            "hotpatch_current() reach the new version");
    if (!R.NothingToPatch)
      L.Made.push_back({Image, std::move(P), std::move(R)});
  }
  return L;
}

std::string describePatch(const MadePatch &M) {
  const PatchResult &R = M.Result;
  std::vector<std::string> Names;
  for (const std::string &N : R.Changed)
    Names.push_back(demangle(N));
  for (const std::string &N : R.Added)
    Names.push_back(demangle(N) + " (new)");
  if (Names.empty() && !R.Library.empty())
    Names.push_back(std::to_string(R.Library.size()) + " library functions");
  std::string List;
  for (size_t I = 0; I < Names.size() && I < 4; ++I)
    List += (I ? ", " : "") + Names[I];
  if (Names.size() > 4)
    List += " and " + std::to_string(Names.size() - 4) + " more";
  if ((!R.Changed.empty() || !R.Added.empty()) && !R.Library.empty())
    List += " (with " + std::to_string(R.Library.size()) + " library functions)";
  if (M.Image->Library)
    List += " in " + sys::path::filename(M.Image->Path).str();
  return List;
}

} // namespace hotpatch
