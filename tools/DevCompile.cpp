//===- DevCompile.cpp - hotpatch dev's compiles ----------------------------===//
#include "DevCompile.h"
#include "NinjaRecord.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>

using namespace llvm;

namespace hotpatch {

static bool hasDebugInfo(const std::vector<std::string> &Args) {
  bool G = false;
  for (StringRef A : Args)
    if (A.starts_with("-g"))
      G = A != "-g0";
  return G;
}

DevCompiler::DevCompiler(bool Resident, unsigned KeepPreambles, Say S)
    : KeepPreambles(KeepPreambles), SayLine(std::move(S)) {
  if (Resident)
    Compiler = std::make_unique<ResidentCompiler>(ResidentOptions{KeepPreambles});
}

DevCompileResult DevCompiler::compile(const CompileCommand &C) {
  LastInProcess = false;
  if (!Compiler)
    return runCommand(C);
  CompileResult R = Compiler->compile({C.Directory, C.Source, C.Object, C.Args}, errs());
  if (R.Outcome == CompileResult::NotResident) {
    if (SaidRunsCommand.insert(C.Source).second)
      SayLine("compiling " + sys::path::filename(C.Source).str() +
              " with its command: " + R.Reason);
    return runCommand(C);
  }
  DevCompileResult D;
  D.Ok = R.Outcome == CompileResult::Compiled;
  D.InProcess = LastInProcess = true;
  D.SameAsCommand = D.Ok && (R.Preamble != CompileResult::Reused || !hasDebugInfo(C.Args));
  D.Ms = R.Ms;
  // Not the in-memory preamble clang names as a file: it is the headers',
  // which are listed too.
  for (const std::string &F : R.Files)
    if (!StringRef(F).starts_with("/__clang_tmp/"))
      D.Read.insert(F);
  LastResident = std::move(R);
  return D;
}

/// Whether the command writes a depfile (-M options: -MD, -MMD, -MF, ...).
static bool writesDepfile(const std::vector<std::string> &Args) {
  for (StringRef A : Args)
    if (A.starts_with("-M") || A.starts_with("-Wp,-M"))
      return true;
  return false;
}

DevCompileResult DevCompiler::runCommand(const CompileCommand &C) {
  std::vector<StringRef> Args(C.Args.begin(), C.Args.end());
  // CMake leaves the depfile options out of compile_commands.json: ask for
  // one in a temporary file, to learn what the compile read. It does not
  // change the object.
  std::string Depfile = depfileOf(C);
  SmallString<128> TempDepfile;
  if (!writesDepfile(C.Args)) {
    sys::fs::createTemporaryFile("hotpatch-dev", "d", TempDepfile);
    Depfile = std::string(TempDepfile);
    Args.insert(Args.end(), {"-MD", "-MF", Depfile});
  }
  SmallString<128> ErrFile;
  sys::fs::createTemporaryFile("hotpatch-dev", "txt", ErrFile);
  std::optional<StringRef> Redirects[] = {std::nullopt, StringRef(ErrFile), StringRef(ErrFile)};
  std::string Exe = C.Args[0];
  if (!sys::path::is_absolute(Exe))
    if (auto Found = sys::findProgramByName(Exe))
      Exe = *Found;
  auto T = std::chrono::steady_clock::now();
  // The compile command runs in its own directory.
  SmallString<256> Cwd;
  sys::fs::current_path(Cwd);
  sys::fs::set_current_path(C.Directory);
  std::string Msg;
  int RC = sys::ExecuteAndWait(Exe, Args, std::nullopt, Redirects, 0, 0, &Msg);
  sys::fs::set_current_path(Cwd);
  DevCompileResult D;
  D.Ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - T).count();
  auto Out = MemoryBuffer::getFile(ErrFile);
  if (Out && (*Out)->getBufferSize())
    errs() << (*Out)->getBuffer();
  sys::fs::remove(ErrFile);
  D.Ok = D.SameAsCommand = RC == 0;
  // The depfile the command just wrote (Ninja, which would read and delete
  // it, did not run the command), or ours.
  if (D.Ok)
    for (const std::string &F : readDepfile(Depfile, C.Directory))
      D.Read.insert(F);
  if (!TempDepfile.empty())
    sys::fs::remove(TempDepfile);
  return D;
}

void DevCompiler::preparePreambles(const std::deque<CompileCommand> &Commands) {
  if (!Compiler || !KeepPreambles)
    return;
  std::vector<std::pair<sys::TimePoint<>, const CompileCommand *>> ByTime;
  for (const CompileCommand &C : Commands) {
    sys::fs::file_status St;
    if (!sys::fs::status(C.Source, St))
      ByTime.push_back({St.getLastModificationTime(), &C});
  }
  std::sort(ByTime.begin(), ByTime.end(),
            [](const auto &A, const auto &B) { return A.first > B.first; });
  for (size_t I = 0; I < ByTime.size() && I < KeepPreambles; ++I) {
    const CompileCommand &C = *ByTime[I].second;
    Compiler->prepare({C.Directory, C.Source, C.Object, C.Args});
  }
}

void DevCompiler::refreshPreambles() {
  if (Compiler)
    Compiler->refreshPreambles();
}

void DevCompiler::printStats() {
  std::string Line = formatv("stats: resident memory {0:F1} MiB", residentMemory() / 1048576.0);
  const CompileResult &Last = LastResident;
  if (Compiler)
    Line += !LastInProcess || Last.Outcome != CompileResult::Compiled
                ? "; last compile: its command"
            : Last.Preamble == CompileResult::Reused
                ? formatv("; last compile: in process with its preamble (checked in {0:F1} ms)",
                          Last.PreambleCheckMs)
                      .str()
            : Last.Preamble == CompileResult::Stale
                ? "; last compile: in process, its preamble stale (" + Last.StaleBecause + ")"
                : "; last compile: in process without a preamble";
  SayLine(Line);
  if (!Compiler)
    return;
  for (const PreambleStat &P : Compiler->preambleStats())
    SayLine(P.Building && !P.Bytes
                ? "stats: preamble of " + sys::path::filename(P.Source).str() + ": being built"
                : formatv("stats: preamble of {0}: {1:F1} MiB, {2} files, built in {3:F0} ms, "
                          "{5} absent paths looked up{4}",
                          sys::path::filename(P.Source), P.Bytes / 1048576.0, P.Files,
                          P.BuildMs, P.Building ? " (being rebuilt)" : "", P.Absent)
                      .str());
}

std::string recordInNinja(const CompileCommand &Cmd, const DevCompileResult &R) {
  if (!R.SameAsCommand)
    return "the object differs from the command's (a preamble and -g)";
  if (R.Read.empty())
    return "the files the compile read are not known (no depfile)";
  std::set<std::string> Inputs = R.Read;
  Inputs.insert(Cmd.Source);
  return recordCompile(Cmd.Directory, Cmd.Object, Inputs);
}

} // namespace hotpatch
