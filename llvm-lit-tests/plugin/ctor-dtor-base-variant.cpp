/// Where nothing inlines the base-object variant of a constructor or
/// destructor (C2, D2) into the complete-object one (C1, D1), a call of C1
/// calls C2 instead, through C2's slot: without it, every construction at -O0
/// would be two calls where a plain build makes one (the plugin turns off
/// Clang's C1/C2 aliases, so C1 is emitted as a call of C2). C1 keeps its own
/// slot and thunk when other files may call it; an inline C1 left without
/// callers is not emitted, as without the plugin. Not done for an annotated
/// constructor (hotpatch_redirect of its C1 must reach every call), nor for a
/// class with a virtual base, whose C1 does more than call C2.
// RUN: %clangxx %hp_cflags %plugin %hp_all -O0 -S -emit-llvm %s -o %t.ll
// RUN: FileCheck %s < %t.ll
// RUN: FileCheck %s --check-prefix=KEPT --implicit-check-not=_ZN3VecC1Eff --implicit-check-not=_ZN3VecD1Ev < %t.ll
/// The LTO pre-link keeps every hot call on its slot, as at -O0.
// RUN: %clangxx %hp_cflags %plugin %hp_all -O2 -flto -S -emit-llvm %s -o - | FileCheck %s --check-prefix=LTO
/// Optimised, C2 is inlined into C1 and calls of C1 are left as they were.
// RUN: %clangxx %hp_cflags %plugin %hp_all -O2 -S -emit-llvm %s -o - | FileCheck %s --check-prefix=O2
#include <hotpatch/hotpatch.h>

struct Vec {
  float x, y;
  Vec(float x, float y) : x(x), y(y) {}
  ~Vec() { x = 0; }
};

struct Widget {
  Widget(int v);
  int v;
};
Widget::Widget(int v) : v(v) {}

struct Pinned {
  HOTPATCH Pinned(int v) : v(v) {}
  int v;
};

struct Base { int b = 1; };
struct Diamond : virtual Base {
  Diamond(int v) : v(v) {}
  int v;
};

float use_vec() { Vec a(1, 2); return a.x + a.y; }
int use_widget() { Widget w(3); return w.v; }
int use_pinned() { Pinned p(4); return p.v; }
int use_diamond() { Diamond d(5); return d.v + d.b; }

// CHECK-LABEL: define {{.*}} @_Z7use_vecv.hotpatch.body(
// CHECK: load atomic ptr, ptr @_ZN3VecC2Eff.hotpatch.slot acquire
// CHECK: load atomic ptr, ptr @_ZN3VecD2Ev.hotpatch.slot acquire
// CHECK-LABEL: define {{.*}} @_Z10use_widgetv.hotpatch.body(
// CHECK: load atomic ptr, ptr @_ZN6WidgetC2Ei.hotpatch.slot acquire
// CHECK-LABEL: define {{.*}} @_Z10use_pinnedv.hotpatch.body(
// CHECK: load atomic ptr, ptr @_ZN6PinnedC1Ei.hotpatch.slot acquire
// CHECK-LABEL: define {{.*}} @_Z11use_diamondv.hotpatch.body(
// CHECK: load atomic ptr, ptr @_ZN7DiamondC1Ei.hotpatch.slot acquire
/// Widget's C1 is an external symbol other files call: it keeps its slot,
/// its thunk and its body, which calls C2 through C2's slot. The inline
/// Vec's C1 and D1 have no caller left and are not emitted.
// KEPT-DAG: @_ZN6WidgetC1Ei.hotpatch.slot = linkonce_odr
// KEPT-DAG: define {{.*}}void @_ZN6WidgetC1Ei({{.*}} section "hotpatch_thunks"
// KEPT-DAG: define {{.*}}void @_ZN6WidgetC1Ei.hotpatch.body(
// KEPT-DAG: load atomic ptr, ptr @_ZN6WidgetC2Ei.hotpatch.slot acquire

// LTO-LABEL: define {{.*}} @_Z7use_vecv.hotpatch.body(
// LTO: load atomic ptr, ptr @_ZN3VecC2Eff.hotpatch.slot acquire

// O2-DAG: define {{.*}} @_ZN3VecC1Eff.hotpatch.body(
// O2-DAG: define {{.*}} @_ZN3VecD1Ev.hotpatch.body(
