/// -fplugin-arg-hotpatch-all: every function defined in the file is hot,
/// without annotations; main and compiler glue (static initialisers) are not.
// RUN: %clangxx %hp_cflags %plugin -fplugin-arg-hotpatch-all -O1 -S -emit-llvm %s -o - | FileCheck %s
// RUN: %clangxx %hp_cflags %plugin -O1 -S -emit-llvm %s -o - | FileCheck %s --check-prefix=NOTALL
/// Over the whole output: no slot for main, static-initialiser glue or the
/// standard library.
// RUN: %clangxx %hp_cflags %plugin -fplugin-arg-hotpatch-all -O1 -S -emit-llvm %s -o - | FileCheck %s --check-prefix=COLD
// COLD-NOT: {{@(main|_ZN?K?St|_ZSt|__cxx_global_var_init|_GLOBAL__sub_I)[^ ]*\.hotpatch\.slot}}
#include <string>

static int twice(int x) { return 2 * x; }
int global_fn(int x) { return twice(x) + 1; }
namespace { int anon(int x) { return x - 1; } }
inline int in_header(int x) { return x + 42; }
template <class T> T tmpl(T x) { return x; }
std::string make() { return "abc"; }
std::string g = make();

int main() { return global_fn(1) + anon(2) + in_header(3) + tmpl(4); }

/// Local functions get a local slot (flags 0x07 = LOCAL | THUNK | CALLSITE).
// CHECK-DAG: @_ZL5twicei.hotpatch.slot = internal global ptr @_ZL5twicei.hotpatch.body
// CHECK-DAG: @_ZN12_GLOBAL__N_14anonEi.hotpatch.slot = internal global ptr
// CHECK-DAG: @_ZL5twicei.hotpatch.entry = internal global {{.*}} { i32 1, i32 7,
/// Inline and template functions: ODR flag (0x20) and a COMDAT slot.
// CHECK-DAG: @_Z9in_headeri.hotpatch.slot = linkonce_odr dso_local global ptr @_Z9in_headeri.hotpatch.body, comdat
// CHECK-DAG: @_Z9in_headeri.hotpatch.entry = internal global {{.*}} { i32 1, i32 38, {{.*}} comdat($_Z9in_headeri.hotpatch.slot)
// CHECK-DAG: @_Z4tmplIiET_S0_.hotpatch.slot = linkonce_odr dso_local global ptr
// CHECK-DAG: @_Z9global_fni.hotpatch.slot = linkonce_odr
// CHECK-DAG: @_Z4makeB5cxx11v.hotpatch.slot = linkonce_odr
/// Functions from system headers (here libstdc++'s std::string) stay cold.
// CHECK-NOT: @_ZNSt{{.*}}.hotpatch.slot
// CHECK-NOT: @main.hotpatch.slot
// CHECK-NOT: __cxx_global_var_init{{.*}}.hotpatch.slot
// CHECK-NOT: _GLOBAL__sub_I{{.*}}.hotpatch.slot
// The ODR body stays in the slot's group, the thunk in the function's own.
// CHECK-DAG: define linkonce_odr hidden {{.*}}i32 @_Z9in_headeri.hotpatch.body({{.*}} comdat($_Z9in_headeri.hotpatch.slot)
// CHECK-DAG: define linkonce_odr {{.*}}i32 @_Z9in_headeri(i32 {{.*}} section "hotpatch_thunks" comdat
// CHECK-DAG: define internal {{.*}}i32 @_ZL5twicei(i32 {{.*}} section "hotpatch_thunks"

// NOTALL-NOT: hotpatch.slot
