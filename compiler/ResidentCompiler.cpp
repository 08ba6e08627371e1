//===- ResidentCompiler.cpp - compile commands in this process ------------===//
//
// One compile, as passes:
//
//   1. the command's invocation, from Clang's driver (built once per command
//      and copied for each compile), or the reason to run the command;
//   2. its plugins, loaded as clang loads them;
//   3. the kept preamble of the file, if it is still the one to use
//      (Preambles.h), added to the invocation as an implicit precompiled
//      header over the file's include block;
//   4. Clang's EmitObjAction: parse, the plugins' AST actions, code
//      generation with the plugins' pass callbacks, the object into memory;
//      diagnostics through a TextDiagnosticPrinter with the command's
//      diagnostic options (colours, caret lines, "1 error generated.");
//   5. the object written where the build expects it, atomically;
//   6. the preamble (re)built in the background when there was none to use,
//      so that the next save finds it.
//
//===----------------------------------------------------------------------===//
#include "ResidentCompiler.h"

#include "clang/CodeGen/CodeGenAction.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Lex/PreprocessorOptions.h"
#include "clang/Frontend/TextDiagnosticPrinter.h"
#include "clang/Frontend/Utils.h"
#include "llvm/Support/CrashRecoveryContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"

#include <chrono>
#include <mutex>
#include <unistd.h>

using namespace llvm;

namespace hotpatch {
namespace {

/// Every file the compile read, system headers included (a project may
/// include its own code with -isystem).
class AllFiles : public clang::DependencyCollector {
  bool needSystemDependencies() override { return true; }
};

/// Writes Bytes to Path through a temporary file in the same directory,
/// renamed over it: readers see the old object or the new one.
Error writeAtomically(StringRef Path, StringRef Bytes) {
  int FD;
  SmallString<256> Temp;
  if (std::error_code EC =
          sys::fs::createUniqueFile(Path + ".hotpatch-%%%%%%.tmp", FD, Temp))
    return createStringError(EC, "cannot write " + Path + ": " + EC.message());
  {
    raw_fd_ostream OS(FD, /*shouldClose=*/true);
    OS << Bytes;
    OS.close();
    if (OS.has_error()) {
      sys::fs::remove(Temp);
      return createStringError(OS.error(), "cannot write " + Path + ": " + OS.error().message());
    }
  }
  if (std::error_code EC = sys::fs::rename(Temp, Path)) {
    sys::fs::remove(Temp);
    return createStringError(EC, "cannot write " + Path + ": " + EC.message());
  }
  return Error::success();
}

std::string absoluteIn(StringRef Name, StringRef Dir) {
  SmallString<256> P(Name);
  sys::fs::make_absolute(Dir, P);
  sys::path::remove_dots(P, /*remove_dot_dot=*/true);
  return std::string(P);
}

double msSince(std::chrono::steady_clock::time_point T) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - T).count();
}

} // namespace

ResidentCompiler::ResidentCompiler(ResidentOptions O)
    : Opts(O), Preambles(O.KeepPreambles,
                         [this](const CompileCommandLine &C) { return invocation(C); }) {
  static std::once_flag Once;
  std::call_once(Once, [] {
    InitializeAllTargetInfos();
    InitializeAllTargets();
    InitializeAllTargetMCs();
    InitializeAllAsmPrinters();
    InitializeAllAsmParsers();
    // A crash of the compiler in process ends that compile, not hotpatch
    // dev: the command is run instead.
    CrashRecoveryContext::Enable();
  });
}

ResidentCompiler::~ResidentCompiler() = default;

Expected<ResidentInvocation> ResidentCompiler::invocation(const CompileCommandLine &C) {
  std::string Key = commandKey(C);
  {
    std::lock_guard<std::mutex> G(InvocationsLock);
    auto It = Invocations.find(Key);
    if (It != Invocations.end())
      return It->second;
  }
  Expected<ResidentInvocation> RI = makeInvocation(C);
  if (!RI)
    return RI.takeError();
  std::lock_guard<std::mutex> G(InvocationsLock);
  Invocations[Key] = *RI;
  return *RI;
}

CompileResult ResidentCompiler::compile(const CompileCommandLine &C, raw_ostream &Diags) {
  auto T = std::chrono::steady_clock::now();
  CompileResult R;
  Expected<ResidentInvocation> RI = invocation(C);
  if (!RI) {
    R.Reason = toString(RI.takeError());
    return R;
  }
  if (Error E = Plugins.admit(RI->Plugins)) {
    R.Reason = toString(std::move(E));
    return R;
  }
  auto Inv = std::make_shared<clang::CompilerInvocation>(*RI->Invocation);
  auto Main = RI->FS->getBufferForFile(Inv->getFrontendOpts().Inputs[0].getFile());
  if (!Main) {
    R.Reason = "cannot read " + C.Source;
    return R;
  }
  IntrusiveRefCntPtr<vfs::FileSystem> FS = RI->FS;
  std::shared_ptr<const KeptPreamble> Kept;
  bool WantsPreamble = Opts.KeepPreambles &&
                       Inv->getPreprocessorOpts().ImplicitPCHInclude.empty() &&
                       clang::ComputePreambleBounds(Inv->getLangOpts(),
                                                    (*Main)->getMemBufferRef(), 0)
                               .Size > 0;
  if (WantsPreamble) {
    Preambles.touch(C.Source);
    auto TC = std::chrono::steady_clock::now();
    Kept = Preambles.find(C, *RI, **Main, R.StaleBecause);
    R.PreambleCheckMs = msSince(TC);
    if (Kept) {
      // The main file becomes this very text: what the preamble was
      // checked against is what is compiled.
      Kept->Preamble.AddImplicitPreamble(*Inv, FS, Main->get());
      // The main file's buffer is remapped, and stays ours: without this the
      // compiler instance frees it too.
      Inv->getPreprocessorOpts().RetainRemappedFileBuffers = true;
      R.Preamble = CompileResult::Reused;
    } else if (!R.StaleBecause.empty()) {
      R.Preamble = CompileResult::Stale;
    }
  }

  clang::CompilerInstance CI;
  CI.setInvocation(Inv);
  clang::TextDiagnosticPrinter Printer(Diags, &Inv->getDiagnosticOpts());
  CI.createDiagnostics(&Printer, /*ShouldOwnClient=*/false);
  CI.createFileManager(FS);
  auto Files = std::make_shared<AllFiles>();
  CI.addDependencyCollector(Files);
  SmallVector<char, 0> Object;
  CI.setOutputStream(std::make_unique<raw_svector_ostream>(Object));
  bool Ok = false;
  {
    clang::EmitObjAction Act;
    CrashRecoveryContext CRC;
    if (!CRC.RunSafely([&] { Ok = CI.ExecuteAction(Act); })) {
      R.Reason = "clang crashed compiling it in process";
      return R;
    }
  }
  Diags.flush();
  for (const std::string &F : Files->getDependencies())
    R.Files.insert(absoluteIn(F, C.Directory));
  if (Kept)
    for (const auto &F : Kept->Files)
      R.Files.insert(absoluteIn(F.Name, C.Directory));
  if (!Ok) {
    R.Outcome = CompileResult::Failed;
    R.Ms = msSince(T);
    return R;
  }
  if (Error E = writeAtomically(C.Object, StringRef(Object.data(), Object.size()))) {
    Diags << "error: " << toString(std::move(E)) << "\n";
    R.Outcome = CompileResult::Failed;
    R.Ms = msSince(T);
    return R;
  }
  R.Outcome = CompileResult::Compiled;
  R.Ms = msSince(T);
  if (WantsPreamble && !Kept)
    Preambles.buildInBackground(C);
  return R;
}

void ResidentCompiler::prepare(const CompileCommandLine &C) {
  if (!Opts.KeepPreambles)
    return;
  Expected<ResidentInvocation> RI = invocation(C);
  if (!RI) {
    consumeError(RI.takeError());
    return;
  }
  if (Error E = Plugins.admit(RI->Plugins)) {
    consumeError(std::move(E));
    return;
  }
  Preambles.buildInBackground(C);
}

bool ResidentCompiler::preambleNow(const CompileCommandLine &C, std::string &Err) {
  Expected<ResidentInvocation> RI = invocation(C);
  if (!RI) {
    Err = toString(RI.takeError());
    return false;
  }
  if (Error E = Plugins.admit(RI->Plugins)) {
    Err = toString(std::move(E));
    return false;
  }
  return Preambles.buildNow(C, Err) != nullptr;
}

uint64_t residentMemory() {
  auto Statm = MemoryBuffer::getFileAsStream("/proc/self/statm");
  if (!Statm)
    return 0;
  StringRef Fields = (*Statm)->getBuffer();
  unsigned long long Pages = 0;
  if (Fields.split(' ').second.split(' ').first.getAsInteger(10, Pages))
    return 0;
  return Pages * uint64_t(sysconf(_SC_PAGESIZE));
}

} // namespace hotpatch
