/// Constructors and destructors: the plugin turns off C1/C2 aliases, so the
/// complete and base variants each get a body, a slot and a thunk.
// RUN: %clangxx %hp_cflags %plugin -O2 -S -emit-llvm %s -o - | FileCheck %s
#include <hotpatch/hotpatch.h>

struct Widget {
  HOTPATCH Widget(int v);
  HOTPATCH virtual ~Widget();
  HOTPATCH virtual int value() const;
  int v;
};
Widget::Widget(int v) : v(v) {}
Widget::~Widget() {}
int Widget::value() const { return v; }

// CHECK-DAG: @_ZN6WidgetC1Ei.hotpatch.slot = linkonce_odr
// CHECK-DAG: @_ZN6WidgetC2Ei.hotpatch.slot = linkonce_odr
// CHECK-DAG: @_ZN6WidgetD1Ev.hotpatch.slot = linkonce_odr
// CHECK-DAG: @_ZN6WidgetD2Ev.hotpatch.slot = linkonce_odr
// CHECK-DAG: @_ZNK6Widget5valueEv.hotpatch.slot = linkonce_odr
/// The vtable names the public symbols, which are thunks.
// CHECK-DAG: @_ZTV6Widget = {{.*}}ptr @_ZN6WidgetD1Ev, ptr @_ZN6WidgetD0Ev, ptr @_ZNK6Widget5valueEv] }
// CHECK-NOT: @_ZN6WidgetC1Ei = alias
// CHECK-DAG: define {{.*}}void @_ZN6WidgetC1Ei({{.*}} section "hotpatch_thunks"
// CHECK-DAG: define {{.*}}void @_ZN6WidgetC2Ei({{.*}} section "hotpatch_thunks"
