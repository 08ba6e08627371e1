//===- NinjaRecord.cpp - tell Ninja that an object is up to date ----------===//
#include "NinjaRecord.h"

#include "ModuleCache.h" // absolutePath

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace llvm;

namespace hotpatch {
namespace {

constexpr char DepsSignature[] = "# ninjadeps\n";
constexpr uint32_t DepsVersion = 4;
constexpr uint32_t MaxRecordSize = (1u << 19) - 1;
constexpr char LogSignature[] = "# ninja log v5\n";

/// Ninja's time stamp of a file: nanoseconds since the epoch (Ninja 1.10+).
bool mtimeOf(const std::string &Path, int64_t &Ns) {
  struct stat St;
  if (stat(Path.c_str(), &St) != 0)
    return false;
  Ns = int64_t(St.st_mtim.tv_sec) * 1000000000 + St.st_mtim.tv_nsec;
  return true;
}

/// The path records of .ninja_deps (id = position), and whether Object has
/// a deps record.
struct DepsLog {
  std::vector<std::string> Paths;
  std::map<std::string, int32_t> IdOfAbsolute;
  bool ObjectHasRecord = false;
  int32_t ObjectId = -1;
};

std::string readDepsLog(StringRef File, StringRef BuildDir, StringRef Object, DepsLog &Log) {
  auto Buf = MemoryBuffer::getFile(File, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!Buf)
    return "no .ninja_deps";
  StringRef Data = (*Buf)->getBuffer();
  size_t Head = sizeof DepsSignature - 1;
  uint32_t Version;
  if (Data.size() < Head + 4 || !Data.starts_with(DepsSignature))
    return ".ninja_deps is not a Ninja deps log";
  memcpy(&Version, Data.data() + Head, 4);
  if (Version != DepsVersion)
    return ".ninja_deps is version " + std::to_string(Version) + ", not 4";
  std::vector<std::pair<int32_t, size_t>> DepsRecords;
  for (size_t Pos = Head + 4; Pos < Data.size();) {
    uint32_t Word;
    if (Data.size() - Pos < 4)
      return ".ninja_deps ends in a partial record";
    memcpy(&Word, Data.data() + Pos, 4);
    bool IsDeps = Word >> 31;
    uint32_t Size = Word & 0x7fffffff;
    Pos += 4;
    if (Size % 4 || Size > MaxRecordSize || Size > Data.size() - Pos || Size < 4)
      return ".ninja_deps has a record it does not expect";
    StringRef Rec = Data.substr(Pos, Size);
    Pos += Size;
    if (IsDeps) {
      int32_t Out;
      memcpy(&Out, Rec.data(), 4);
      DepsRecords.push_back({Out, Pos});
      continue;
    }
    uint32_t Check;
    memcpy(&Check, Rec.data() + Size - 4, 4);
    int32_t Id = int32_t(Log.Paths.size());
    if (Check != ~uint32_t(Id))
      return ".ninja_deps has a path record out of sequence";
    StringRef Path = Rec.drop_back(4).rtrim('\0');
    Log.Paths.push_back(Path.str());
    Log.IdOfAbsolute.emplace(absolutePath(Path, BuildDir), Id);
  }
  auto It = Log.IdOfAbsolute.find(Object.str());
  if (It == Log.IdOfAbsolute.end())
    return "Ninja has no deps record of the object";
  Log.ObjectId = It->second;
  for (const auto &R : DepsRecords)
    Log.ObjectHasRecord |= R.first == Log.ObjectId;
  if (!Log.ObjectHasRecord)
    return "Ninja has no deps record of the object";
  return "";
}

void appendWord(std::string &Out, uint32_t W) { Out.append(reinterpret_cast<char *>(&W), 4); }

/// The records Ninja's DepsLog::RecordDeps would append: a path record for
/// each input it has no id for, then the deps record.
std::string depsRecords(DepsLog &Log, int64_t ObjectNs, const std::vector<std::string> &Inputs) {
  std::string Out;
  std::vector<int32_t> Ids;
  for (const std::string &In : Inputs) {
    auto It = Log.IdOfAbsolute.find(In);
    if (It != Log.IdOfAbsolute.end()) {
      Ids.push_back(It->second);
      continue;
    }
    int32_t Id = int32_t(Log.Paths.size());
    Log.Paths.push_back(In);
    Log.IdOfAbsolute.emplace(In, Id);
    size_t Padding = (4 - In.size() % 4) % 4;
    appendWord(Out, uint32_t(In.size() + Padding + 4));
    Out += In;
    Out.append(Padding, '\0');
    appendWord(Out, ~uint32_t(Id));
    Ids.push_back(Id);
  }
  appendWord(Out, 0x80000000u | uint32_t(4 * (3 + Ids.size())));
  appendWord(Out, uint32_t(Log.ObjectId));
  appendWord(Out, uint32_t(uint64_t(ObjectNs) & 0xffffffff));
  appendWord(Out, uint32_t(uint64_t(ObjectNs) >> 32));
  for (int32_t Id : Ids)
    appendWord(Out, uint32_t(Id));
  return Out;
}

/// The line Ninja's BuildLog::RecordCommand would append, from the last
/// line of Object: the same times and command hash, the object's new mtime.
std::string logLine(StringRef File, StringRef BuildDir, StringRef Object, int64_t ObjectNs,
                    std::string &Why) {
  auto Buf = MemoryBuffer::getFile(File);
  if (!Buf)
    return Why = "no .ninja_log", "";
  StringRef Text = (*Buf)->getBuffer();
  if (!Text.starts_with(LogSignature))
    return Why = ".ninja_log is not version 5", "";
  if (!Text.ends_with("\n"))
    return Why = ".ninja_log ends in a partial line", "";
  std::string Line;
  for (StringRef L : split(Text.drop_front(sizeof LogSignature - 1), '\n')) {
    SmallVector<StringRef, 5> F;
    L.split(F, '\t');
    if (F.size() == 5 && absolutePath(F[3], BuildDir) == Object)
      Line = (F[0] + "\t" + F[1] + "\t" + Twine(ObjectNs) + "\t" + F[3] + "\t" + F[4] + "\n").str();
  }
  if (Line.empty())
    Why = "Ninja never built the object";
  return Line;
}

/// Whether a Ninja runs in BuildDir (its working directory, or -C).
bool ninjaRunsIn(StringRef BuildDir) {
  std::error_code EC;
  for (sys::fs::directory_iterator It("/proc", EC), End; It != End && !EC; It.increment(EC)) {
    StringRef Pid = sys::path::filename(It->path());
    if (Pid.empty() || !isDigit(Pid[0]))
      continue;
    auto Comm = MemoryBuffer::getFile(It->path() + "/comm");
    if (!Comm || (*Comm)->getBuffer().trim() != "ninja")
      continue;
    SmallString<256> Cwd;
    if (sys::fs::real_path(It->path() + "/cwd", Cwd))
      return true; // cannot tell: assume it does
    std::string Dir = Cwd.str().str();
    auto Cmd = MemoryBuffer::getFile(It->path() + "/cmdline");
    if (Cmd) {
      SmallVector<StringRef, 16> Argv;
      (*Cmd)->getBuffer().split(Argv, '\0');
      for (size_t I = 0; I + 1 < Argv.size(); ++I)
        if (Argv[I] == "-C")
          Dir = absolutePath(Argv[I + 1], Dir);
    }
    SmallString<256> Real;
    if (sys::fs::real_path(Dir, Real) || Real == BuildDir)
      return true;
  }
  return false;
}

bool appendTo(const std::string &File, const std::string &Bytes) {
  int Fd = open(File.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (Fd < 0)
    return false;
  bool Ok = write(Fd, Bytes.data(), Bytes.size()) == ssize_t(Bytes.size());
  close(Fd);
  return Ok;
}

} // namespace

std::string recordCompile(StringRef BuildDir, StringRef Object,
                          const std::set<std::string> &Inputs) {
  SmallString<256> RealDir;
  if (sys::fs::real_path(BuildDir, RealDir))
    return "the build directory cannot be resolved";
  std::string DepsFile = (BuildDir + "/.ninja_deps").str();
  std::string LogFile = (BuildDir + "/.ninja_log").str();
  if (!sys::fs::exists(DepsFile) || !sys::fs::exists(LogFile))
    return "not a Ninja build";
  int64_t ObjectNs;
  if (!mtimeOf(Object.str(), ObjectNs))
    return "the object is gone";
  // Every input older than the object: else the object may predate an
  // edit, and Ninja must compile.
  std::vector<std::string> Ordered(Inputs.begin(), Inputs.end());
  for (const std::string &In : Ordered) {
    int64_t Ns;
    if (!mtimeOf(In, Ns))
      return In + " is gone";
    if (Ns >= ObjectNs)
      return In + " is as new as the object";
  }
  if (ninjaRunsIn(RealDir))
    return "a Ninja runs in the build directory";
  DepsLog Log;
  std::string Why = readDepsLog(DepsFile, BuildDir, Object, Log);
  if (!Why.empty())
    return Why;
  std::string Line = logLine(LogFile, BuildDir, Object, ObjectNs, Why);
  if (Line.empty())
    return Why;
  // The deps record first: if the log line is then lost, the object's
  // recorded mtime stays older than the edit and Ninja compiles again.
  if (!appendTo(DepsFile, depsRecords(Log, ObjectNs, Ordered)))
    return "cannot append to .ninja_deps";
  if (!appendTo(LogFile, Line))
    return "cannot append to .ninja_log";
  return "";
}

} // namespace hotpatch
