//===- Preambles.cpp - precompiled preambles kept in memory ---------------===//
#include "Preambles.h"

#include "clang/Basic/SourceManager.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Lex/PreprocessorOptions.h"
#include "clang/Serialization/PCHContainerOperations.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/xxhash.h"

#include <chrono>
#include <sys/stat.h>
#include <time.h>

using namespace llvm;

namespace hotpatch {
namespace {

std::string absoluteIn(StringRef Name, StringRef Dir) {
  SmallString<256> P(Name);
  sys::fs::make_absolute(Dir, P);
  return std::string(P);
}

/// Records what the preamble was built from: each file the preprocessor
/// entered, with the hash of the very text it parsed.
class FileRecorder : public clang::PreambleCallbacks {
public:
  explicit FileRecorder(std::string Dir) : Dir(std::move(Dir)) {}
  void AfterExecute(clang::CompilerInstance &CI) override {
    clang::SourceManager &SM = CI.getSourceManager();
    clang::OptionalFileEntryRef Main = SM.getFileEntryRefForID(SM.getMainFileID());
    for (auto It = SM.fileinfo_begin(); It != SM.fileinfo_end(); ++It) {
      if (Main && It->first == *Main)
        continue;
      std::optional<MemoryBufferRef> Text = It->second->getBufferIfLoaded();
      if (!Text) // looked up, never read
        continue;
      KeptPreamble::File F;
      F.Name = It->first.getName().str();
      F.Hash = xxh3_64bits(Text->getBuffer());
      F.Stamp = stampOf(absoluteIn(F.Name, Dir));
      Files.push_back(std::move(F));
    }
  }
  std::string Dir;
  std::vector<KeptPreamble::File> Files;
};

int64_t realtimeNs() {
  timespec T;
  clock_gettime(CLOCK_REALTIME, &T);
  return int64_t(T.tv_sec) * 1000000000 + T.tv_nsec;
}

/// A file whose status changed less than this before the preamble was
/// built may have changed again within the file system's timestamp
/// granularity: its content is always compared.
constexpr int64_t RacyNs = 2000000000;

} // namespace

FileStamp stampOf(const std::string &Path) {
  FileStamp S;
  struct stat St;
  if (::stat(Path.c_str(), &St) != 0)
    return S;
  S.Dev = St.st_dev;
  S.Ino = St.st_ino;
  S.Size = St.st_size;
  S.MtimeNs = int64_t(St.st_mtim.tv_sec) * 1000000000 + St.st_mtim.tv_nsec;
  S.CtimeNs = int64_t(St.st_ctim.tv_sec) * 1000000000 + St.st_ctim.tv_nsec;
  S.Valid = true;
  return S;
}

std::string commandKey(const CompileCommandLine &C) {
  return C.Directory + '\0' + join(C.Args, std::string(1, '\0'));
}

std::string preambleStaleness(const KeptPreamble &K, const CompileCommandLine &C,
                              const ResidentInvocation &RI, const MemoryBuffer &Main) {
  if (K.Command != commandKey(C))
    return "the compile command changed";
  clang::PreambleBounds Bounds =
      clang::ComputePreambleBounds(RI.Invocation->getLangOpts(), Main.getMemBufferRef(), 0);
  if (!K.Preamble.CanReuse(*RI.Invocation, Main.getMemBufferRef(), Bounds, *RI.FS))
    return "the include block or a file it reads changed";
  std::string Present = K.Absent.firstNoLongerAbsent();
  if (!Present.empty())
    return Present;
  // The content, unless the inode is provably the one the preamble read:
  // the same identity, size and times, and its status last changed well
  // before the preamble was built (git's "racily clean" rule).
  for (const KeptPreamble::File &F : K.Files) {
    if (F.Stamp.CtimeNs < K.BuiltAfterNs - RacyNs &&
        stampOf(absoluteIn(F.Name, C.Directory)) == F.Stamp)
      continue;
    auto Text = RI.FS->getBufferForFile(F.Name);
    if (!Text)
      return F.Name + " is gone";
    if (xxh3_64bits((*Text)->getBuffer()) != F.Hash)
      return F.Name + " changed";
  }
  return "";
}

PreambleStore::PreambleStore(unsigned Keep, InvocationMaker Make)
    : Keep(Keep), Make(std::move(Make)) {
  if (Keep)
    Worker = std::thread([this] { worker(); });
}

PreambleStore::~PreambleStore() {
  {
    std::lock_guard<std::mutex> G(Lock);
    Stopping = true;
  }
  Changed.notify_all();
  if (Worker.joinable())
    Worker.join();
}

std::shared_ptr<const KeptPreamble> PreambleStore::build(const CompileCommandLine &C,
                                                         std::string &Err) {
  auto T = std::chrono::steady_clock::now();
  Expected<ResidentInvocation> RI = Make(C);
  if (!RI) {
    Err = toString(RI.takeError());
    return nullptr;
  }
  const clang::CompilerInvocation &Inv = *RI->Invocation;
  if (!Inv.getPreprocessorOpts().ImplicitPCHInclude.empty()) {
    Err = "the command uses its own precompiled header";
    return nullptr;
  }
  auto Main = RI->FS->getBufferForFile(Inv.getFrontendOpts().Inputs[0].getFile());
  if (!Main) {
    Err = "cannot read " + C.Source;
    return nullptr;
  }
  clang::PreambleBounds Bounds =
      clang::ComputePreambleBounds(Inv.getLangOpts(), (*Main)->getMemBufferRef(), 0);
  if (Bounds.Size == 0) {
    Err = "the file has no include block";
    return nullptr;
  }
  // Diagnostics of the include block are the compile's to show: a preamble
  // with errors is not kept, and the compile without it reports them.
  clang::IgnoringDiagConsumer Quiet;
  IntrusiveRefCntPtr<clang::DiagnosticsEngine> Diags =
      clang::CompilerInstance::createDiagnostics(new clang::DiagnosticOptions(Inv.getDiagnosticOpts()),
                                                 &Quiet, /*ShouldOwnClient=*/false);
  FileRecorder Recorder(C.Directory);
  auto Lookups = makeIntrusiveRefCnt<AbsentFileRecorder>(RI->FS);
  int64_t BuiltAfterNs = realtimeNs();
  std::optional<ErrorOr<clang::PrecompiledPreamble>> P;
  CrashRecoveryContext CRC;
  bool Survived = CRC.RunSafely([&] {
    P.emplace(clang::PrecompiledPreamble::Build(
        Inv, Main->get(), Bounds, *Diags, Lookups,
        std::make_shared<clang::PCHContainerOperations>(), /*StoreInMemory=*/true,
        /*StoragePath=*/"", Recorder));
  });
  if (!Survived) {
    Err = "clang crashed building the preamble";
    return nullptr;
  }
  if (!*P) {
    Err = "cannot build the preamble: " + P->getError().message();
    return nullptr;
  }
  if (Diags->hasErrorOccurred()) {
    Err = "the include block has errors";
    return nullptr;
  }
  auto K = std::make_shared<KeptPreamble>(std::move(**P));
  K->Command = commandKey(C);
  K->Files = std::move(Recorder.Files);
  K->Absent = AbsentFiles(Lookups->take(), BuiltAfterNs);
  K->BuiltAfterNs = BuiltAfterNs;
  K->BuildMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - T).count();
  return K;
}

std::shared_ptr<const KeptPreamble> PreambleStore::find(const CompileCommandLine &C,
                                                        const ResidentInvocation &RI,
                                                        const MemoryBuffer &Main,
                                                        std::string &Stale) {
  Stale.clear();
  std::shared_ptr<const KeptPreamble> K;
  {
    std::unique_lock<std::mutex> L(Lock);
    Changed.wait(L, [&] {
      auto It = Entries.find(C.Source);
      return Stopping || It == Entries.end() || !It->second.Building;
    });
    auto It = Entries.find(C.Source);
    if (It == Entries.end() || !It->second.Kept)
      return nullptr;
    K = It->second.Kept;
  }
  Stale = preambleStaleness(*K, C, RI, Main);
  return Stale.empty() ? K : nullptr;
}

std::shared_ptr<const KeptPreamble> PreambleStore::buildNow(const CompileCommandLine &C,
                                                            std::string &Err) {
  std::shared_ptr<const KeptPreamble> K = build(C, Err);
  std::lock_guard<std::mutex> G(Lock);
  Entry &E = Entries[C.Source];
  E.Command = C;
  E.Kept = K;
  E.LastUse = ++Clock;
  evict();
  return K;
}

void PreambleStore::buildInBackground(const CompileCommandLine &C) {
  if (!Keep)
    return;
  {
    std::lock_guard<std::mutex> G(Lock);
    Entry &E = Entries[C.Source];
    E.Command = C;
    if (E.Building)
      return;
    E.Building = true;
    if (!E.LastUse)
      E.LastUse = ++Clock;
    Queue.push_back(C.Source);
  }
  Changed.notify_all();
}

void PreambleStore::touch(const std::string &Source) {
  std::lock_guard<std::mutex> G(Lock);
  auto It = Entries.find(Source);
  if (It != Entries.end())
    It->second.LastUse = ++Clock;
}

void PreambleStore::rebuildStale() {
  std::vector<Entry> Kept;
  {
    std::lock_guard<std::mutex> G(Lock);
    for (auto &[Source, E] : Entries)
      if (E.Kept && !E.Building)
        Kept.push_back(E);
  }
  for (const Entry &E : Kept) {
    Expected<ResidentInvocation> RI = Make(E.Command);
    if (!RI) {
      consumeError(RI.takeError());
      continue;
    }
    auto Main = RI->FS->getBufferForFile(E.Command.Source);
    if (!Main || !preambleStaleness(*E.Kept, E.Command, *RI, **Main).empty())
      buildInBackground(E.Command);
  }
}

void PreambleStore::worker() {
  while (true) {
    CompileCommandLine C;
    {
      std::unique_lock<std::mutex> L(Lock);
      Changed.wait(L, [&] { return Stopping || !Queue.empty(); });
      if (Stopping)
        return;
      std::string Source = Queue.front();
      Queue.pop_front();
      C = Entries[Source].Command;
    }
    std::string Err;
    std::shared_ptr<const KeptPreamble> K = build(C, Err);
    {
      std::lock_guard<std::mutex> G(Lock);
      Entry &E = Entries[C.Source];
      E.Building = false;
      E.Kept = K; // a failed build leaves none: the old one is stale
      evict();
    }
    Changed.notify_all();
  }
}

void PreambleStore::evict() {
  for (auto It = Entries.begin(); It != Entries.end();)
    if (!It->second.Kept && !It->second.Building)
      It = Entries.erase(It);
    else
      ++It;
  while (Entries.size() > Keep) {
    auto Oldest = Entries.end();
    for (auto It = Entries.begin(); It != Entries.end(); ++It)
      if (!It->second.Building && (Oldest == Entries.end() || It->second.LastUse < Oldest->second.LastUse))
        Oldest = It;
    if (Oldest == Entries.end())
      return;
    Entries.erase(Oldest);
  }
}

std::vector<PreambleStat> PreambleStore::stats() {
  std::lock_guard<std::mutex> G(Lock);
  std::vector<PreambleStat> Out;
  for (auto &[Source, E] : Entries) {
    PreambleStat S;
    S.Source = Source;
    S.Building = E.Building;
    if (E.Kept) {
      S.Bytes = E.Kept->Preamble.getSize();
      S.Files = E.Kept->Files.size();
      S.Absent = E.Kept->Absent.size();
      S.BuildMs = E.Kept->BuildMs;
    }
    Out.push_back(S);
  }
  return Out;
}

} // namespace hotpatch
