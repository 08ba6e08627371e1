//===- cache_main.cpp - time reading and building a HotpatchModuleCache ----===//
//
// Part of the fat-link benchmark (bench/fatlink/run_fatlink.py runs it).
//
//   hotpatch_bench_fatlink_cache load <cache> [--runs N]
//       Times hotpatch::readModuleCache(<cache>), the whole cache decoded
//       (what --dump-cache does), N times (default 31) in this process, and
//       prints what the cache holds; the first call is in a fresh process,
//       later ones reuse memory it faulted in (the minor page faults of each
//       call are printed too). Then times CacheView::open, what a thin link
//       does instead: map the cache and check its header and directory.
//
//   hotpatch_bench_fatlink_cache build <output> <trace-file> <args-file> [--runs N]
//       Times the work thinlink does after lld returns, on an output already
//       linked: buildModuleCache, then writeModuleCache (to
//       "<output>.bench.hpcache"), as thinlink runs them; then, apart, the
//       two parts of buildModuleCache: reading the image (buildModuleCache
//       with no inputs) and hashing every input object (hashObject on each
//       file lld's --trace listed, one per line of <trace-file>). Each
//       part's minor page faults are printed with its times.
//       <args-file> holds the link's arguments, one per line (recorded in the
//       cache as thinlink records them).
//
// Output is for the driver: lines "<key> <value>..." with times in ms.
//
//===----------------------------------------------------------------------===//
#include "CacheBuilder.h"
#include "CacheView.h"
#include "ModuleCache.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using namespace llvm;
using Clock = std::chrono::steady_clock;

namespace {

long minorFaults() {
  struct rusage U;
  getrusage(RUSAGE_SELF, &U);
  return U.ru_minflt;
}

double msSince(Clock::time_point T0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - T0).count();
}

void printTimes(const char *Key, const std::vector<double> &Ms) {
  std::printf("%s", Key);
  for (double M : Ms)
    std::printf(" %.4f", M);
  std::printf("\n");
}

void printCounts(const char *Key, const std::vector<long> &Counts) {
  std::printf("%s", Key);
  for (long C : Counts)
    std::printf(" %ld", C);
  std::printf("\n");
}

std::vector<std::string> readLines(const char *Path) {
  std::vector<std::string> Lines;
  std::ifstream In(Path);
  for (std::string L; std::getline(In, L);)
    if (!L.empty())
      Lines.push_back(L);
  return Lines;
}

[[noreturn]] void fail(const Twine &Msg) {
  std::fprintf(stderr, "fatlink-cache: %s\n", Msg.str().c_str());
  std::exit(1);
}

int load(const char *Path, unsigned Runs) {
  std::vector<double> Ms;
  std::vector<long> Faults;
  size_t Sections = 0;
  hotpatch::ModuleCache Last;
  for (unsigned I = 0; I < Runs; ++I) {
    long F0 = minorFaults();
    Clock::time_point T0 = Clock::now();
    auto C = hotpatch::readModuleCache(Path);
    double T = msSince(T0);
    Faults.push_back(minorFaults() - F0);
    if (!C)
      fail(toString(C.takeError()));
    Ms.push_back(T);
    if (I + 1 == Runs)
      Last = std::move(*C);
  }
  for (const hotpatch::InputFile &In : Last.Inputs)
    Sections += In.Sections.size();
  // What a thin link does instead: map the cache and check it.
  std::vector<double> OpenMs;
  for (unsigned I = 0; I < Runs; ++I) {
    Clock::time_point T0 = Clock::now();
    auto V = hotpatch::CacheView::open(Path);
    OpenMs.push_back(msSince(T0));
    if (!V)
      fail(toString(V.takeError()));
  }
  printTimes("load_ms", Ms);
  printTimes("open_ms", OpenMs);
  printCounts("load_faults", Faults);
  std::printf("counts inputs=%zu sections=%zu symbols=%zu slots=%zu comdats=%zu files=%zu\n",
              Last.Inputs.size(), Sections, Last.Symbols.size(), Last.Slots.size(),
              Last.Comdats.size(), Last.Files.size());
  return 0;
}

int build(const char *Output, const char *TraceFile, const char *ArgsFile, unsigned Runs) {
  std::vector<hotpatch::TracedInput> Inputs;
  for (const std::string &L : readLines(TraceFile)) {
    hotpatch::TracedInput T;
    if (hotpatch::parseTraceLine(L, T))
      Inputs.push_back(std::move(T));
  }
  std::vector<std::string> Args = readLines(ArgsFile);
  SmallString<256> Cwd;
  if (sys::fs::current_path(Cwd))
    fail("cannot get the working directory");
  std::string CachePath = std::string(Output) + ".bench.hpcache";

  // Each part's time and minor page faults, per run. The first run faults
  // its memory in, as thinlink does; later runs reuse what malloc kept.
  std::vector<double> Image, Hash, Build, Write;
  std::vector<long> ImageF, HashF, BuildF, WriteF;
  size_t Hashed = 0;
  for (unsigned I = 0; I < Runs; ++I) {
    // In thinlink's order first: the whole cache, then writing it.
    long F0 = minorFaults();
    Clock::time_point T0 = Clock::now();
    auto C = hotpatch::buildModuleCache(Output, Inputs, Args, Cwd);
    Build.push_back(msSince(T0));
    BuildF.push_back(minorFaults() - F0);
    if (!C)
      fail(toString(C.takeError()));

    F0 = minorFaults();
    T0 = Clock::now();
    if (Error E = hotpatch::writeModuleCache(*C, CachePath))
      fail(toString(std::move(E)));
    Write.push_back(msSince(T0));
    WriteF.push_back(minorFaults() - F0);

    // The image alone: no inputs.
    F0 = minorFaults();
    T0 = Clock::now();
    auto Img = hotpatch::buildModuleCache(Output, {}, Args, Cwd);
    Image.push_back(msSince(T0));
    ImageF.push_back(minorFaults() - F0);
    if (!Img)
      fail(toString(Img.takeError()));

    // Every input object, read and hashed as buildModuleCache does (plain
    // objects only: this program has no archive members worth hashing).
    F0 = minorFaults();
    T0 = Clock::now();
    Hashed = 0;
    for (const hotpatch::TracedInput &T : Inputs) {
      if (!T.Member.empty())
        continue;
      auto B = MemoryBuffer::getFile(T.Path, false, false);
      if (!B)
        continue;
      if (identify_magic((*B)->getBuffer()) != file_magic::elf_relocatable)
        continue;
      auto In = hotpatch::hashObject((*B)->getMemBufferRef(), T.Path, "");
      if (!In)
        fail(toString(In.takeError()));
      ++Hashed;
    }
    Hash.push_back(msSince(T0));
    HashF.push_back(minorFaults() - F0);
  }
  sys::fs::remove(CachePath);
  printTimes("image_ms", Image);
  printTimes("hash_ms", Hash);
  printTimes("build_ms", Build);
  printTimes("write_ms", Write);
  printCounts("image_faults", ImageF);
  printCounts("hash_faults", HashF);
  printCounts("build_faults", BuildF);
  printCounts("write_faults", WriteF);
  std::printf("hashed_objects %zu\n", Hashed);
  return 0;
}

unsigned parseRuns(int Argc, char **Argv, int From) {
  unsigned Runs = 31;
  for (int I = From; I < Argc; ++I) {
    std::string A = Argv[I];
    if (A == "--runs" && I + 1 < Argc)
      Runs = std::strtoul(Argv[++I], nullptr, 10);
    else
      fail("unknown option " + A);
  }
  if (Runs == 0)
    fail("--runs needs a count of at least 1");
  return Runs;
}

} // namespace

int main(int Argc, char **Argv) {
  std::string Mode = Argc > 1 ? Argv[1] : "";
  if (Mode == "load" && Argc >= 3)
    return load(Argv[2], parseRuns(Argc, Argv, 3));
  if (Mode == "build" && Argc >= 5)
    return build(Argv[2], Argv[3], Argv[4], parseRuns(Argc, Argv, 5));
  std::fprintf(stderr,
               "usage: %s load <cache> [--runs N]\n"
               "       %s build <output> <trace-file> <args-file> [--runs N]\n",
               Argv[0], Argv[0]);
  return 1;
}
