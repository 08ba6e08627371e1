//===- Invocation.cpp - a compile command as a CompilerInvocation ---------===//
//
// The command-line clang runs its driver, which turns the command into one
// `clang -cc1` job, whose arguments become a CompilerInvocation. Here the
// same driver runs in process (clang::driver::Driver, then
// CompilerInvocation::CreateFromArgs on its one cc1 job; not
// clang::createInvocation, which adds -fsyntax-only), so every default the
// driver adds (resource directory, system include paths, target features,
// -fdebug-compilation-dir, colours) is the one the command-line compile gets.
// What differs, on purpose:
//
//   - the driver is named after the command's compiler (its mode, clang or
//     clang++, comes from the name) but placed in the real clang's directory,
//     which is what clang's own main() does with /proc/self/exe: the resource
//     directory is found from there;
//   - -disable-free is turned off (the driver adds it because cc1 exits right
//     after the compile; here the process goes on);
//   - the depfile (-MD/-MF) is not written: hotpatch dev takes the files the
//     compile read from the compiler itself, and the build system, which
//     reads depfiles only after running the command itself, would not read
//     it.
//
//===----------------------------------------------------------------------===//
#include "Invocation.h"

#include "clang/Basic/DiagnosticOptions.h"
#include "clang/Frontend/FrontendOptions.h"
#include "clang/Driver/Compilation.h"
#include "clang/Driver/Driver.h"
#include "clang/Driver/Job.h"
#include "clang/Driver/Tool.h"
#include "clang/Driver/ToolChain.h"
#include "clang/Frontend/Utils.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

using namespace llvm;

namespace hotpatch {
namespace {

Error reason(const Twine &Why) { return createStringError(inconvertibleErrorCode(), Why); }

/// Keeps the driver's and cc1's errors as text: they become the reason to
/// run the command itself, which then prints them as clang does.
class ErrorCollector : public clang::DiagnosticConsumer {
public:
  void HandleDiagnostic(clang::DiagnosticsEngine::Level Level,
                        const clang::Diagnostic &Info) override {
    clang::DiagnosticConsumer::HandleDiagnostic(Level, Info);
    if (Level < clang::DiagnosticsEngine::Error)
      return;
    SmallString<128> Text;
    Info.FormatDiagnostic(Text);
    if (!First.empty())
      return;
    First = std::string(Text);
  }
  std::string First;
};

bool isWrapper(StringRef Name) {
  return Name == "ccache" || Name == "sccache" || Name == "distcc" || Name == "icecc" ||
         Name == "buildcache" || Name == "env";
}

} // namespace

StringRef residentClang() { return HOTPATCH_RESIDENT_CLANG; }

Expected<ResidentInvocation> makeInvocation(const CompileCommandLine &C) {
  if (C.Args.empty())
    return reason("the command is empty");
  // Which program the command runs, as the shell would find it.
  const std::string &Exe = C.Args[0];
  SmallString<256> Path;
  if (!sys::path::has_parent_path(Exe)) {
    auto Found = sys::findProgramByName(Exe);
    if (!Found)
      return reason(Exe + " is not on PATH");
    Path = *Found;
  } else {
    Path = Exe;
    sys::fs::make_absolute(C.Directory, Path);
  }
  SmallString<256> Real;
  if (sys::fs::real_path(Path, Real))
    return reason("cannot find the compiler " + Exe);
  if (Real != residentClang()) {
    StringRef Name = sys::path::filename(Real);
    if (isWrapper(Name))
      return reason(Exe + " is the compiler wrapper " + Name);
    return reason(Exe + " is " + Real + ", not the clang of the resident compiler (" +
                  residentClang() + ")");
  }
  // LLVM's own options (-mllvm) are process-wide: one command's would stay
  // set for every later compile in this process.
  for (const std::string &A : C.Args)
    if (A == "-mllvm" || StringRef(A).starts_with("-mllvm="))
      return reason("-mllvm sets LLVM options for the whole process");

  SmallString<256> Driver = sys::path::parent_path(Real);
  sys::path::append(Driver, sys::path::filename(Exe));
  SmallVector<const char *, 64> Argv = {Driver.c_str()};
  for (size_t I = 1; I < C.Args.size(); ++I)
    Argv.push_back(C.Args[I].c_str());

  ResidentInvocation R;
  auto Physical = vfs::createPhysicalFileSystem();
  if (Physical->setCurrentWorkingDirectory(C.Directory))
    return reason("cannot enter the command's directory " + C.Directory);
  R.FS = IntrusiveRefCntPtr<vfs::FileSystem>(Physical.release());

  // Response files (@file) as clang's main() expands them, in the
  // command's directory.
  BumpPtrAllocator Alloc;
  cl::ExpansionContext Expand(Alloc, cl::TokenizeGNUCommandLine);
  Expand.setCurrentDir(C.Directory);
  if (Error E = Expand.expandResponseFiles(Argv))
    return reason("cannot read a response file: " + toString(std::move(E)));

  std::unique_ptr<clang::DiagnosticOptions> DiagOpts = clang::CreateAndPopulateDiagOpts(Argv);
  ErrorCollector Errors;
  IntrusiveRefCntPtr<clang::DiagnosticsEngine> Diags(new clang::DiagnosticsEngine(
      new clang::DiagnosticIDs, DiagOpts.release(), &Errors, /*ShouldOwnClient=*/false));
  // The driver, as clang's main() sets it up: target and mode from the
  // program's name (x86_64-linux-gnu-clang++), then the compile jobs.
  clang::driver::Driver D(Argv[0], sys::getDefaultTargetTriple(), *Diags,
                          "clang LLVM compiler", R.FS);
  clang::driver::ParsedClangName Name =
      clang::driver::ToolChain::getTargetAndModeFromProgramName(Argv[0]);
  D.setTargetAndMode(Name);
  std::string TargetArg;
  if (!Name.TargetPrefix.empty()) {
    TargetArg = "--target=" + Name.TargetPrefix;
    Argv.insert(Argv.begin() + 1, TargetArg.c_str());
  }
  std::unique_ptr<clang::driver::Compilation> Comp(D.BuildCompilation(Argv));
  if (!Comp || Diags->hasErrorOccurred())
    return reason(Errors.First.empty() ? "the driver cannot run it"
                                       : "the driver says: " + Errors.First);
  const clang::driver::JobList &Jobs = Comp->getJobs();
  if (Jobs.size() != 1)
    return reason("the driver makes " + Twine(Jobs.size()) + " jobs of it, not one compile");
  const clang::driver::Command &Job = *Jobs.begin();
  if (StringRef(Job.getCreator().getName()) != "clang")
    return reason("the driver runs " + Twine(Job.getCreator().getName()) + ", not clang's compiler");
  ArrayRef<const char *> CC1Args = Job.getArguments();
  if (!CC1Args.empty() && StringRef(CC1Args.front()) == "-cc1")
    CC1Args = CC1Args.drop_front();
  auto Inv = std::make_shared<clang::CompilerInvocation>();
  if (!clang::CompilerInvocation::CreateFromArgs(*Inv, CC1Args, *Diags, Argv[0]) ||
      Diags->hasErrorOccurred())
    return reason(Errors.First.empty() ? "clang's compiler refuses its arguments"
                                       : "clang's compiler says: " + Errors.First);

  clang::FrontendOptions &FO = Inv->getFrontendOpts();
  if (FO.ProgramAction != clang::frontend::EmitObj)
    return reason("the command does not compile to a native object (-S, -E, -emit-llvm, "
                  "-flto or a plugin's own action)");
  if (FO.Inputs.size() != 1 || !FO.Inputs[0].isFile())
    return reason("the command does not compile one source file");
  clang::Language Lang = FO.Inputs[0].getKind().getLanguage();
  if (Lang != clang::Language::C && Lang != clang::Language::CXX)
    return reason("only C and C++ are compiled in process");
  if (!FO.LLVMArgs.empty())
    return reason("-mllvm sets LLVM options for the whole process");
  if (!FO.TimeTracePath.empty())
    return reason("-ftime-trace is written by clang's main(), not by the frontend");
  if (!Inv->getCodeGenOpts().SplitDwarfOutput.empty())
    return reason("-gsplit-dwarf writes a second output file");
  FO.DisableFree = false;
  Inv->getCodeGenOpts().DisableFree = false;
  Inv->getDependencyOutputOpts().OutputFile.clear();
  Inv->getDependencyOutputOpts().Targets.clear();
  for (const std::string &P : FO.Plugins) {
    SmallString<256> PR(P);
    sys::fs::make_absolute(C.Directory, PR);
    SmallString<256> PReal;
    if (sys::fs::real_path(PR, PReal))
      return reason("cannot find the plugin " + P);
    R.Plugins.push_back(std::string(PReal));
  }
  R.Invocation = std::move(Inv);
  return R;
}

} // namespace hotpatch
