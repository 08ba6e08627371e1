//===- WasmPatchLink.cpp - thinlink --patch for WebAssembly ---------------===//
//
// The patch link of a WebAssembly program, as passes:
//
//   1. Read the program: its build-id, whether its memory is shared, its
//      exports (WasmModules.cpp).
//   2. Check every rebuilt object: a plugin-built wasm object whose
//      writable data the patch can share with the program.
//   3. Link the objects with lld's wasm driver into a position-independent
//      side module (-shared --experimental-pic): references to what the
//      objects do not define become imports (env.<fn>, GOT.mem.<global>,
//      GOT.func.<fn>), and so do references to the globals and slots they
//      do define without hiding them, which is how a patch keeps the
//      program's state: the runtime resolves those to the program's.
//      The patch exports its slot entry table (__start/__stop_hotpatch_table).
//   4. Check that every import resolves in the program or the patch.
//   5. Append the hotpatch.patch section (hotpatch/wasm_patch.h) and move the
//      patch into place.
//
// A patch holds whole rebuilt objects: the runtime republishes every hot
// function of them, the unchanged ones with the same code.
//
//===----------------------------------------------------------------------===//
#include "WasmLink.h"
#include "WasmModules.h"

#include "LldRunner.h"
#include "hotpatch/slot_table.h"
#include "hotpatch/wasm_patch.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

using namespace llvm;

namespace hotpatch {

int runWasmPatchLink(const WasmPatchOptions &Opts, raw_ostream &Out,
                     raw_ostream &Err) {
  // 1. The program.
  Expected<WasmProgram> Program = readWasmProgram(Opts.Base);
  if (!Program) {
    Err << "thinlink: error: " << toString(Program.takeError()) << "\n";
    return 1;
  }

  // 2. The rebuilt objects.
  std::vector<std::string> Problems;
  json::Array Units;
  for (const std::string &O : Opts.Objects) {
    for (std::string &P : checkPatchObject(O, *Program))
      Problems.push_back(std::move(P));
    SmallString<256> Abs(O);
    sys::fs::make_absolute(Abs);
    Units.push_back(std::string(Abs));
  }
  if (!Problems.empty()) {
    for (const std::string &P : Problems)
      Err << "thinlink: error: " << P << "\n";
    Err << "thinlink: no patch written\n";
    return 1;
  }

  // 3. The side module.
  std::string Temp = Opts.Output + ".link.tmp";
  std::vector<const char *> Argv = {
      "wasm-ld", "-shared", "--experimental-pic",
      "--unresolved-symbols=import-dynamic",
      "--export=__start_" HOTPATCH_TABLE_SECTION,
      "--export=__stop_" HOTPATCH_TABLE_SECTION, "-o", Temp.c_str()};
  if (Program->SharedMemory)
    Argv.push_back("--shared-memory");
  for (const std::string &O : Opts.Objects)
    Argv.push_back(O.c_str());
  if (int RC = runWasmLld(Argv, Out, Err)) {
    Err << "thinlink: the patch link failed; no patch written\n";
    sys::fs::remove(Temp);
    return RC;
  }

  // 4. Every import must be found at run time.
  Problems = checkPatchImports(Temp, *Program);
  if (!Problems.empty()) {
    for (const std::string &P : Problems)
      Err << "thinlink: error: " << P << "\n";
    Err << "thinlink: no patch written\n";
    if (!Opts.KeepTemps)
      sys::fs::remove(Temp);
    return 1;
  }

  // 5. What the runtime checks before it loads the patch.
  json::Object Manifest{{"format", HOTPATCH_WASM_PATCH_VERSION},
                        {"base_build_id", Program->BuildId},
                        {"shared_memory", Program->SharedMemory},
                        {"units", std::move(Units)}};
  std::string Payload;
  raw_string_ostream(Payload) << json::Value(std::move(Manifest));
  if (Error E = appendCustomSection(Temp, HOTPATCH_WASM_PATCH_SECTION, Payload)) {
    Err << "thinlink: error: " << toString(std::move(E)) << "\n";
    sys::fs::remove(Temp);
    return 1;
  }
  if (std::error_code EC = sys::fs::rename(Temp, Opts.Output)) {
    Err << "thinlink: error: cannot write " << Opts.Output << ": "
        << EC.message() << "\n";
    sys::fs::remove(Temp);
    return 1;
  }
  return 0;
}

} // namespace hotpatch
