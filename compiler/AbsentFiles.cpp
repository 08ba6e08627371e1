//===- AbsentFiles.cpp - the paths a preamble looked for and did not find -===//
#include "AbsentFiles.h"

#include "llvm/ADT/SmallString.h"

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

std::string firstNoLongerAbsent(const std::vector<std::string> &Paths) {
  struct stat St;
  for (const std::string &P : Paths) {
    if (::stat(P.c_str(), &St) == 0)
      return P + " exists now";
    // The preprocessor would stop at this lookup with an error (it goes on
    // to the next directory only when a path is absent): the compile without
    // the preamble says which.
    if (errno != ENOENT && errno != ENOTDIR)
      return P + ": " + std::strerror(errno);
  }
  return "";
}

} // namespace hotpatch
