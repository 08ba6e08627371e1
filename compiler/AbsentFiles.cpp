//===- AbsentFiles.cpp - the paths a preamble looked for and did not find -===//
#include "AbsentFiles.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

using namespace llvm;

namespace hotpatch {

namespace {
bool isAbsence(std::error_code EC) {
  return EC == std::errc::no_such_file_or_directory || EC == std::errc::not_a_directory;
}
} // namespace

void AbsentFileRecorder::noteFailure(const Twine &Path, std::error_code EC) {
  // Another failure (EACCES, ELOOP) is an error of the preamble's build,
  // which is then not kept: only absence is a state a later lookup compares.
  if (!isAbsence(EC))
    return;
  SmallString<256> P;
  Path.toVector(P);
  // Relative names resolve in the command's directory, the working directory
  // of the file system below.
  if (getUnderlyingFS().makeAbsolute(P))
    return;
  if (Seen.insert(P).second)
    Paths.push_back(std::string(P));
}

ErrorOr<vfs::Status> AbsentFileRecorder::status(const Twine &Path) {
  ErrorOr<vfs::Status> S = ProxyFileSystem::status(Path);
  if (!S)
    noteFailure(Path, S.getError());
  return S;
}

ErrorOr<std::unique_ptr<vfs::File>> AbsentFileRecorder::openFileForRead(const Twine &Path) {
  ErrorOr<std::unique_ptr<vfs::File>> F = ProxyFileSystem::openFileForRead(Path);
  if (!F)
    noteFailure(Path, F.getError());
  return F;
}

std::vector<std::string> AbsentFileRecorder::take() {
  Seen.clear();
  return std::move(Paths);
}

namespace {
/// A path that exists now, or whose lookup fails otherwise than by absence
/// (the preprocessor would stop there with an error, so the compile without
/// the preamble says which): "" when it is still absent.
std::string noLongerAbsent(const std::string &P) {
  struct stat St;
  if (::stat(P.c_str(), &St) == 0)
    return P + " exists now";
  if (errno != ENOENT && errno != ENOTDIR)
    return P + ": " + std::strerror(errno);
  return "";
}

int64_t ns(const timespec &T) { return int64_t(T.tv_sec) * 1000000000 + T.tv_nsec; }

/// A directory whose status changed less than this before the build started
/// may change again within the file system's timestamp granularity.
constexpr int64_t RacyNs = 2000000000;
} // namespace

AbsentFiles::AbsentFiles(std::vector<std::string> Paths, int64_t BuiltAfterNs)
    : Count(Paths.size()) {
  StringMap<size_t> Index;
  for (std::string &P : Paths) {
    // The parent as written, dots kept: the directory the kernel looks the
    // name up in.
    StringRef Parent = sys::path::parent_path(P);
    auto [It, New] = Index.try_emplace(Parent, Dirs.size());
    if (New) {
      Dir D;
      D.Path = Parent.str();
      struct stat St;
      if (::stat(D.Path.c_str(), &St) == 0) {
        D.Existed = true;
        D.Dev = St.st_dev;
        D.Ino = St.st_ino;
        D.MtimeNs = ns(St.st_mtim);
        D.CtimeNs = ns(St.st_ctim);
        D.Settled = D.CtimeNs < BuiltAfterNs - RacyNs;
      } else {
        D.Settled = errno == ENOENT || errno == ENOTDIR;
      }
      Dirs.push_back(std::move(D));
    }
    Dirs[It->second].Paths.push_back(std::move(P));
  }
}

std::string AbsentFiles::firstNoLongerAbsent() const {
  for (const Dir &D : Dirs) {
    if (D.Settled) {
      struct stat St;
      int R = ::stat(D.Path.c_str(), &St);
      if (D.Existed && R == 0 && uint64_t(St.st_dev) == D.Dev && uint64_t(St.st_ino) == D.Ino &&
          ns(St.st_mtim) == D.MtimeNs && ns(St.st_ctim) == D.CtimeNs)
        continue;
      if (!D.Existed && R != 0 && (errno == ENOENT || errno == ENOTDIR))
        continue;
    }
    for (const std::string &P : D.Paths) {
      std::string Why = noLongerAbsent(P);
      if (!Why.empty())
        return Why;
    }
  }
  return "";
}

} // namespace hotpatch
