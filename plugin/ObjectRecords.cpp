//===- ObjectRecords.cpp - what thinlink reads of how an object was built -===//
//
// A step of the slot rewrite (HotRewrite.h): the records an object carries
// for thinlink, in module assembly so that they land in sections that are
// never loaded (an IR global would be allocated in the program's memory):
// the layouts of the records the user defined (.hotpatch.layouts, which the
// AST half fills in PluginOptions::Layouts), and the build record
// (hotpatch/object_records.h): the optimisation level and the rewrite mode,
// for the thin link to compare with the program's copy of the object.
//
//===----------------------------------------------------------------------===//
#include "HotRewrite.h"

#include "hotpatch/object_records.h"

#include <cstdio>
#include <string>

using namespace llvm;

namespace hotpatch {
namespace {

/// Escapes bytes for an assembler .ascii directive.
std::string asciiEscape(StringRef S) {
  std::string Out;
  for (unsigned char C : S) {
    if (C == '"' || C == '\\')
      Out += '\\', Out += char(C);
    else if (C >= 32 && C < 127)
      Out += char(C);
    else {
      char Buf[8];
      snprintf(Buf, sizeof Buf, "\\%03o", C);
      Out += Buf;
    }
  }
  return Out;
}

} // namespace

void emitObjectRecords(RewriteContext &Cx) {
  Module &M = Cx.M;
  const PluginOptions &Opts = Cx.Opts;
  const Triple &TT = Cx.TT;
  // Record layouts go in a section that is never loaded: module assembly,
  // because an IR global would be allocated in the program's memory.
  if (Opts.Layouts && !Opts.Layouts->empty() && TT.isOSBinFormatELF())
    M.appendModuleInlineAsm(".pushsection " HOTPATCH_LAYOUTS_SECTION ",\"\",@progbits\n.ascii \"" +
                            asciiEscape(*Opts.Layouts) + "\"\n.popsection");
  // On wasm, a section named .custom_section.<name> in assembly is a custom
  // section of the object (never memory); wasm-ld concatenates those of
  // every input into the program, where the patch link finds them. (An IR
  // global in such a section becomes a data segment in LLVM 19, and wasm
  // assembly has no .pushsection: what follows module assembly sets its
  // own section.)
  if (Opts.Layouts && !Opts.Layouts->empty() && TT.isWasm())
    M.appendModuleInlineAsm(".section .custom_section" HOTPATCH_LAYOUTS_SECTION
                            ",\"\",@\n.ascii \"" +
                            asciiEscape(*Opts.Layouts) + "\"\n.text");
  // How this object was built, for the thin link to compare with the
  // program's copy (hotpatch/object_records.h).
  if (TT.isOSBinFormatELF() && !Opts.OptLevel.empty()) {
    const char *Mode = Opts.Mode == RewriteMode::Both    ? "both"
                       : Opts.Mode == RewriteMode::Thunk ? "thunk"
                                                         : "callsite";
    M.appendModuleInlineAsm(
        (".pushsection " HOTPATCH_BUILD_RECORD_PREFIX HOTPATCH_BUILD_RECORD_VERSION "." +
         Opts.OptLevel + "." + (Opts.AllFunctions ? "all" : "annotated") + "." + Mode +
         ",\"e\",@progbits\n.popsection"));
  }
}

} // namespace hotpatch
