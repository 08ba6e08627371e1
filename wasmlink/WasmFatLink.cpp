//===- WasmFatLink.cpp - the WebAssembly program's link -------------------===//
//
// A WebAssembly program is linked by lld's wasm driver with the user's
// arguments plus what a patch needs to reach the program:
//
//   --export-all            every function and global of the program is an
//                           export, so a patch's imports (env.<fn>,
//                           GOT.mem.<global>, GOT.func.<fn>) resolve to it;
//   --export=__stack_pointer  a patch runs on the calling instance's stack;
//   --growable-table        a patch's functions are appended to the table;
//   --export-table          so the runtime can grow it and hand it to the
//                           patch (unless the user imports the table);
//   --build-id              patches name the program they were built for
//                           (unless the user chose one).
//
// Refused: --build-id=none (nothing could tell a patch of another build
// apart). Stripping is allowed: exports survive it.
//
// After the link, the program's manifest (hotpatch/wasm_patch.h) is
// appended: the limits of an imported memory, for the runtime to create it.
//
// Threads are the user's choice (--shared-memory --import-memory, objects
// built with -matomics -mbulk-memory); the runtime handles both kinds of
// memory.
//
//===----------------------------------------------------------------------===//
#include "WasmLink.h"

#include "LldRunner.h"
#include "WasmModules.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/BinaryFormat/Magic.h"
#include "llvm/Support/Path.h"

#include <cstring>

using namespace llvm;

namespace hotpatch {

static StringRef longName(StringRef A) {
  if (A.consume_front("--"))
    return A;
  A.consume_front("-");
  return A;
}

bool isWasmLink(ArrayRef<const char *> Args) {
  if (Args.empty())
    return false;
  if (sys::path::stem(Args[0]) == "wasm-ld")
    return true;
  for (size_t I = 1; I + 1 < Args.size(); ++I) {
    StringRef A = Args[I], V = Args[I + 1];
    if (A == "-flavor" && V == "wasm")
      return true;
    if (A == "-m" && (V == "wasm32" || V == "wasm64"))
      return true;
  }
  return false;
}

bool isWasmFile(StringRef Path) {
  file_magic Magic;
  return !identify_magic(Path, Magic) && Magic == file_magic::wasm_object;
}

int wasmFatLinkMain(ArrayRef<const char *> Args, raw_ostream &Out,
                    raw_ostream &Err) {
  bool HasBuildId = false, ImportsTable = false, Relocatable = false,
       InfoOnly = false;
  SmallVector<const char *, 64> Argv;
  for (size_t I = 0; I < Args.size(); ++I) {
    StringRef A = Args[I];
    // -flavor wasm is thinlink's to read; lld's wasm driver does not take it.
    if (I > 0 && A == "-flavor" && I + 1 < Args.size()) {
      ++I;
      continue;
    }
    Argv.push_back(Args[I]);
    if (I == 0)
      continue;
    StringRef L = longName(A);
    if (L == "build-id" || L.starts_with("build-id=")) {
      if (L == "build-id=none") {
        Err << "thinlink: error: --build-id=none: a hot-patchable WebAssembly "
               "program needs a build-id (patches name the program they were "
               "built for); remove the option\n";
        return 1;
      }
      HasBuildId = true;
    } else if (L == "import-table") {
      ImportsTable = true;
    } else if (L == "r" || L == "relocatable") {
      Relocatable = true;
    } else if (L == "version" || L == "help" || L == "v") {
      InfoOnly = true;
    }
  }
  // A relocatable link (-r) or a question (--version) is lld's alone.
  if (!Relocatable && !InfoOnly) {
    Argv.push_back("--export-all");
    Argv.push_back("--export=__stack_pointer");
    Argv.push_back("--growable-table");
    if (!ImportsTable)
      Argv.push_back("--export-table");
    if (!HasBuildId)
      Argv.push_back("--build-id");
  }
  int RC = runWasmLld(Argv, Out, Err);
  if (RC || Relocatable || InfoOnly)
    return RC;
  std::string Output = "a.out";
  for (size_t I = 1; I < Argv.size(); ++I) {
    StringRef A = Argv[I];
    if ((A == "-o" || longName(A) == "output") && I + 1 < Argv.size())
      Output = Argv[++I];
    else if (longName(A).consume_front("output="))
      Output = longName(A).drop_front(strlen("output=")).str();
    else if (A.starts_with("-o") && A.size() > 2 && !A.starts_with("-o-"))
      Output = A.drop_front(2).str();
  }
  if (Error E = appendProgramManifest(Output)) {
    Err << "thinlink: error: " << toString(std::move(E)) << "\n";
    return 1;
  }
  return 0;
}

} // namespace hotpatch
