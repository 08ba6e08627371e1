//===- WasmModules.h - what the patch link reads of wasm modules ----------===//
//
// The program, the rebuilt objects and the linked patch are read with LLVM's
// WasmObjectFile. This file holds what the patch link needs of each, and the
// checks that refuse, with the reason, what a patch could not do correctly.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_WASMLINK_WASMMODULES_H
#define HOTPATCH_WASMLINK_WASMMODULES_H

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace hotpatch {

/// The running program, as a patch sees it.
struct WasmProgram {
  std::string BuildId;          // hex, without the section's length prefix
  bool SharedMemory = false;    // its memory (imported or defined) is shared
  llvm::StringMap<uint8_t> Exports; // name -> wasm::WASM_EXTERNAL_* kind
  /// Record layouts of every type its plugin-built objects define (the
  /// hotpatch.layouts custom sections wasm-ld concatenated): type -> block.
  std::map<std::string, std::string> Layouts;
  /// Names of its functions (the name section, demangled by wasm-ld;
  /// empty when stripped).
  llvm::StringSet<> FunctionNames;
};

llvm::Expected<WasmProgram> readWasmProgram(llvm::StringRef Path);

/// Checks one rebuilt object: a wasm relocatable object built with the
/// plugin, whose writable data a patch can share with the program, and
/// whose record types have the program's layouts. Returns the problems
/// found, each a full sentence naming the symbol or type and the fix.
std::vector<std::string> checkPatchObject(llvm::StringRef Path,
                                          const WasmProgram &Program);

/// Checks the linked patch: every import must resolve in the program or the
/// patch itself (hotpatch/wasm_patch.h lists the imports the runtime gives).
std::vector<std::string> checkPatchImports(llvm::StringRef PatchPath,
                                           const WasmProgram &Program);

/// Appends the program's manifest (HOTPATCH_WASM_PROGRAM_SECTION) to a
/// linked program: the limits of the memory it imports, which JavaScript
/// cannot read from a module but needs to create that memory.
llvm::Error appendProgramManifest(llvm::StringRef Path);

/// Appends a custom section to a wasm module file (custom sections may come
/// after every other section; the module stays valid).
llvm::Error appendCustomSection(llvm::StringRef Path, llvm::StringRef Name,
                                llvm::StringRef Payload);

} // namespace hotpatch

#endif
