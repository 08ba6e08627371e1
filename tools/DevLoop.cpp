//===- DevLoop.cpp - hotpatch dev: save a file, the running program changes ===//
//
// The loop, as passes:
//
//   1. Read compile_commands.json and each object's depfile: which command
//      builds which object, and which sources and headers each depends on.
//   2. Start the program, and watch the directories of every source and
//      header (inotify; editors that save through a rename are seen too).
//   3. On events, wait until the files are quiet (a save in several writes,
//      several quick saves: the latest wins), then recompile exactly the
//      affected objects with their own commands: in this process by the
//      resident compiler (compiler/), against a precompiled preamble of the
//      file's include block, or, for a command it cannot honour, by running
//      the command (said once per file, with the reason). Compiler errors
//      are shown as clang shows them and the program is left alone.
//   4. Thin-link the rebuilt objects against the program (in-process), and
//      send the patch to every running process of that build.
//   5. A change that cannot be patched (layout change, new file, ...) says
//      why and, unless --no-restart, rebuilds the program with its build
//      system and restarts it. A program that exits or crashes is started
//      again after the next successful rebuild.
//
// Every change prints one line: what changed, and how long compile, thin
// link and apply took.
//
//===----------------------------------------------------------------------===//
#include "DevLoop.h"

#include "ChainState.h"
#include "ControlClient.h"
#include "DevImages.h"
#include "ResidentCompiler.h"

#include "clang/Tooling/JSONCompilationDatabase.h"
#include "ModuleCache.h"
#include "PatchLinker.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/StringSaver.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <csignal>
#include <map>
#include <poll.h>
#include <set>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace llvm;

namespace hotpatch {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point T) {
  return std::chrono::duration<double, std::milli>(Clock::now() - T).count();
}

volatile sig_atomic_t Stop = 0;
void onSignal(int) { Stop = 1; }

struct CompileCommand {
  std::string Directory, Source, Object;
  std::vector<std::string> Args;
  std::set<std::string> Deps; // source + headers, absolute
  std::set<std::string> Read; // what the resident compiler read, last compile
};


/// Makefile-style depfile: "obj: dep dep \\\n dep".
std::vector<std::string> readDepfile(StringRef Path, StringRef Dir) {
  std::vector<std::string> Deps;
  auto Buf = MemoryBuffer::getFile(Path);
  if (!Buf)
    return Deps;
  StringRef Text = (*Buf)->getBuffer();
  size_t Colon = Text.find(": ");
  if (Colon == StringRef::npos)
    return Deps;
  std::string Cur;
  for (size_t I = Colon + 2; I < Text.size(); ++I) {
    char C = Text[I];
    if (C == '\\' && I + 1 < Text.size() && (Text[I + 1] == '\n' || Text[I + 1] == ' ')) {
      if (Text[I + 1] == ' ')
        Cur += ' ';
      ++I;
      if (Text[I] == '\n' && !Cur.empty())
        Deps.push_back(absolutePath(Cur, Dir)), Cur.clear();
      continue;
    }
    if (C == ' ' || C == '\n' || C == '\t') {
      if (!Cur.empty())
        Deps.push_back(absolutePath(Cur, Dir)), Cur.clear();
      continue;
    }
    Cur += C;
  }
  if (!Cur.empty())
    Deps.push_back(absolutePath(Cur, Dir));
  return Deps;
}

class DevLoop {
public:
  explicit DevLoop(const DevOptions &Opts) : Opts(Opts) {}
  int run();

private:
  bool loadCommands();
  void readNinjaDeps();
  void refreshDeps(CompileCommand &C);
  bool startProgram();
  void stopProgram();
  void watchAll();
  void handleChanges(const std::set<std::string> &Changed);
  bool compile(CompileCommand &C, double &Ms);
  bool runCommand(const CompileCommand &C, double &Ms);
  void printStats(const CompileResult *Last);
  void preparePreambles();
  void rebuildAndRestart(const std::string &Why);
  void announce(const std::string &Event, const std::string &Message = "",
                const std::vector<RunningProcess> *To = nullptr);
  std::string buildId();
  /// Finds the build's images again and forgets their chains of patches.
  void forgetChains() {
    Images = findBuildImages(BuildDir, Program);
    ChainState::remove(Program);
    for (const BuildImage &I : Images)
      ChainState::remove(I.Path);
  }
  void say(const Twine &Line) {
    outs() << "[hotpatch] " << Line << "\n";
    outs().flush();
  }

  const DevOptions &Opts;
  std::string BuildDir, Program;
  std::vector<CompileCommand> Commands;
  std::vector<BuildImage> Images; // the program first, then its libraries
  int Inotify = -1;
  std::map<int, std::string> WatchDirs;
  std::set<std::string> Watched;
  std::set<std::string> BuildFiles; // CMakeLists.txt: changes mean a rebuild
  std::string BuildIdOfProgram;      // hex; "" until read, cleared on rebuild
  sys::ProcessInfo Child;
  bool Running = false;
  unsigned Changes = 0;
  std::unique_ptr<ResidentCompiler> Compiler; // null: --no-resident-compiler
  std::set<std::string> SaidRunsCommand;      // sources whose command runs, said once
  CompileResult LastResident;
  bool CompiledInProcess = false; // the last compile()
};

bool DevLoop::loadCommands() {
  std::string Path = BuildDir + "/compile_commands.json";
  if (!sys::fs::exists(Path)) {
    errs() << "hotpatch dev: error: cannot read " << Path
           << ": no such file; configure the build with CMAKE_EXPORT_COMPILE_COMMANDS=ON "
              "(hotpatch_enable() does) and pass its directory with -p\n";
    return false;
  }
  // Clang's own reader: "arguments" or "command" (split as the shell would),
  // "output" when the build system wrote it.
  std::string Err;
  auto DB = clang::tooling::JSONCompilationDatabase::loadFromFile(
      Path, Err, clang::tooling::JSONCommandLineSyntax::Gnu);
  if (!DB) {
    errs() << "hotpatch dev: error: " << Err << "\n";
    return false;
  }
  Commands.clear();
  for (const clang::tooling::CompileCommand &CC : DB->getAllCompileCommands()) {
    CompileCommand C;
    C.Directory = CC.Directory;
    C.Source = absolutePath(CC.Filename, C.Directory);
    C.Args = CC.CommandLine;
    for (size_t I = 0; I + 1 < C.Args.size(); ++I)
      if (C.Args[I] == "-o")
        C.Object = absolutePath(C.Args[I + 1], C.Directory);
    if (!CC.Output.empty())
      C.Object = absolutePath(CC.Output, C.Directory);
    if (C.Args.empty() || C.Object.empty())
      continue;
    refreshDeps(C);
    Commands.push_back(std::move(C));
  }
  if (Commands.empty()) {
    errs() << "hotpatch dev: error: " << Path << " has no compile commands\n";
    return false;
  }
  readNinjaDeps();
  return true;
}

/// Ninja keeps the depfiles it reads in its own log: ask it.
void DevLoop::readNinjaDeps() {
  if (!sys::fs::exists(BuildDir + "/build.ninja"))
    return;
  auto Ninja = sys::findProgramByName("ninja");
  if (!Ninja)
    return;
  SmallString<128> OutFile;
  sys::fs::createTemporaryFile("hotpatch-deps", "txt", OutFile);
  std::optional<StringRef> Redirects[] = {std::nullopt, StringRef(OutFile), StringRef("")};
  std::vector<StringRef> Args = {*Ninja, "-C", BuildDir, "-t", "deps"};
  sys::ExecuteAndWait(*Ninja, Args, std::nullopt, Redirects);
  auto Buf = MemoryBuffer::getFile(OutFile);
  sys::fs::remove(OutFile);
  if (!Buf)
    return;
  CompileCommand *Cur = nullptr;
  for (StringRef Line : split((*Buf)->getBuffer(), '\n')) {
    if (Line.empty())
      continue;
    if (!Line.starts_with(" ")) {
      std::string Obj = absolutePath(Line.split(':').first, BuildDir);
      Cur = nullptr;
      for (CompileCommand &C : Commands)
        if (C.Object == Obj)
          Cur = &C;
      continue;
    }
    std::string Dep = absolutePath(Line.trim(), BuildDir);
    if (Cur && !StringRef(Dep).starts_with("/usr/"))
      Cur->Deps.insert(Dep);
  }
}

void DevLoop::refreshDeps(CompileCommand &C) {
  C.Deps = {C.Source};
  for (const std::string &D : C.Read)
    if (!StringRef(D).starts_with("/usr/"))
      C.Deps.insert(D);
  std::string Depfile = C.Object + ".d";
  for (size_t I = 0; I + 1 < C.Args.size(); ++I)
    if (C.Args[I] == "-MF")
      Depfile = absolutePath(C.Args[I + 1], C.Directory);
  for (const std::string &D : readDepfile(Depfile, C.Directory))
    if (!StringRef(D).starts_with("/usr/")) // system headers are not edited
      C.Deps.insert(D);
}

void DevLoop::watchAll() {
  auto Watch = [&](const std::string &File) {
    Watched.insert(File);
    std::string Dir = sys::path::parent_path(File).str();
    for (auto &[Wd, Path] : WatchDirs)
      if (Path == Dir)
        return;
    int Wd = inotify_add_watch(Inotify, Dir.c_str(),
                               IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY);
    if (Wd >= 0)
      WatchDirs[Wd] = Dir;
  };
  for (const CompileCommand &C : Commands) {
    for (const std::string &D : C.Deps)
      Watch(D);
    // The build description beside each source: a new file or a new flag is
    // a change no patch can make.
    std::string Lists = sys::path::parent_path(C.Source).str() + "/CMakeLists.txt";
    if (sys::fs::exists(Lists)) {
      Watch(Lists);
      BuildFiles.insert(Lists);
    }
  }
}

bool DevLoop::startProgram() {
  std::vector<StringRef> Args(Opts.Program.begin(), Opts.Program.end());
  std::string Err;
  Child = sys::ExecuteNoWait(Program, Args, std::nullopt, {}, 0, &Err);
  if (Child.Pid <= 0) {
    errs() << "hotpatch dev: error: cannot start " << Program << ": " << Err << "\n";
    Running = false;
    return false;
  }
  Running = true;
  // The runtime's listener starts in a constructor; give it a moment.
  for (int I = 0; I < 200 && controlSocketOf(Child.Pid).empty(); ++I)
    usleep(5000);
  if (controlSocketOf(Child.Pid).empty())
    say("warning: the program does not listen for patches: is it linked with "
        "libhotpatch (hotpatch_enable) and started without HOTPATCH_DISABLE?");
  else
    say("started " + sys::path::filename(Program) + " (pid " + Twine(Child.Pid) +
        "), watching " + Twine(Watched.size()) + " files");
  return true;
}

void DevLoop::stopProgram() {
  if (!Running)
    return;
  kill(Child.Pid, SIGTERM);
  for (int I = 0; I < 200; ++I) {
    if (waitpid(Child.Pid, nullptr, WNOHANG) == Child.Pid) {
      Running = false;
      return;
    }
    usleep(10000);
  }
  kill(Child.Pid, SIGKILL);
  waitpid(Child.Pid, nullptr, 0);
  Running = false;
}

void DevLoop::announce(const std::string &Event, const std::string &Message,
                       const std::vector<RunningProcess> *To) {
  // Only to processes of this program's build: other programs of the user
  // have their own hotpatch dev, or none.
  std::vector<RunningProcess> Listed;
  if (!To)
    To = &(Listed = processesOfBuild(buildId()));
  for (const RunningProcess &P : *To)
    askProcess(P.Socket, "event " + Event + (Message.empty() ? "" : " " + Message));
}

/// The build-id of the program binary, read once per build: reading the
/// cache of a large program costs some 20 ms, and announce() and every
/// change need it.
std::string DevLoop::buildId() {
  if (BuildIdOfProgram.empty()) {
    StringSet<> NoInputs;
    if (auto C = readModuleCache(cachePathFor(Program), &NoInputs))
      BuildIdOfProgram = toHex(C->Image.BuildId, true);
    else
      consumeError(C.takeError());
  }
  return BuildIdOfProgram;
}

bool DevLoop::compile(CompileCommand &C, double &Ms) {
  CompiledInProcess = false;
  if (!Compiler)
    return runCommand(C, Ms);
  CompileCommandLine Line{C.Directory, C.Source, C.Object, C.Args};
  CompileResult R = Compiler->compile(Line, errs());
  if (R.Outcome == CompileResult::NotResident) {
    if (SaidRunsCommand.insert(C.Source).second)
      say("compiling " + sys::path::filename(C.Source) + " with its command: " + R.Reason);
    return runCommand(C, Ms);
  }
  Ms = R.Ms;
  CompiledInProcess = true;
  // The files it read: an edit that includes a new header is watched.
  C.Read = R.Files;
  LastResident = std::move(R);
  return LastResident.Outcome == CompileResult::Compiled;
}

/// Memory and preambles, for --stats: what keeping the compiler resident
/// costs.
void DevLoop::printStats(const CompileResult *Last) {
  std::string Line = formatv("stats: resident memory {0:F1} MiB", residentMemory() / 1048576.0);
  if (Last)
    Line += Last->Outcome != CompileResult::Compiled ? "; last compile: its command"
            : Last->Preamble == CompileResult::Reused
                ? formatv("; last compile: in process with its preamble (checked in {0:F1} ms)",
                          Last->PreambleCheckMs)
                      .str()
            : Last->Preamble == CompileResult::Stale
                ? "; last compile: in process, its preamble stale (" + Last->StaleBecause + ")"
                : "; last compile: in process without a preamble";
  say(Line);
  if (!Compiler)
    return;
  for (const PreambleStat &P : Compiler->preambleStats())
    say(P.Building && !P.Bytes
            ? "stats: preamble of " + sys::path::filename(P.Source) + ": being built"
            : formatv("stats: preamble of {0}: {1:F1} MiB, {2} files, built in {3:F0} ms{4}",
                      sys::path::filename(P.Source), P.Bytes / 1048576.0, P.Files, P.BuildMs,
                      P.Building ? " (being rebuilt)" : "")
                  .str());
}

/// The preambles of the most recently edited sources (by modification
/// time), built in the background before the first save.
void DevLoop::preparePreambles() {
  if (!Compiler || !Opts.KeepPreambles)
    return;
  std::vector<std::pair<sys::TimePoint<>, const CompileCommand *>> ByTime;
  for (const CompileCommand &C : Commands) {
    sys::fs::file_status St;
    if (!sys::fs::status(C.Source, St))
      ByTime.push_back({St.getLastModificationTime(), &C});
  }
  std::sort(ByTime.begin(), ByTime.end(),
            [](const auto &A, const auto &B) { return A.first > B.first; });
  for (size_t I = 0; I < ByTime.size() && I < Opts.KeepPreambles; ++I) {
    const CompileCommand &C = *ByTime[I].second;
    Compiler->prepare({C.Directory, C.Source, C.Object, C.Args});
  }
}

bool DevLoop::runCommand(const CompileCommand &C, double &Ms) {
  std::vector<StringRef> Args(C.Args.begin(), C.Args.end());
  SmallString<128> ErrFile;
  sys::fs::createTemporaryFile("hotpatch-dev", "txt", ErrFile);
  std::optional<StringRef> Redirects[] = {std::nullopt, StringRef(ErrFile), StringRef(ErrFile)};
  std::string Exe = C.Args[0];
  if (!sys::path::is_absolute(Exe))
    if (auto Found = sys::findProgramByName(Exe))
      Exe = *Found;
  auto T = Clock::now();
  // The compile command runs in its own directory.
  SmallString<256> Cwd;
  sys::fs::current_path(Cwd);
  sys::fs::set_current_path(C.Directory);
  std::string Msg;
  int RC = sys::ExecuteAndWait(Exe, Args, std::nullopt, Redirects, 0, 0, &Msg);
  sys::fs::set_current_path(Cwd);
  Ms = msSince(T);
  auto Out = MemoryBuffer::getFile(ErrFile);
  if (Out && (*Out)->getBufferSize())
    errs() << (*Out)->getBuffer();
  sys::fs::remove(ErrFile);
  return RC == 0;
}

void DevLoop::rebuildAndRestart(const std::string &Why) {
  if (!Opts.Restart) {
    say("not restarting (--no-restart): the program keeps running its current code");
    return;
  }
  announce("rebuild-starting", Why);
  say("rebuilding: cmake --build " + BuildDir);
  auto T = Clock::now();
  auto CmakeOrErr = sys::findProgramByName("cmake");
  if (!CmakeOrErr) {
    say("cannot rebuild: cmake is not on PATH; the program keeps running its current code");
    return;
  }
  std::string Cmake = *CmakeOrErr;
  std::vector<StringRef> Args = {Cmake, "--build", BuildDir};
  int RC = sys::ExecuteAndWait(Cmake, Args);
  if (RC != 0) {
    announce("rebuild-failed", "cmake --build failed");
    say("rebuild failed (see above); the program keeps running its current code");
    return;
  }
  announce("restart-needed", Why);
  BuildIdOfProgram.clear(); // the rebuild made a new binary
  stopProgram();
  forgetChains(); // a new build starts new chains
  loadCommands();
  watchAll();
  startProgram();
  say(formatv("rebuilt and restarted in {0:F0} ms", msSince(T)).str());
}

void DevLoop::handleChanges(const std::set<std::string> &Changed) {
  for (const std::string &F : Changed)
    if (BuildFiles.count(F)) {
      ++Changes;
      say(sys::path::filename(sys::path::parent_path(F)) + "/CMakeLists.txt changed: "
          "a change of the build cannot be patched");
      rebuildAndRestart("the build description changed");
      return;
    }
  std::vector<CompileCommand *> Affected;
  for (CompileCommand &C : Commands)
    for (const std::string &F : Changed)
      if (C.Deps.count(F)) {
        Affected.push_back(&C);
        break;
      }
  if (Affected.empty())
    return;
  ++Changes;
  auto T0 = Clock::now();
  double CompileMs = 0;
  std::vector<std::string> Objects;
  LastResident = CompileResult();
  bool AllInProcess = true;
  for (CompileCommand *C : Affected) {
    double Ms;
    bool Ok = compile(*C, Ms);
    AllInProcess &= CompiledInProcess;
    if (!Ok) {
      say("compile error in " + sys::path::filename(C->Source) +
          " (above); the program keeps running its current code");
      return;
    }
    CompileMs += Ms;
    Objects.push_back(C->Object);
  }
  // An edit may include new headers. The resident compiler said what each
  // compile read; a command's depfile and Ninja's log have to be read again.
  if (AllInProcess) {
    for (CompileCommand *C : Affected)
      refreshDeps(*C);
  } else {
    for (CompileCommand &C : Commands)
      refreshDeps(C);
    readNinjaDeps();
  }
  watchAll();

  if (!Running) {
    rebuildAndRestart("the program was not running");
    return;
  }
  // Each object patches the image it was linked into: the program, or a
  // shared library. One the build's images do not list goes to the
  // program, whose thin link says why it cannot be patched.
  std::vector<std::pair<const BuildImage *, std::vector<std::string>>> ByImage;
  BuildImage Fallback;
  Fallback.Path = Program;
  for (const std::string &O : Objects) {
    std::vector<const BuildImage *> Owners = imagesOf(Images, O);
    if (Owners.empty())
      Owners.push_back(Images.empty() ? &Fallback : &Images.front());
    for (const BuildImage *I : Owners) {
      auto It = std::find_if(ByImage.begin(), ByImage.end(),
                             [&](const auto &E) { return E.first == I; });
      if (It == ByImage.end())
        ByImage.push_back({I, {}}), It = ByImage.end() - 1;
      It->second.push_back(O);
    }
  }
  struct Made {
    const BuildImage *Image;
    PatchOptions P;
    PatchResult R;
  };
  std::vector<Made> Made;
  sys::fs::create_directories(BuildDir + "/.hotpatch");
  auto T1 = Clock::now();
  for (auto &[Image, Objs] : ByImage) {
    PatchOptions P;
    P.Base = Image->Path;
    P.Output = BuildDir + "/.hotpatch/patch-" + std::to_string(Changes) +
               (Image->Library ? "-" + sys::path::filename(Image->Path).str() : "") + ".hpp";
    P.Objects = Objs;
    PatchResult Result = buildPatch(P);
    if (!Result.Ok) {
      say("cannot patch" + (Image->Library ? " " + sys::path::filename(Image->Path) : "") +
          ": " + Result.Error);
      rebuildAndRestart(Result.Error);
      return;
    }
    for (const std::string &N : Result.Notes)
      say("note: " + N);
    for (const std::string &N : Result.NotHot)
      say("warning: " + demangle(N) + " is not hot: only calls from patched code and "
          "hotpatch_current() reach the new version");
    if (!Result.NothingToPatch)
      Made.push_back({Image, P, std::move(Result)});
  }
  double LinkMs = msSince(T1);
  if (Made.empty()) {
    say("no function changed");
    return;
  }
  // The processes of the program's build, listed once: the build the
  // program's patch was made for, if there is one (the program may have
  // been relinked behind hotpatch dev's back).
  std::string Build = buildId();
  for (const struct Made &M : Made)
    if (!M.Image->Library)
      Build = buildIdOfPatch(M.P.Output);
  std::vector<RunningProcess> Procs = processesOfBuild(Build);
  bool ChildIsOfBuild = false;
  for (const RunningProcess &Proc : Procs)
    ChildIsOfBuild |= Running && Proc.Pid == Child.Pid;
  if (Running && !ChildIsOfBuild && !controlSocketOf(Child.Pid).empty()) {
    // The program was relinked behind hotpatch dev's back: the running
    // process is another build than the one the patch was made for.
    say("the running program is not the build the patch was made for (it was "
        "relinked since it started)");
    rebuildAndRestart("the running program is another build");
    return;
  }
  announce("patch-starting", "", &Procs);
  for (const struct Made &M : Made) {
    double ApplyMs = 0;
    unsigned Applied = 0, Waiting = 0;
    bool ChildRefused = false;
    std::string ImageName = sys::path::filename(M.Image->Path).str();
    for (const RunningProcess &Proc : Procs) {
      ApplyReply R = applyPatchTo(Proc, M.P.Output);
      if (M.Image->Library && refusedAsOtherBuild(R)) {
        // Saved beside the library: applied when the process loads it.
        ++Waiting;
        continue;
      }
      if (!R.Ok) {
        say("process " + Twine(Proc.Pid) + " refused: " + R.Text);
        ChildRefused |= Proc.Pid == Child.Pid;
        continue;
      }
      ++Applied;
      ApplyMs = std::max(ApplyMs, R.TotalMs);
    }
    if (ChildRefused) {
      // A refused patch leaves the process a patch behind its chain: later
      // patches would be refused too.
      rebuildAndRestart("the program refused the patch");
      return;
    }
    const PatchResult &Result = M.R;
    // What the user changed, not the library code that came along.
    std::vector<std::string> Names;
    for (const std::string &N : Result.Changed)
      Names.push_back(demangle(N));
    for (const std::string &N : Result.Added)
      Names.push_back(demangle(N) + " (new)");
    if (Names.empty() && !Result.Library.empty())
      Names.push_back(std::to_string(Result.Library.size()) + " library functions");
    std::string List;
    for (size_t I = 0; I < Names.size() && I < 4; ++I)
      List += (I ? ", " : "") + Names[I];
    if (Names.size() > 4)
      List += " and " + std::to_string(Names.size() - 4) + " more";
    if (!Result.Changed.empty() || !Result.Added.empty())
      if (!Result.Library.empty())
        List += " (with " + std::to_string(Result.Library.size()) + " library functions)";
    if (M.Image->Library)
      List += " in " + ImageName;
    say(formatv("patched {0} in {1} process{2}: {3:F0} ms (compile {4:F0} ms, thin link "
                "{5:F1} ms, apply {6:F2} ms)",
                List, Applied, Applied == 1 ? "" : "es", msSince(T0), CompileMs, LinkMs,
                ApplyMs)
            .str());
    if (Opts.Stats)
      printStats(Compiler ? &LastResident : nullptr);
    if (Waiting)
      say(formatv("{0} process{1} {2} not loaded {3} yet: the patch is applied when {4} "
                  "load it",
                  Waiting, Waiting == 1 ? "" : "es", Waiting == 1 ? "has" : "have", ImageName,
                  Waiting == 1 ? "it does" : "they")
              .str());
  }
}

int DevLoop::run() {
  if (Opts.Program.empty()) {
    errs() << "usage: hotpatch dev [-p <build dir>] [--no-restart] -- <program> [args...]\n";
    return 2;
  }
  SmallString<256> B(Opts.BuildDir);
  sys::fs::make_absolute(B);
  BuildDir = std::string(B);
  Program = Opts.Program[0];
  if (!sys::path::is_absolute(Program)) {
    SmallString<256> P(Program);
    sys::fs::make_absolute(P);
    Program = std::string(P);
  }
  if (!sys::fs::exists(cachePathFor(Program)) && !sys::fs::exists(cachePathFor(Program) + ".pending")) {
    errs() << "hotpatch dev: error: " << Program << " has no module cache ("
           << cachePathFor(Program) << "); link it with thinlink (hotpatch_enable() does)\n";
    return 1;
  }
  if (!loadCommands())
    return 1;
  Inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (Inotify < 0) {
    errs() << "hotpatch dev: error: inotify: " << strerror(errno) << "\n";
    return 1;
  }
  signal(SIGINT, onSignal);
  signal(SIGTERM, onSignal);
  forgetChains(); // the program starts unpatched
  if (auto C = readModuleCache(cachePathFor(Program))) {
    BuildIdOfProgram = toHex(C->Image.BuildId, true);
    // Copies of inline functions compiled without the plugin won at link
    // time: edits of those reach only calls from plugin-built code.
    for (const SlotRecord &S : C->Slots)
      if (S.UnpatchedCopy)
        say("warning: " + demangle(S.Name) + ": the copy linked in was compiled "
            "without the hotpatch plugin; calls from files built without it and "
            "pointers to it keep running the original code");
  } else {
    errs() << "hotpatch dev: error: " << toString(C.takeError()) << "\n";
    return 1;
  }
  watchAll();
  if (Opts.Resident)
    Compiler = std::make_unique<ResidentCompiler>(ResidentOptions{Opts.KeepPreambles});
  if (!startProgram())
    return 1;
  preparePreambles();

  std::set<std::string> Pending;
  Clock::time_point LastEvent;
  alignas(inotify_event) char Buf[16384];
  while (!Stop) {
    pollfd Pfd = {Inotify, POLLIN, 0};
    int Timeout = Pending.empty() ? 200 : int(Opts.QuietMs);
    int N = poll(&Pfd, 1, Timeout);
    if (N > 0) {
      ssize_t Len;
      while ((Len = read(Inotify, Buf, sizeof Buf)) > 0) {
        for (char *P = Buf; P < Buf + Len;) {
          auto *E = reinterpret_cast<inotify_event *>(P);
          P += sizeof(inotify_event) + E->len;
          auto Dir = WatchDirs.find(E->wd);
          if (Dir == WatchDirs.end() || !E->len)
            continue;
          std::string File = Dir->second + "/" + E->name;
          if (!Watched.count(File))
            continue;
          // A save ends with a close (or a rename into place); writes before
          // it only say that one is under way and push the deadline back.
          if (E->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE))
            Pending.insert(File);
          LastEvent = Clock::now();
        }
      }
    }
    if (Running) {
      int Status;
      if (waitpid(Child.Pid, &Status, WNOHANG) == Child.Pid) {
        Running = false;
        if (WIFSIGNALED(Status))
          say("the program crashed (signal " + Twine(WTERMSIG(Status)) +
              "); it restarts after the next change");
        else
          say("the program exited with status " + Twine(WEXITSTATUS(Status)) +
              "; it restarts after the next change");
      }
    }
    // A save is complete once the files have been quiet for a while: an
    // editor writing in several steps, or several quick saves, make one
    // change, and the latest text wins.
    if (!Pending.empty() && msSince(LastEvent) >= Opts.QuietMs) {
      std::set<std::string> Batch;
      Batch.swap(Pending);
      handleChanges(Batch);
      // After the patch is out: preambles the change made stale (a header
      // several files include) are rebuilt for their next save.
      if (Compiler)
        Compiler->refreshPreambles();
    }
  }
  announce("shutdown");
  stopProgram();
  say("stopped");
  return 0;
}

} // namespace

int runDev(const DevOptions &Opts) { return DevLoop(Opts).run(); }

} // namespace hotpatch
