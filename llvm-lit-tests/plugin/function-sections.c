/// The plugin turns on -ffunction-sections and -fdata-sections: thinlink
/// compares objects section by section, so one section per function is what
/// makes a patch as small as the edit.
// RUN: %clang %hp_cflags %plugin -O2 -c %s -o %t.o
// RUN: llvm-readelf -S %t.o | FileCheck %s
// RUN: %clang -O2 -c %s -o %t.plain.o
// RUN: llvm-readelf -S %t.plain.o | FileCheck %s --check-prefix=PLAIN
int counter = 1;
static int hidden_state;
int bump(void) { return ++counter + hidden_state++; }
int other(void) { return 2; }

// CHECK-DAG: .text.bump
// CHECK-DAG: .text.other
// CHECK-DAG: .data.counter
// CHECK-DAG: .bss.hidden_state
// PLAIN-NOT: .text.bump
