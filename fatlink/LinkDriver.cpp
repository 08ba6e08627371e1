//===- LinkDriver.cpp - thinlink's command line ----------------------------===//
//
// The fat link, as passes over the command line:
//
//   1. (tools/thinlink.cpp) Expand response files, so every option is seen.
//   2. Refuse what would make the output unpatchable without saying so:
//      --strip-all (the cache and patches need the symbol table),
//      identical code folding (one body for several functions: a patch of
//      one would have to unfold it under callers that call it directly),
//      --build-id=none (patches are matched to their base by build-id).
//   3. Add what patching needs: --build-id when none was given, --trace.
//   4. Link with lld in-process; its messages and exit code are the user's.
//   5. Describe the output and its inputs and write the cache atomically.
//
// Known limit: an archive holding two members of the same name (llvm-ar q
// of d1/x.o and d2/x.o) is described by its first member of that name, as
// lld's --trace names members by name only.
//
// Options thinlink does not understand are lld's business: they are passed
// through untouched, and lld reports them as ld.lld would.
//
//===----------------------------------------------------------------------===//
#include "LinkDriver.h"

#include "CacheBuilder.h"
#include "LinkOptions.h"
#include "LldRunner.h"
#include "ModuleCache.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Threading.h"

#include <cerrno>
#include <fcntl.h>
#include <functional>
#include <mutex>
#include <unistd.h>


using namespace llvm;

namespace hotpatch {
namespace {


int dumpCache(const LinkOptions &O, raw_ostream &Out, raw_ostream &Err) {
  auto C = readModuleCache(O.DumpCache);
  if (!C) {
    Err << "thinlink: error: " << toString(C.takeError()) << "\n";
    return 1;
  }
  if (O.Json)
    dumpModuleCacheJSON(*C, Out);
  else
    dumpModuleCache(*C, Out);
  return 0;
}

/// Describing the link (reading the image, hashing every input section,
/// compressing) costs as much as the link itself, and nothing in the build
/// needs it: the output is complete and the inputs are held in memory. So a
/// child process finishes it while thinlink returns to the build. The child
/// is the cache's one writer (cache/CacheWriter.cpp): it holds the cache's
/// lock, and readers wait for it; a failure leaves "<cache>.error" instead
/// of a cache. thinlink returns once the child holds the lock, so no reader
/// can find the old cache without finding the writer. Returns false if the
/// child could not be started (the caller then does the work itself).
///
/// The fork comes after lld ran its thread pool, unlike mold's (which forks
/// before any thread exists). It is safe because of when it happens: lld has
/// returned, its workers are idle, waiting on their queue without holding a
/// lock, and glibc's fork makes malloc usable in the child; the child runs
/// only this thread and sets LLVM's parallelism to one, so it never waits on
/// a worker that was not copied.
bool finishInBackground(const std::string &CachePath,
                        const std::function<Error()> &Describe) {
  // A writer of an earlier link of the same output still at work would put
  // its cache in place after ours: let it finish first (links back to back).
  consumeError(waitForCacheWriter(CachePath));
  int Ready[2];
  if (pipe(Ready) != 0)
    return false;
  outs().flush();
  errs().flush();
  pid_t Pid = fork();
  if (Pid < 0) {
    close(Ready[0]);
    close(Ready[1]);
    return false;
  }
  if (Pid > 0) {
    // Back to the build once the child holds the lock (or has failed to).
    close(Ready[1]);
    char Answer = 0;
    ssize_t N;
    do
      N = read(Ready[0], &Answer, 1);
    while (N < 0 && errno == EINTR);
    close(Ready[0]);
    return N == 1 && Answer == 'y';
  }
  // The child: off the build's pipes and terminal, so nothing waits for it.
  close(Ready[0]);
  parallel::strategy = hardware_concurrency(1);
  setsid();
  int Null = open("/dev/null", O_RDWR);
  if (Null >= 0) {
    dup2(Null, 0);
    dup2(Null, 1);
    dup2(Null, 2);
  }
  Expected<int> Lock = becomeCacheWriter(CachePath);
  char Answer = Lock ? 'y' : 'n';
  ssize_t Written = write(Ready[1], &Answer, 1);
  (void)Written; // the parent sees end-of-file if not
  close(Ready[1]);
  if (!Lock) {
    consumeError(Lock.takeError());
    _exit(1); // the parent does the work itself
  }
  if (Error E = Describe()) {
    std::error_code EC;
    raw_fd_ostream F(CachePath + ".error", EC);
    F << toString(std::move(E));
  }
  finishCacheWriter(CachePath, *Lock);
  _exit(0);
}

/// Whether the link names the hotpatch runtime (hotpatch_enable() adds it
/// to every enabled target; -lhotpatch or a path to libhotpatch.so).
bool linksRuntime(ArrayRef<const char *> Args) {
  for (StringRef A : Args.drop_front())
    if (A == "-lhotpatch" || sys::path::filename(A) == "libhotpatch.so" ||
        A == "-l:libhotpatch.so")
      return true;
  return false;
}

/// A linker script fragment that gives a shared library its patch area
/// (hotpatch/patch_format.h): NOBITS after .bss, so it costs no file bytes
/// and no memory until a patch is mapped there.
Expected<std::string> writeArenaScript() {
  SmallString<128> Path;
  int FD;
  if (std::error_code EC = sys::fs::createTemporaryFile("hotpatch-arena", "lds", FD, Path))
    return createStringError(EC, "cannot write the patch area script: " + EC.message());
  raw_fd_ostream OS(FD, /*shouldClose=*/true);
  OS << "SECTIONS {\n  .hotpatch_arena (NOLOAD) : ALIGN(4096) {\n    " HOTPATCH_ARENA_BEGIN
        " = .;\n    . += "
     << HOTPATCH_ARENA_SIZE << ";\n    " HOTPATCH_ARENA_END " = .;\n  }\n} INSERT AFTER .bss;\n";
  return std::string(Path);
}

/// Refusals: each says what the option would break and what to do instead.
bool refuseUnpatchable(const LinkOptions &O, raw_ostream &Err) {
  bool Refused = false;
  auto Refuse = [&](const Twine &Msg) {
    Err << "thinlink: error: " << Msg << "\n";
    Refused = true;
  };
  if (O.StripAll)
    Refuse("--strip-all (-s) removes the symbol table that patches are "
           "resolved against; drop it for builds you patch (strip a copy "
           "afterwards, or link release builds with ld.lld)");
  if (!O.Icf.empty() && O.Icf != "none")
    Refuse("--icf=" + O.Icf + " folds identical functions into one body, "
           "which a patch of one of them cannot unfold for callers that call "
           "it directly; drop --icf for builds you patch");
  if (O.BuildIdNone)
    Refuse("--build-id=none leaves the output without the build-id that "
           "ties each patch to the exact build it was made for; drop it "
           "(thinlink adds --build-id when none is given)");
  return Refused;
}


} // namespace

static bool BackgroundCache = false;
void setBackgroundCache(bool On) { BackgroundCache = On; }



int fatLinkMain(ArrayRef<const char *> Args, raw_ostream &Out, raw_ostream &Err) {
  LinkOptions O = scanOptions(Args);
  if (!O.DumpCache.empty())
    return dumpCache(O, Out, Err);

  // lld picks its flavour from argv[0].
  SmallVector<const char *, 64> LldArgs;
  LldArgs.push_back("ld.lld");
  LldArgs.append(Args.begin() + 1, Args.end());
  if (O.InfoOnly || O.Relocatable)
    return runLld(LldArgs, Out, Err);
  if (refuseUnpatchable(O, Err))
    return 1;
  if (!O.HasBuildId)
    LldArgs.push_back("--build-id");
  if (!O.UserTrace)
    LldArgs.push_back("--trace");
  std::vector<std::string> Recorded(LldArgs.begin() + 1, LldArgs.end());
  // A shared library that links the runtime gets its patch area.
  std::string ArenaScript;
  auto RemoveArena = make_scope_exit([&] {
    if (!ArenaScript.empty())
      sys::fs::remove(ArenaScript);
  });
  if (O.Shared && linksRuntime(Args)) {
    auto Path = writeArenaScript();
    if (!Path) {
      Err << "thinlink: error: " << toString(Path.takeError()) << "\n";
      return 1;
    }
    ArenaScript = *Path;
    LldArgs.push_back(ArenaScript.c_str());
  }

  // --trace goes to lld's stdout, mixed with whatever else the user asked to
  // see there (-M, --print-gc-sections...): pass on every line that is not an
  // input file name.
  SmallString<256> Cwd;
  if (std::error_code EC = sys::fs::current_path(Cwd)) {
    Err << "thinlink: error: cannot get the working directory: " << EC.message() << "\n";
    return 1;
  }
  std::string Stdout;
  raw_string_ostream StdoutOS(Stdout);
  int RC = runLld(LldArgs, StdoutOS, Err);
  StdoutOS.flush();
  // A position-dependent executable links (thinlink stays a drop-in ld.lld,
  // whose default it is), with a warning once it is linked rather than a refusal at the
  // first patch.
  if (RC == 0 && !O.Relocatable && !O.Shared && !O.Pie && O.HasInputs && !O.InfoOnly &&
      O.DumpCache.empty())
    Err << "thinlink: warning: '" << O.Output
        << "' is a position-dependent executable (-no-pie, or ld.lld without -pie): "
           "it cannot be patched, because patches are mapped within 2 GiB below "
           "the program, and a position-dependent one sits at a fixed low address "
           "(0x400000) with no room below it; link it as a PIE to patch it "
           "(drop -no-pie: clang builds PIE by default on Debian, or pass -pie)\n";

  std::vector<TracedInput> Inputs;
  StringRef Text = Stdout;
  if (Text.ends_with("\n"))
    Text = Text.drop_back(); // the last line's newline, not an empty line
  for (StringRef Line : split(Text, '\n')) {
    TracedInput T;
    if (parseTraceLine(Line, T)) {
      Inputs.push_back(std::move(T));
      if (!O.UserTrace)
        continue;
    }
    if (!Stdout.empty())
      Out << Line << "\n";
  }
  Out.flush();
  if (RC != 0)
    return RC;
  // `-v` alone prints the version and links nothing.
  if (O.Verbose && Inputs.empty() && !sys::fs::exists(O.Output))
    return RC;

  auto Snapshot = LinkSnapshot::take(O.Output, Inputs, Cwd);
  if (!Snapshot) {
    Err << "thinlink: error: " << O.Output
        << " was linked, but cannot be patched: " << toString(Snapshot.takeError())
        << "\n";
    return 1;
  }
  std::string CachePath = cachePathFor(absolutePath(O.Output, Cwd));
  auto Describe = [&]() -> Error {
    auto Cache = (*Snapshot)->describe(Recorded, Cwd);
    if (!Cache) {
      // A stale cache of an earlier build must not be taken for this one.
      sys::fs::remove(CachePath);
      return createStringError(inconvertibleErrorCode(),
                               O.Output + " was linked, but cannot be patched: " +
                                   toString(Cache.takeError()));
    }
    if (Error E = writeModuleCache(*Cache, CachePath))
      return createStringError(inconvertibleErrorCode(),
                               O.Output + " was linked, but its module cache could "
                                          "not be written: " + toString(std::move(E)));
    return Error::success();
  };
  const char *Sync = getenv("HOTPATCH_SYNC_CACHE");
  if (BackgroundCache && !(Sync && *Sync && StringRef(Sync) != "0"))
    if (finishInBackground(CachePath, Describe))
      return 0;
  if (Error E = Describe()) {
    Err << "thinlink: error: " << toString(std::move(E)) << "\n";
    return 1;
  }
  return 0;
}

} // namespace hotpatch
