//===- DevLoop.cpp - hotpatch dev: save a file, the running program changes ===//
//
// The loop, as passes over one DevLoop:
//
//   1. Read the build once (DevCommands.cpp): which command builds which
//      object, and the files each read: every depfile and Ninja's record.
//   2. Start the program (DevProgram.cpp) and watch the directories of every
//      source and header (DevWatcher.cpp).
//   3. On a save (a file closed after writing, or renamed into place;
//      DevSaves.cpp holds a change back while a save is being written),
//      compile at once the commands that read it (DevCompile.cpp): in this
//      process by the resident compiler, or by running the command. Compiler
//      errors are shown as clang shows them and the program is left alone.
//      If a file those commands read changed again during the compile, the
//      result is dropped and the change compiled again with the newest text.
//   4. Update the build graph from what each compile read (its own entry
//      only: the cost of a save follows the saved file, not the build).
//   5. Thin-link the rebuilt objects against the image each belongs to
//      (DevPatch.cpp) and send the patches to every running process of the
//      build (DevProgram.cpp); print one line.
//   6. Tell Ninja that the objects written are up to date (NinjaRecord.cpp),
//      so that the next build does not compile them again.
//   7. A change that cannot be patched (layout change, new file, ...) says
//      why and, unless --no-restart, rebuilds the program with its build
//      system and restarts it. A program that exits or crashes is started
//      again after the next successful rebuild.
//
//===----------------------------------------------------------------------===//
#include "DevLoop.h"

#include "ChainState.h"
#include "DevCommands.h"
#include "DevCompile.h"
#include "DevImages.h"
#include "DevPatch.h"
#include "DevProgram.h"
#include "DevSaves.h"
#include "DevWatcher.h"
#include "CacheView.h"
#include "ModuleCache.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Demangle/Demangle.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <csignal>
#include <unistd.h>
#include <map>
#include <set>

using namespace llvm;

namespace hotpatch {
namespace {

using Clock = DevClock;

volatile sig_atomic_t Stop = 0;
void onSignal(int) { Stop = 1; }

void say(const std::string &Line) {
  outs() << "[hotpatch] " << Line << "\n";
  outs().flush();
}

/// A change whose files keep changing during its compile is compiled again
/// at most this many times, then patched with the text its compile read.
constexpr unsigned MaxRecompiles = 3;

class DevLoop {
public:
  explicit DevLoop(const DevOptions &Opts)
      : Opts(Opts), Compiler(Opts.Resident, Opts.KeepPreambles, say),
        Program(Opts.Program, Opts.Program.empty() ? "" : absolutePath(Opts.Program[0]), say) {}
  int run();

private:
  bool start();
  void watchNewFiles();
  void watchBuildFiles();
  void handleChange(Change C);
  bool compileAll(Change &C);
  bool changedDuringCompile(Change &C);
  void patch(Change &C);
  void recordForNinja(const Change &C);
  void rebuildAndRestart(const std::string &Why);
  void forgetChains();

  const DevOptions &Opts;
  std::string BuildDir, ProgramPath;
  BuildGraph Graph;
  FileWatcher Watcher;
  DevCompiler Compiler;
  DevProgram Program;
  std::vector<BuildImage> Images;   // the program first, then its libraries
  BuildImage ProgramImage;          // the program, when Images could not be read
  std::set<std::string> BuildFiles; // CMakeLists.txt: changes mean a rebuild
  std::string CommandsFile;         // compile_commands.json, watched too
  KnownProcesses KnownProcs;        // the processes' answers, kept between saves
  unsigned Changes = 0;

  SaveQueue Saves;
  /// Saved files of a change whose compile failed: the next change compiles
  /// what they affect too, or the objects that did compile (and the commands
  /// after the failed one) would never reach the program.
  std::set<std::string> Unpatched;
};

/// Finds the build's images again and forgets their chains of patches.
void DevLoop::forgetChains() {
  Images = findBuildImages(BuildDir, ProgramPath);
  ChainState::remove(ProgramPath);
  for (const BuildImage &I : Images)
    ChainState::remove(I.Path);
}

/// Watches the files that became dependencies (all of them after a load of
/// the build, then the headers an edit includes for the first time).
void DevLoop::watchNewFiles() {
  for (const std::string &F : Graph.takeNewFiles())
    Watcher.watch(F);
}

/// The build description beside each source: a new file or a new flag is a
/// change no patch can make. Once per load of the build.
void DevLoop::watchBuildFiles() {
  if (CommandsFile.empty()) {
    CommandsFile = BuildDir + "/compile_commands.json";
    Watcher.watch(CommandsFile);
  }
  for (const CompileCommand &C : Graph.commands()) {
    std::string Lists = sys::path::parent_path(C.Source).str() + "/CMakeLists.txt";
    if (!BuildFiles.count(Lists) && sys::fs::exists(Lists)) {
      Watcher.watch(Lists);
      BuildFiles.insert(Lists);
    }
  }
}

bool DevLoop::compileAll(Change &C) {
  for (CompileCommand *Cmd : C.Commands) {
    DevCompileResult R = Compiler.compile(*Cmd);
    if (!R.Ok) {
      say("compile error in " + sys::path::filename(Cmd->Source).str() +
          " (above); the program keeps running its current code");
      return false;
    }
    C.CompileMs += R.Ms;
    // An edit may include new headers: watched from now on.
    Graph.update(*Cmd, R.Read);
    C.Results[Cmd] = std::move(R);
  }
  watchNewFiles();
  return true;
}

/// A file the build reads changed while the change compiled: the objects
/// may hold text older than what is on disk, or half a save. The change is
/// compiled again, with the new saves, once they are complete.
bool DevLoop::changedDuringCompile(Change &C) {
  FileEvents E = Watcher.wait(0);
  Saves.take(E);
  if (E.empty() || C.Recompiles >= MaxRecompiles || Graph.affectedBy(E.Touched).empty())
    return false;
  Saves.retry(C);
  say("changed again during the compile: compiling the newest text");
  return true;
}

void DevLoop::handleChange(Change C) {
  for (const std::string &F : C.Saved)
    if (BuildFiles.count(F)) {
      ++Changes;
      say(sys::path::filename(sys::path::parent_path(F)).str() + "/CMakeLists.txt changed: "
          "a change of the build cannot be patched");
      rebuildAndRestart("the build description changed");
      return;
    }
  // The build was configured again (cmake -D..., a new file): objects
  // compiled from now on would follow commands the running program was not
  // built with. A rewrite with the same commands changes nothing.
  if (C.Saved.erase(CommandsFile)) {
    BuildGraph Fresh;
    if (!Fresh.load(BuildDir) || !Fresh.sameCommands(Graph)) {
      ++Changes;
      say("compile_commands.json changed: the build was configured again, which cannot be "
          "patched");
      rebuildAndRestart("the build description changed");
      return;
    }
  }
  C.Saved.insert(Unpatched.begin(), Unpatched.end());
  C.Commands = Graph.affectedBy(C.Saved);
  if (C.Commands.empty())
    return;
  ++Changes;
  if (!compileAll(C)) {
    Unpatched = C.Saved;
    return;
  }
  Unpatched.clear();
  if (changedDuringCompile(C))
    return;
  if (!Program.running()) {
    rebuildAndRestart("the program was not running");
    return;
  }
  patch(C);
}

void DevLoop::patch(Change &C) {
  std::vector<std::string> Objects;
  for (CompileCommand *Cmd : C.Commands)
    Objects.push_back(Cmd->Object);
  auto T = Clock::now();
  DevLinkResult L = linkPatches(Objects, Images, ProgramImage, BuildDir, Changes);
  double LinkMs = msSince(T);
  if (!L.Ok) {
    say("cannot patch" + L.Refused + ": " + L.Error);
    rebuildAndRestart(L.Error);
    return;
  }
  for (const std::string &N : L.Notes)
    say("note: " + N);
  for (const std::string &W : L.Warnings)
    say("warning: " + W);
  if (L.Made.empty()) {
    say("no function changed");
    recordForNinja(C);
    return;
  }
  // The processes of the program's build, listed once: the build the
  // program's patch was made for, if there is one (the program may have
  // been relinked behind hotpatch dev's back).
  auto Deliver = Clock::now();
  std::string Build = Program.buildId();
  for (const MadePatch &M : L.Made)
    if (!M.Image->Library)
      Build = buildIdOfPatch(M.Options.Output);
  std::vector<RunningProcess> Procs;
  bool OwnIsOfBuild = false;
  // A listing that misses hotpatch dev's own program, which listened when
  // it started and still runs, is made again a few times over 250 ms before
  // the program counts as gone or as another build: seen missing once under
  // load, and a wrong answer here is a patch nobody takes, or a restart.
  for (int Try = 0; Try < 6 && !OwnIsOfBuild; ++Try) {
    if (Try) {
      usleep(50 * 1000);
      Program.checkExited();
      if (!Program.running() || !Program.listenedAtStart())
        break;
    }
    Procs = processesOfBuild(Build, KnownProcs);
    for (const RunningProcess &P : Procs)
      OwnIsOfBuild |= P.Pid == Program.pid();
  }
  if (!OwnIsOfBuild && Program.listens()) {
    say("the running program is not the build the patch was made for (it was "
        "relinked since it started)");
    rebuildAndRestart("the running program is another build");
    return;
  }
  Program.announce("patch-starting", "", &Procs);
  for (const MadePatch &M : L.Made) {
    ApplyOutcome A = applyToProcesses(Procs, M.Options.Output, M.Image->Library,
                                      Program.pid(), say);
    if (A.OwnRefused) {
      // A refused patch leaves the process a patch behind its chain: later
      // patches would be refused too.
      rebuildAndRestart("the program refused the patch");
      return;
    }
    if (A.Applied == 0 && A.Waiting == 0)
      // Nothing runs the new code: never say "patched".
      say(formatv("made a patch of {0}, but no process of the program's build listens "
                  "for patches (it runs with HOTPATCH_DISABLE=1, or without libhotpatch): "
                  "the running code is unchanged; a process of this build started again "
                  "takes the patch at start",
                  describePatch(M))
              .str());
    else
      say(formatv("patched {0} in {1} process{2}: {3:F0} ms (compile {4:F0} ms, thin link "
                  "{5:F1} ms, apply {6:F2} ms)",
                  describePatch(M), A.Applied, A.Applied == 1 ? "" : "es", msSince(C.Since),
                  C.CompileMs, LinkMs, A.Ms)
              .str());
    if (Opts.Stats) {
      say(timingLine(C, LinkMs, A.Ms, msSince(Deliver), Graph.commands().size(),
                     Watcher.size()));
      Compiler.printStats();
    }
    std::string Image = sys::path::filename(M.Image->Path).str();
    if (A.Waiting)
      say(formatv("{0} process{1} {2} not loaded {3} yet: the patch is applied when {4} "
                  "load it",
                  A.Waiting, A.Waiting == 1 ? "" : "es", A.Waiting == 1 ? "has" : "have",
                  Image, A.Waiting == 1 ? "it does" : "they")
              .str());
  }
  recordForNinja(C);
}


/// The objects are the build's own: Ninja need not compile them again.
void DevLoop::recordForNinja(const Change &C) {
  for (CompileCommand *Cmd : C.Commands) {
    std::string Why = recordInNinja(*Cmd, C.Results.at(Cmd));
    if (Opts.Stats)
      say("stats: ninja: " + sys::path::filename(Cmd->Object).str() +
          (Why.empty() ? ": recorded as up to date" : ": left to the next build: " + Why));
  }
}

void DevLoop::rebuildAndRestart(const std::string &Why) {
  Unpatched.clear(); // the rebuild compiles everything
  if (!Opts.Restart) {
    say("not restarting (--no-restart): the program keeps running its current code");
    return;
  }
  Program.announce("rebuild-starting", Why);
  say("rebuilding: cmake --build " + BuildDir);
  auto T = Clock::now();
  auto Cmake = sys::findProgramByName("cmake");
  if (!Cmake) {
    say("cannot rebuild: cmake is not on PATH; the program keeps running its current code");
    return;
  }
  std::vector<StringRef> Args = {*Cmake, "--build", BuildDir};
  if (sys::ExecuteAndWait(*Cmake, Args) != 0) {
    Program.announce("rebuild-failed", "cmake --build failed");
    say("rebuild failed (see above); the program keeps running its current code");
    return;
  }
  Program.announce("restart-needed", Why);
  Program.forgetBuildId(); // the rebuild made a new binary
  Program.stop();
  forgetChains(); // a new build starts new chains
  Graph.load(BuildDir);
  watchNewFiles();
  watchBuildFiles();
  Program.start(Watcher.size());
  say(formatv("rebuilt and restarted in {0:F0} ms", msSince(T)).str());
}

bool DevLoop::start() {
  SmallString<256> B(Opts.BuildDir);
  sys::fs::make_absolute(B);
  BuildDir = std::string(B);
  ProgramPath = ProgramImage.Path = absolutePath(Opts.Program[0]);
  std::string Cache = cachePathFor(ProgramPath);
  if (!sys::fs::exists(Cache) && !sys::fs::exists(Cache + ".pending")) {
    errs() << "hotpatch dev: error: " << ProgramPath << " has no module cache (" << Cache
           << "); link it with thinlink (hotpatch_enable() does)\n";
    return false;
  }
  if (!Graph.load(BuildDir))
    return false;
  if (!Watcher.ok()) {
    errs() << "hotpatch dev: error: inotify: " << strerror(errno) << "\n";
    return false;
  }
  forgetChains(); // the program starts unpatched
  // Mapped, and kept for the thin links that follow (openCacheView).
  auto C = openCacheView(Cache);
  if (!C) {
    errs() << "hotpatch dev: error: " << toString(C.takeError()) << "\n";
    return false;
  }
  Program.setBuildId(toHex((*C)->image().BuildId, true));
  // Copies of inline functions compiled without the plugin won at link
  // time: edits of those reach only calls from plugin-built code.
  for (uint32_t I = 0; I < (*C)->numSlots(); ++I)
    if (SlotRecord S = (*C)->slot(I); S.UnpatchedCopy)
      say("warning: " + demangle(S.Name) + ": the copy linked in was compiled "
          "without the hotpatch plugin; calls from files built without it and "
          "pointers to it keep running the original code");
  watchNewFiles();
  watchBuildFiles();
  return true;
}

int DevLoop::run() {
  if (Opts.Program.empty()) {
    errs() << "usage: hotpatch dev [-p <build dir>] [--no-restart] -- <program> [args...]\n";
    return 2;
  }
  if (!start())
    return 1;
  signal(SIGINT, onSignal);
  signal(SIGTERM, onSignal);
  if (!Program.start(Watcher.size()))
    return 1;
  Compiler.preparePreambles(Graph.commands());

  while (!Stop) {
    // A save is complete when its file is closed: the compile starts then,
    // unless another watched file is being written (a save in progress).
    Saves.take(Watcher.wait(Saves.empty() ? 200 : 10));
    Program.checkExited();
    // Saves were lost (the kernel's event queue overflowed, as a large
    // checkout can make it): only the build knows what changed.
    if (Saves.takeLostEvents()) {
      ++Changes;
      say("too many files changed at once for the kernel's watch queue: which "
          "saves were missed is not known");
      rebuildAndRestart("files changed that hotpatch dev could not follow");
      continue;
    }
    if (!Saves.ready())
      continue;
    handleChange(Saves.next());
    // After the patch is out: preambles the change made stale (a header
    // several files include) are rebuilt for their next save.
    Compiler.refreshPreambles();
  }
  Program.announce("shutdown");
  Program.stop();
  say("stopped");
  return 0;
}

} // namespace

int runDev(const DevOptions &Opts) { return DevLoop(Opts).run(); }

} // namespace hotpatch
