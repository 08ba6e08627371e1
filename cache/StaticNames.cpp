//===- StaticNames.cpp - a function's static variables by source name -----===//
//
// A function's statics are named by the compiler and numbered when two have
// one name (`_ZZ4tickvE5count`, `_ZZ4tickvE5count_0`; C `tick.count`,
// `tick.count.1`). A thin link and the wasm link key them by the name the
// source gives them, to tell a new static from a renumbered one.
//
//===----------------------------------------------------------------------===//
#include "CacheBuilder.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Demangle/Demangle.h"

using namespace llvm;

namespace hotpatch {

/// A function's static variable as the source names it ("tick()::count"),
/// the same for every one of that name in the function, or "" for other
/// symbols. Compilers number statics of one name in one function in source
/// order (C++ `_ZZ4tickvE5count`, `..._0`; C `tick.count`, `tick.count.1`),
/// and the demangler and this key leave the number out.
std::string localStaticKey(StringRef Name) {
  if (Name.starts_with("_ZZ") || Name.starts_with("_ZGVZ"))
    return demangle(Name.str());
  if (Name.starts_with("_Z") || Name.starts_with(".") || Name.count('.') < 1)
    return "";
  SmallVector<StringRef, 3> Parts;
  Name.split(Parts, '.');
  if (Parts.size() == 3 && !Parts[2].empty() &&
      all_of(Parts[2], [](char Ch) { return isDigit(Ch); }))
    Parts.pop_back();
  return Parts.size() == 2 && !Parts[0].empty() && !Parts[1].empty()
             ? (Parts[0] + "()::" + Parts[1]).str()
             : "";
}

} // namespace hotpatch
