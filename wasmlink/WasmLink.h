//===- WasmLink.h - thinlink for WebAssembly ------------------------------===//
//
// thinlink is also a drop-in wasm-ld. A link is a WebAssembly link when
// thinlink is called as `wasm-ld` (a symlink or copy of that name), with
// `-flavor wasm`, or with `-m wasm32` / `-m wasm64`, which is what clang
// passes to its wasm linker (`clang --target=wasm32-wasi
// -fuse-ld=<path>/thinlink`). `thinlink --patch` builds a WebAssembly patch
// when its --base is a .wasm file.
//
// The fat link (WasmFatLink.cpp) links the program with what patching needs;
// the patch link (WasmPatchLink.cpp) links rebuilt objects into a side module
// (hotpatch/wasm_patch.h). Neither writes a HotpatchModuleCache: a wasm
// program carries what the patch link needs in itself (build_id section,
// exports, memory type), and a wasm patch holds whole rebuilt objects, so
// there is no section-by-section diff that would need the cache's hashes.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_WASMLINK_WASMLINK_H
#define HOTPATCH_WASMLINK_WASMLINK_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace hotpatch {

/// Whether a command line (Args[0] is the program name) asks for a
/// WebAssembly link (see above).
bool isWasmLink(llvm::ArrayRef<const char *> Args);

/// Whether the file at Path is a WebAssembly module (its magic number).
bool isWasmFile(llvm::StringRef Path);

/// Links a WebAssembly program with lld's wasm driver in process, adding what
/// hot-patching needs. Returns lld's exit code, 1 for refused options.
int wasmFatLinkMain(llvm::ArrayRef<const char *> Args, llvm::raw_ostream &Out,
                    llvm::raw_ostream &Err);

struct WasmPatchOptions {
  std::string Base;                 // the running program's .wasm
  std::string Output;               // the patch
  std::vector<std::string> Objects; // rebuilt objects
  bool KeepTemps = false;
};

/// Links `Objects` into a WebAssembly patch of `Base`. Returns 0 on success,
/// 1 with a message on Err naming the problem otherwise.
int runWasmPatchLink(const WasmPatchOptions &Opts, llvm::raw_ostream &Out,
                     llvm::raw_ostream &Err);

} // namespace hotpatch

#endif
