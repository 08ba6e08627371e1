// The cost of the resident compiler's preamble check (compiler/Preambles.h),
// per compile command: the preamble is built once, then checked --rounds
// times in this process, as a save would. Prints the files the preamble
// read, the paths its build found absent, and the minimum and median of the
// whole check and of its absent-path part (docs/design.md, "What the include
// block did not find").
//
//   preamble-check <compile_commands.json> [rounds]
#include "AbsentFiles.h"
#include "Preambles.h"

#include "clang/Tooling/JSONCompilationDatabase.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace hotpatch;

static double msSince(std::chrono::steady_clock::time_point T) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - T).count();
}

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: preamble-check <compile_commands.json> [rounds]\n");
    return 2;
  }
  int Rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 30;
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  std::string Err;
  auto DB = clang::tooling::JSONCompilationDatabase::loadFromFile(
      argv[1], Err, clang::tooling::JSONCommandLineSyntax::Gnu);
  if (!DB) {
    std::fprintf(stderr, "preamble-check: %s\n", Err.c_str());
    return 1;
  }
  for (const clang::tooling::CompileCommand &CC : DB->getAllCompileCommands()) {
    CompileCommandLine C{CC.Directory, CC.Filename, CC.Directory + "/unused.o", CC.CommandLine};
    PreambleStore Store(1, [](const CompileCommandLine &C) { return makeInvocation(C); });
    std::shared_ptr<const KeptPreamble> K = Store.buildNow(C, Err);
    llvm::Expected<ResidentInvocation> RI = makeInvocation(C);
    if (!K || !RI) {
      std::fprintf(stderr, "preamble-check: no preamble for %s: %s\n", CC.Filename.c_str(),
                   K ? llvm::toString(RI.takeError()).c_str() : Err.c_str());
      return 1;
    }
    auto Main = RI->FS->getBufferForFile(C.Source);
    std::vector<double> Whole, Absent;
    for (int I = 0; I < Rounds; ++I) {
      auto T = std::chrono::steady_clock::now();
      std::string Stale = preambleStaleness(*K, C, *RI, **Main);
      Whole.push_back(msSince(T));
      if (!Stale.empty()) {
        std::fprintf(stderr, "preamble-check: stale: %s\n", Stale.c_str());
        return 1;
      }
      T = std::chrono::steady_clock::now();
      K->Absent.firstNoLongerAbsent();
      Absent.push_back(msSince(T));
    }
    std::sort(Whole.begin(), Whole.end());
    std::sort(Absent.begin(), Absent.end());
    std::printf("%s (%zu arguments): %zu files read, %zu absent paths; check min %.3f median "
                "%.3f ms; of which absent paths min %.3f median %.3f ms\n",
                llvm::sys::path::filename(C.Source).str().c_str(), C.Args.size(),
                K->Files.size(), K->Absent.size(), Whole.front(), Whole[Whole.size() / 2],
                Absent.front(), Absent[Absent.size() / 2]);
  }
  return 0;
}
