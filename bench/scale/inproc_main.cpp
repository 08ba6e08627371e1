//===- inproc_main.cpp - thin links in one process, as hotpatch dev runs them -===//
//
// Part of the thin-link scale benchmark (bench/scale/run_scale.py runs it).
//
//   hotpatch_bench_scale_inproc --base <program> --object <path>
//                               --versions <a.o> <b.o> [--runs N]
//
// Runs N thin links (default 21) in this process, as hotpatch dev does: each
// copies the next of the versions (alternating) to <path>, the object the
// program was linked from, and calls hotpatch::buildPatch on it, writing a
// new patch file each time (removed at the end). The first
// link maps the base's cache; later ones find it mapped. Prints one line per
// link, "link <i> <ms> <changed> <phase ms>...", and the phases' names once,
// "phases <name>|<name>|...". A link that fails or patches nothing stops the
// run with the reason.
//
//===----------------------------------------------------------------------===//
#include "PatchLinker.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace llvm;

static int usage() {
  std::fprintf(stderr, "usage: hotpatch_bench_scale_inproc --base <program> --object <path> "
                       "--versions <a.o> <b.o> [--runs N]\n");
  return 2;
}

int main(int argc, char **argv) {
  std::string Base, Object, A, B;
  unsigned Runs = 21;
  for (int I = 1; I < argc; ++I) {
    StringRef Arg = argv[I];
    if (Arg == "--base" && I + 1 < argc)
      Base = argv[++I];
    else if (Arg == "--object" && I + 1 < argc)
      Object = argv[++I];
    else if (Arg == "--versions" && I + 2 < argc) {
      A = argv[++I];
      B = argv[++I];
    } else if (Arg == "--runs" && I + 1 < argc) {
      if (StringRef(argv[++I]).getAsInteger(10, Runs) || Runs == 0)
        return usage();
    } else
      return usage();
  }
  if (Base.empty() || Object.empty() || A.empty())
    return usage();
  std::vector<std::string> Written;
  auto RemoveWritten = [&] {
    for (const std::string &P : Written)
      sys::fs::remove(P);
  };
  for (unsigned I = 0; I < Runs; ++I) {
    if (std::error_code EC = sys::fs::copy_file(I % 2 ? B : A, Object)) {
      std::fprintf(stderr, "cannot copy to %s: %s\n", Object.c_str(), EC.message().c_str());
      return 1;
    }
    // A new file per patch, as hotpatch dev writes them (.hotpatch/patch-N):
    // replacing a file by rename costs ext4 a write-back of the new one.
    hotpatch::PatchOptions O;
    O.Base = Base;
    O.Output = Base + ".bench-inproc-" + std::to_string(I) + ".hpp";
    Written.push_back(O.Output);
    O.Objects = {Object};
    auto T0 = std::chrono::steady_clock::now();
    hotpatch::PatchResult R = hotpatch::buildPatch(O);
    double Ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - T0).count();
    if (!R.Ok || R.NothingToPatch) {
      std::fprintf(stderr, "link %u: %s\n", I,
                   R.Ok ? "nothing to patch (the two versions must differ)" : R.Error.c_str());
      RemoveWritten();
      return 1;
    }
    if (I == 0) {
      std::string Names;
      for (const auto &[Name, Ms] : R.Phases)
        Names += (Names.empty() ? "" : "|") + Name;
      std::printf("phases %s\n", Names.c_str());
    }
    std::printf("link %u %.3f %zu", I, Ms, R.Changed.size());
    for (const auto &[Name, PhaseMs] : R.Phases)
      std::printf(" %.3f", PhaseMs);
    std::printf("\n");
    std::fflush(stdout);
  }
  RemoveWritten();
  return 0;
}
