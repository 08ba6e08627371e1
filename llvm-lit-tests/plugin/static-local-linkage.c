/// A static (file-local) function gets a local slot: nothing leaks into the
/// symbol table as a global, and two files may each have their own `helper`.
// RUN: %clang %hp_cflags %plugin -O2 -S -emit-llvm %s -o - | FileCheck %s
#include <hotpatch/hotpatch.h>

HOTPATCH static int helper(int x) { return x + 1; }
int (*get(void))(int) { return helper; }
int call(int x) { return helper(x); }

// CHECK: @helper.hotpatch.slot = internal global ptr @helper.hotpatch.body, align 8
// CHECK: @helper.hotpatch.entry = internal global {{.*}} { i32 1, i32 23,
// CHECK-LABEL: define {{.*}}ptr @get(
// CHECK: ret ptr @helper{{$}}
// CHECK: define internal {{.*}}i32 @helper.hotpatch.body(
// CHECK-LABEL: define {{.*}}i32 @call(
// CHECK: load atomic ptr, ptr @helper.hotpatch.slot acquire
// CHECK-DAG: define internal {{.*}}i32 @helper(i32 noundef %0) {{.*}}section "hotpatch_thunks"
