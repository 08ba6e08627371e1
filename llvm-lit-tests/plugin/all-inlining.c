/// In all mode an optimised build lets the inliner inline one hot function
/// into another: the caller is patched with its callee, since a patch
/// recompiles the whole file. The calls the inliner leaves load the slot.
/// A function that is not hot (main) never gets a hot function's code, an
/// annotated function is never inlined, in either mode, and an annotated
/// function inlines no hot function.
// RUN: %clang %hp_cflags %plugin %hp_all -O2 -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=ALL
// RUN: %clang %hp_cflags %plugin %hp_all -O1 -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=ALL
// RUN: %clang %hp_cflags %plugin %hp_all -Os -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=ALL
// RUN: %clang %hp_cflags %plugin %hp_all -Oz -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=ALL
// RUN: %clang %hp_cflags %plugin %hp_all -O3 -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=ALL
// RUN: %clang %hp_cflags %plugin %hp_all -O2 -fplugin-arg-hotpatch-mode=callsite -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=ALL
// RUN: %clang %hp_cflags %plugin %hp_all -O2 -fplugin-arg-hotpatch-mode=thunk -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=THUNK
// RUN: %clang %hp_cflags %plugin -O2 -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=ANNOTATED
/// At -O0 nothing is inlined and every call loads the slot.
// RUN: %clang %hp_cflags %plugin %hp_all -O0 -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=O0
/// An LTO pre-link keeps every call on the slot: the link-time inliner runs
/// where no pass routes the calls it leaves.
// RUN: %clang %hp_cflags %plugin %hp_all -O2 -flto -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=O0
#include <hotpatch/hotpatch.h>

int square(int x) { return x * x; }
HOTPATCH int cube(int x) { return x * x * x; }
/* Never inlined: the call stays, and goes through the slot. */
__attribute__((noinline)) int fact(int n) { return n <= 1 ? 1 : n * fact(n - 1); }

int sum_squares(int n) {
  int s = 0;
  for (int i = 0; i < n; ++i)
    s += square(i) + cube(i);
  return s + fact(n);
}

/* Annotated: a function that runs for long inlines no hot function, so each
   of its calls reaches the newest code while it runs. */
HOTPATCH int poll(int n) {
  int s = 0;
  for (int i = 0; i < n; ++i)
    s += square(i);
  return s;
}

int main(int argc, char **argv) { return square(argc) + sum_squares(argc) + poll(argc); }

/// square is inlined into sum_squares: no call, no slot load for it. The
/// call the inliner left (fact, noinline) loads the slot.
// ALL-LABEL: define {{.*}}i32 @sum_squares{{(\.hotpatch\.body)?}}(
// ALL-NOT: @square
// ALL-DAG: load atomic ptr, ptr @cube.hotpatch.slot acquire
// ALL-DAG: load atomic ptr, ptr @fact.hotpatch.slot acquire
// ALL-NOT: @square
// ALL: {{^}}}
/// The annotated caller calls square through its slot.
// ALL-LABEL: define {{.*}}i32 @poll{{(\.hotpatch\.body)?}}(
// ALL: load atomic ptr, ptr @square.hotpatch.slot acquire
// ALL: {{^}}}
/// main is not hot: it reaches both through their slots.
// ALL-LABEL: define {{.*}}i32 @main(
// ALL-DAG: load atomic ptr, ptr @square.hotpatch.slot acquire
// ALL-DAG: load atomic ptr, ptr @sum_squares.hotpatch.slot acquire
// ALL: {{^}}}
/// No direct call to a body is left anywhere.
// ALL-NOT: call {{.*}}.hotpatch.body(

/// Thunk mode: the calls left go to the thunk.
// THUNK-LABEL: define {{.*}}i32 @sum_squares.hotpatch.body(
// THUNK-NOT: @square
// THUNK: call {{.*}}@cube(
// THUNK: {{^}}}
// THUNK-NOT: call {{.*}}.hotpatch.body(

/// Annotated mode: cube is hot and never inlined; square is not hot.
// ANNOTATED-LABEL: define {{.*}}i32 @sum_squares(
// ANNOTATED: load atomic ptr, ptr @cube.hotpatch.slot acquire
// ANNOTATED-NOT: @square.hotpatch
// ANNOTATED: {{^}}}

// O0-LABEL: define {{.*}}i32 @sum_squares.hotpatch.body(
// O0: load atomic ptr, ptr @square.hotpatch.slot acquire
// O0: load atomic ptr, ptr @cube.hotpatch.slot acquire
// O0: {{^}}}
