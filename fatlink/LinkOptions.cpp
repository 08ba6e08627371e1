//===- LinkOptions.cpp - what thinlink needs to know of lld's options -----===//
#include "LinkOptions.h"

using namespace llvm;

namespace hotpatch {

StringRef longName(StringRef A) {
  if (A.consume_front("--"))
    return A;
  A.consume_front("-");
  return A;
}

/// Options that take their value as the next argument: the value is not an
/// input. (Only the ones a compiler driver passes, or a user commonly
/// writes; another one's value counts as an input, which only matters for
/// a command that links nothing.)
static bool takesSeparateValue(StringRef A) {
  static const char *const Names[] = {
      "m", "L", "l", "z", "soname", "h", "T", "script", "e", "entry", "sysroot", "rpath", "R",
      "dynamic-linker", "I", "u", "undefined", "version-script", "dynamic-list", "Map",
      "hash-style", "plugin", "plugin-opt", "exclude-libs", "y", "wrap", "defsym", "init",
      "fini", "Y", "just-symbols", "sort-section", "dependency-file", "mllvm"};
  bool Long = A.starts_with("--");
  StringRef N = longName(A);
  for (const char *Name : Names)
    if (N == Name)
      return !(Long && N.size() == 1); // "--m" is no option of lld's
  return false;
}

LinkOptions scanOptions(ArrayRef<const char *> Args) {
  LinkOptions O;
  for (size_t I = 1; I < Args.size(); ++I) {
    StringRef A = Args[I];
    auto Next = [&]() -> StringRef {
      return I + 1 < Args.size() ? StringRef(Args[++I]) : StringRef();
    };
    if (A == "-o" || A == "--output" || A == "-output") {
      O.Output = Next().str();
      continue;
    }
    // -oFILE, but not the long options that start with o (lld matches the
    // longest option name: "-output=FILE" is --output).
    if (A.starts_with("-o") && !A.starts_with("--") && A.size() > 2 && A != "-omagic" &&
        !A.starts_with("-oformat") && !A.starts_with("-output")) {
      O.Output = A.drop_front(2).str();
      continue;
    }
    if (!A.starts_with("-")) {
      O.HasInputs = true;
      continue;
    }
    if (takesSeparateValue(A)) {
      Next(); // its value, not an input
      continue;
    }
    StringRef L = longName(A);
    if (L.consume_front("output=")) {
      O.Output = L.str();
    } else if (L == "build-id") {
      O.HasBuildId = true;
    } else if (L.consume_front("build-id=")) {
      O.HasBuildId = true;
      O.BuildIdNone = L == "none";
    } else if (A == "-s" || L == "strip-all") {
      O.StripAll = true;
    } else if (L.consume_front("icf=")) {
      O.Icf = L.str();
    } else if (L == "icf") {
      O.Icf = Next().str();
    } else if (A == "-r" || L == "relocatable" || A == "-Ur") {
      O.Relocatable = true;
    } else if (L == "shared" || L == "Bshareable") {
      O.Shared = true;
    } else if (L == "pie" || L == "pic-executable") {
      O.Pie = true;
    } else if (L == "no-pie" || L == "no-pic-executable") {
      O.Pie = false;
    } else if (L == "version" || L == "help") {
      O.InfoOnly = true; // prints and exits: nothing is linked
    } else if (A == "-v" || A == "-V") {
      O.Verbose = true; // prints the version, then links as usual
    } else if (A == "-t" || L == "trace") {
      O.UserTrace = true;
    } else if (L == "dump-cache") {
      O.DumpCache = Next().str();
    } else if (L.consume_front("dump-cache=")) {
      O.DumpCache = L.str();
    } else if (L == "json") {
      O.Json = true;
    }
  }
  return O;
}

} // namespace hotpatch
