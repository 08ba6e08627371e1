/// With -flto and -flto=thin the rewrite happens before the bitcode is
/// written: the slot and entry are in llvm.used, so the LTO link can neither
/// internalise the slot nor fold the loads back into direct calls.
// RUN: %clang %hp_cflags %plugin -O2 -flto -c %s -o %t.bc
// RUN: llvm-dis %t.bc -o - | FileCheck %s
// RUN: %clang %hp_cflags %plugin -O2 -flto=thin -c %s -o %t.thin.bc
// RUN: llvm-dis %t.thin.bc -o - | FileCheck %s
#include <hotpatch/hotpatch.h>

HOTPATCH int f(int x) { return x + 5; }
int g(int x) { return f(x) * 2; }

// CHECK: @f.hotpatch.slot = linkonce_odr
// CHECK: @llvm.used = {{.*}}@f.hotpatch.entry, ptr @f.hotpatch.slot
// CHECK-LABEL: define {{.*}}i32 @g(
// CHECK: load atomic ptr, ptr @f.hotpatch.slot acquire
/// Marked, so that running the pipeline again (an LTO backend with the
/// plugin loaded) does not wrap the thunk in a second thunk.
// CHECK: !hotpatch.processed = !{}
