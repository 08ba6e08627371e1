//===- hotpatch_dev.cpp - hotpatch dev and hotpatch compile ----------------===//
//
//   hotpatch-dev dev [-p dir] -- prog args   watch, recompile, patch (DevLoop.cpp)
//   hotpatch-dev dev --web --root dir ... -- prog.wasm
//                                            the same for the web (DevWeb.cpp)
//   hotpatch-dev compile [-p dir] files      compile as hotpatch dev does
//                                            (ResidentCompile.cpp)
//
// The half of the hotpatch command that needs LLVM, Clang and lld: users
// type `hotpatch dev ...`, and `hotpatch` (hotpatch_cli.cpp, which links no
// LLVM so that apply and list start at once) execs this program, installed
// in libexec/hotpatch/, with the same arguments.
//
//===----------------------------------------------------------------------===//
#include "DevLoop.h"
#include "DevWeb.h"
#include "ResidentCompile.h"
#include "Usage.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <string>
#include <vector>

using namespace llvm;

namespace {

using namespace hotpatch;

int usage() {
  errs() << kUsage;
  return kUsageExit;
}

/// `hotpatch dev --web ...` (DevWeb.h).
int devWebMain(const std::vector<std::string> &Args) {
  DevWebOptions O;
  size_t I = 1;
  for (; I < Args.size(); ++I) {
    if (Args[I] == "--") {
      ++I;
      break;
    }
    bool HasValue = I + 1 < Args.size();
    if (Args[I] == "--web")
      continue;
    if (Args[I] == "-p" && HasValue)
      O.BuildDir = Args[++I];
    else if (Args[I] == "--root" && HasValue)
      O.Root = Args[++I];
    else if (Args[I] == "--port" && HasValue)
      O.Port = Args[++I];
    else if (Args[I] == "--rebuild" && HasValue)
      O.Rebuild = Args[++I];
    else
      return usage();
  }
  if (I + 1 != Args.size())
    return usage(); // exactly one program, the .wasm
  O.Program = Args[I];
  return runDevWeb(O);
}

int devMain(const std::vector<std::string> &Args) {
  for (const std::string &A : Args) {
    if (A == "--")
      break;
    if (A == "--web")
      return devWebMain(Args);
  }
  DevOptions O;
  size_t I = 1;
  for (; I < Args.size(); ++I) {
    if (Args[I] == "--") {
      ++I;
      break;
    }
    if (Args[I] == "-p" && I + 1 < Args.size())
      O.BuildDir = Args[++I];
    else if (Args[I] == "--no-restart")
      O.Restart = false;
    else if (Args[I] == "--no-resident-compiler")
      O.Resident = false;
    else if (Args[I] == "--stats")
      O.Stats = true;
    else if (Args[I] == "--keep-preambles" && I + 1 < Args.size()) {
      if (StringRef(Args[++I]).getAsInteger(10, O.KeepPreambles)) {
        errs() << "hotpatch dev: error: --keep-preambles takes a number, not '" << Args[I]
               << "'\n";
        return 2;
      }
    } else
      return usage();
  }
  // HOTPATCH_RESIDENT_COMPILER=0 in the environment: every compile runs its
  // command, as with --no-resident-compiler.
  if (const char *E = getenv("HOTPATCH_RESIDENT_COMPILER"))
    if (StringRef(E) == "0" || StringRef(E) == "off")
      O.Resident = false;
  O.Program.assign(Args.begin() + I, Args.end());
  if (O.Program.empty())
    return usage();
  return runDev(O);
}

int compileMain(const std::vector<std::string> &Args) {
  CompileOptions O;
  for (size_t I = 1; I < Args.size(); ++I) {
    if (Args[I] == "-p" && I + 1 < Args.size())
      O.BuildDir = Args[++I];
    else if (Args[I] == "--preamble")
      O.Preamble = true;
    else if (StringRef(Args[I]).starts_with("-"))
      return usage();
    else
      O.Sources.push_back(Args[I]);
  }
  if (O.Sources.empty())
    return usage();
  return runCompile(O);
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM X(argc, argv);
  std::vector<std::string> Args(argv + 1, argv + argc);
  if (!Args.empty() && Args[0] == "dev")
    return devMain(Args);
  if (!Args.empty() && Args[0] == "compile")
    return compileMain(Args);
  return usage();
}
