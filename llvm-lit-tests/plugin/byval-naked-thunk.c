/// By-value aggregates are passed in memory (byval). LLVM 19 miscompiles
/// musttail with byval on x86-64, so the thunk is a naked jump through the
/// slot; under -fPIC in a shared library the slot is preemptible and is
/// reached through the GOT (flags 0x1e = NAKED_THUNK|CALLSITE|THUNK|ANNOTATED).
// RUN: %clang %hp_cflags %plugin -O2 -S -emit-llvm %s -o - | FileCheck %s --check-prefix=IR
// RUN: %clang %hp_cflags %plugin -O2 -S %s -o - | FileCheck %s --check-prefix=ASM
// RUN: %clang %hp_cflags %plugin -O2 -fPIC -S %s -o - | FileCheck %s --check-prefix=PIC
// RUN: %clang %hp_cflags %plugin -O0 -S %s -o - | FileCheck %s --check-prefix=ASM
#include <hotpatch/hotpatch.h>

struct big { long v[8]; };
HOTPATCH long first_last(struct big b) { return b.v[0] + b.v[7]; }

// IR: @first_last.hotpatch.entry = internal global {{.*}} { i32 1, i32 30,
// IR: define {{.*}}i64 @first_last(ptr byval(%struct.big) align 8 %0) [[A:#[0-9]+]] section "hotpatch_thunks"
// IR-NEXT: call void asm sideeffect "jmpq *\22first_last.hotpatch.slot\22(%rip)", ""()
// IR-NEXT: unreachable
// IR: attributes [[A]] = {{{.*}}naked

// ASM-LABEL: first_last:
// ASM-NOT: {{push|sub|mov|lea}}
// ASM: #APP
// ASM-NEXT: jmpq *first_last.hotpatch.slot(%rip)
// ASM-NEXT: #NO_APP

// PIC: first_last:
// PIC: movq first_last.hotpatch.slot@GOTPCREL(%rip), %r11
// PIC-NEXT: jmpq *(%r11)
