//===- ResidentCompile.cpp - hotpatch compile: one file as hotpatch dev would =//
//
// `hotpatch compile [-p <build dir>] [--preamble] <source>...` runs the
// resident compiler once per source, in one process, and says for each how it
// was compiled: in process with a preamble, in process without one, or why
// not at all (then nothing is written). It is hotpatch dev's compile without
// the loop: to refresh an object, and to compare the resident compiler with
// the command line (llvm-lit-tests/compiler/).
//
//===----------------------------------------------------------------------===//
#include "ResidentCompile.h"

#include "ResidentCompiler.h"

#include "clang/Tooling/JSONCompilationDatabase.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace hotpatch {

int runCompile(const CompileOptions &Opts) {
  std::string Path = Opts.BuildDir + "/compile_commands.json";
  std::string Err;
  auto DB = clang::tooling::JSONCompilationDatabase::loadFromFile(
      Path, Err, clang::tooling::JSONCommandLineSyntax::Gnu);
  if (!DB) {
    errs() << "hotpatch compile: error: " << Err << "\n";
    return 1;
  }
  ResidentCompiler RC({/*KeepPreambles=*/Opts.Preamble ? 1u : 0u});
  int RC_ = 0;
  for (const std::string &S : Opts.Sources) {
    SmallString<256> Abs(S);
    sys::fs::make_absolute(Abs);
    sys::path::remove_dots(Abs, true);
    std::vector<clang::tooling::CompileCommand> Cmds = DB->getCompileCommands(Abs);
    if (Cmds.empty()) {
      errs() << "hotpatch compile: error: " << S << " has no compile command in " << Path << "\n";
      RC_ = 1;
      continue;
    }
    for (const clang::tooling::CompileCommand &CC : Cmds) {
      CompileCommandLine C;
      C.Directory = CC.Directory;
      C.Source = std::string(Abs);
      C.Args = CC.CommandLine;
      for (size_t I = 0; I + 1 < C.Args.size(); ++I)
        if (C.Args[I] == "-o")
          C.Object = C.Args[I + 1];
      if (!CC.Output.empty())
        C.Object = CC.Output;
      SmallString<256> Obj(C.Object);
      sys::fs::make_absolute(C.Directory, Obj);
      C.Object = std::string(Obj);
      if (Opts.Preamble) {
        std::string Why;
        if (!RC.preambleNow(C, Why)) {
          errs() << "hotpatch compile: error: no preamble for " << S << ": " << Why << "\n";
          RC_ = 1;
          continue;
        }
      }
      CompileResult R = RC.compile(C, errs());
      switch (R.Outcome) {
      case CompileResult::NotResident:
        errs() << "hotpatch compile: " << S << " cannot be compiled in process: " << R.Reason
               << "\n";
        RC_ = 1;
        break;
      case CompileResult::Failed:
        RC_ = 1;
        break;
      case CompileResult::Compiled:
        outs() << formatv("compiled {0} in process, {1}, in {2:F0} ms\n",
                          sys::path::filename(S),
                          R.Preamble == CompileResult::Reused  ? "with its preamble"
                          : R.Preamble == CompileResult::Stale ? "its preamble stale (" +
                                                                     R.StaleBecause + ")"
                                                               : "without a preamble",
                          R.Ms);
        break;
      }
    }
  }
  return RC_;
}

} // namespace hotpatch
