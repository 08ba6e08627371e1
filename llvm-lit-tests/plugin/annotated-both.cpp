/// Default mode ("both"): an annotated function gets a slot initialised to its
/// renamed body, its public symbol becomes a thunk through the slot, calls in
/// this file load the slot, and one table entry describes it.
// RUN: %clangxx %hp_cflags %plugin -O0 -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=CHECK,O0 --implicit-check-not=_Z4coldi.hotpatch
// RUN: %clangxx %hp_cflags %plugin -O2 -S -emit-llvm %s -o - | FileCheck %s --check-prefixes=CHECK,O2 --implicit-check-not=_Z4coldi.hotpatch
#include <hotpatch/hotpatch.h>

HOTPATCH int add(int a, int b) { return a + b; }
int cold(int a) { return a * 3; }

int caller(int x) { return add(x, 1) + cold(x); }

// CHECK: $_Z3addii.hotpatch.slot = comdat any
// CHECK: @_Z3addii.hotpatch.slot = linkonce_odr dso_local global ptr @_Z3addii.hotpatch.body, comdat, align 8
// CHECK: @[[NAME:[.a-z0-9]+]] = private unnamed_addr constant [9 x i8] c"_Z3addii\00"
// CHECK: @[[UNIT:[.a-z0-9]+]] = private unnamed_addr constant {{.*}} c"/{{.*}}/annotated-both.cpp\00"
// CHECK: @_Z3addii.hotpatch.entry = internal global { i32, i32, ptr, ptr, ptr, ptr, ptr } { i32 1, i32 22, ptr @[[NAME]], ptr @_Z3addii.hotpatch.slot, ptr @_Z3addii.hotpatch.body, ptr @_Z3addii, ptr @[[UNIT]] }, section "hotpatch_table", comdat($_Z3addii.hotpatch.slot), align 8
// CHECK-DAG: @llvm.global_ctors = appending global [1 x { i32, ptr, ptr }] [{ i32, ptr, ptr } { i32 101, ptr @hotpatch.module_ctor, ptr @hotpatch.module_ctor }]
// CHECK-DAG: @llvm.used = {{.*}}ptr @_Z3addii.hotpatch.entry, ptr @_Z3addii.hotpatch.slot

// CHECK: define hidden {{.*}}i32 @_Z3addii.hotpatch.body(i32 {{.*}}, i32 {{.*}}) {{.*}}comdat($_Z3addii.hotpatch.slot)
// The unannotated function is untouched: no slot, a direct call.
// CHECK-LABEL: define {{.*}}i32 @_Z6calleri(
// CHECK: [[T:%.*]] = load atomic ptr, ptr @_Z3addii.hotpatch.slot acquire, align 8
// CHECK: call noundef i32 [[T]](i32
// O0: call noundef i32 @_Z4coldi(
// O2-NOT: @_Z4coldi(

// The thunk keeps the public name and linkage, lives in hotpatch_thunks and
// promises nothing about the body (no nounwind, no memory effects).
// CHECK: define dso_local noundef i32 @_Z3addii(i32 noundef %0, i32 noundef %1) [[THUNKATTR:#[0-9]+]] section "hotpatch_thunks" {
// CHECK-NEXT: [[P:%.*]] = load atomic ptr, ptr @_Z3addii.hotpatch.slot acquire, align 8
// CHECK-NEXT: [[R:%.*]] = musttail call noundef i32 [[P]](i32 noundef %0, i32 noundef %1)
// CHECK-NEXT: ret i32 [[R]]

// CHECK: declare extern_weak void @hotpatch_register_table(ptr, ptr)
// CHECK: define linkonce_odr hidden void @hotpatch.module_ctor() {{.*}}comdat
// CHECK: call void @hotpatch_register_table(ptr @__start_hotpatch_table, ptr @__stop_hotpatch_table)
// CHECK: call void @hotpatch_register_thunks(ptr @__start_hotpatch_thunks, ptr @__stop_hotpatch_thunks)

// CHECK: attributes [[THUNKATTR]] = {
// CHECK-NOT: {{nofree|nounwind|willreturn|nosync|norecurse|memory\(}}
// CHECK-SAME: noinline
// CHECK-NOT: {{nofree|nounwind|willreturn|nosync|norecurse|memory\(}}
// CHECK-SAME: }
