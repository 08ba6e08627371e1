/// A variadic hot function: the thunk forwards the variable arguments with a
/// musttail call, leaving %al (the vector register count) untouched.
// RUN: %clang %hp_cflags %plugin -O2 -S -emit-llvm %s -o - | FileCheck %s
// RUN: %clang %hp_cflags %plugin -O2 -S %s -o - | FileCheck %s --check-prefix=ASM
#include <hotpatch/hotpatch.h>
#include <stdarg.h>

HOTPATCH int sum(int n, ...) {
  va_list ap;
  va_start(ap, n);
  int s = 0;
  for (int i = 0; i < n; i++) s += va_arg(ap, int);
  va_end(ap);
  return s;
}

// CHECK: define {{.*}}i32 @sum(i32 noundef %0, ...) {{.*}}section "hotpatch_thunks"
// CHECK-NEXT: [[P:%.*]] = load atomic ptr, ptr @sum.hotpatch.slot acquire
// CHECK-NEXT: musttail call i32 (i32, ...) [[P]](i32 noundef %0, ...)

// ASM-LABEL: sum:
// ASM-NOT: {{%(al|ax|eax|rax)}}
// ASM-NOT: call
// ASM: jmpq *
