/// The three rewrite modes, on a C file.
// RUN: %clang %hp_cflags %plugin -fplugin-arg-hotpatch-mode=thunk -O2 -S -emit-llvm %s -o - | FileCheck %s --check-prefix=THUNK
// RUN: %clang %hp_cflags %plugin -fplugin-arg-hotpatch-mode=callsite -O2 -S -emit-llvm %s -o - | FileCheck %s --check-prefix=CALLSITE
// RUN: %clang %hp_cflags %plugin -fplugin-arg-hotpatch-mode=both -O2 -S -emit-llvm %s -o - | FileCheck %s --check-prefix=BOTH
#include <hotpatch/hotpatch.h>

HOTPATCH int scale(int x) { return x * 7; }
int use(int x) { return scale(x) + 1; }

/// thunk: calls in this file go to the public symbol, which is the thunk
/// (flags 0x12 = THUNK | ANNOTATED).
// THUNK: @scale.hotpatch.slot = linkonce_odr dso_local global ptr @scale.hotpatch.body
// THUNK: @scale.hotpatch.entry = internal global {{.*}} { i32 1, i32 18,
// THUNK-LABEL: define {{.*}}i32 @use(
// THUNK-NOT: load atomic
// THUNK: call i32 @scale(
// THUNK: define {{.*}}i32 @scale(i32 noundef %0) {{.*}}section "hotpatch_thunks"
// THUNK: musttail call

/// callsite: no thunk, the slot holds the function itself, calls load it
/// (flags 0x14 = CALLSITE | ANNOTATED).
// CALLSITE: @scale.hotpatch.slot = linkonce_odr dso_local global ptr @scale,
// CALLSITE: @scale.hotpatch.entry = internal global {{.*}} { i32 1, i32 20,
// CALLSITE-NOT: hotpatch.body
// CALLSITE-NOT: section "hotpatch_thunks"
// CALLSITE: define {{.*}}i32 @scale(
// CALLSITE-LABEL: define {{.*}}i32 @use(
// CALLSITE: load atomic ptr, ptr @scale.hotpatch.slot acquire
// CALLSITE-NOT: section "hotpatch_thunks"

/// both (flags 0x16 = THUNK | CALLSITE | ANNOTATED).
// BOTH: @scale.hotpatch.entry = internal global {{.*}} { i32 1, i32 22,
// BOTH-LABEL: define {{.*}}i32 @use(
// BOTH: load atomic ptr, ptr @scale.hotpatch.slot acquire
// BOTH: define {{.*}}i32 @scale(i32 noundef %0) {{.*}}section "hotpatch_thunks"
