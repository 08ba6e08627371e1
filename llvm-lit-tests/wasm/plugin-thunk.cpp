/// On wasm32 a slot is an i32 in linear memory holding a table index, and
/// the thunk calls through it with call_indirect. Without the tail-call
/// feature the thunk makes an ordinary call and returns its result (a
/// musttail call would not compile: "WebAssembly 'tail-call' feature not
/// enabled"); with -mtail-call it is a return_call_indirect. A by-value
/// aggregate always gets the ordinary call: the caller already copied it.
// REQUIRES: wasm
// RUN: %wasm_cxx %plugin %hp_all -O2 -S -emit-llvm %s -o - | FileCheck %s --check-prefix=IR
// RUN: %wasm_cxx %plugin %hp_all -O2 -S %s -o - | FileCheck %s --check-prefix=ASM
// RUN: %wasm_cxx %plugin %hp_all -O0 -S %s -o - | FileCheck %s --check-prefix=ASM
// RUN: %wasm_cxx %plugin %hp_all -O2 -mtail-call -S %s -o - | FileCheck %s --check-prefix=TAIL
// RUN: %wasm_cxx %plugin %hp_all -O2 -mtail-call -S -emit-llvm %s -o - | FileCheck %s --check-prefix=TAILIR

struct pair { int a, b; };

int shade(int x) { return x * 3; }
pair swap(pair p) { return {p.b, p.a}; }
static int helper(int x) { return x + 1; }
int use(int x) { return helper(x); }

/// Slots are visible on wasm, whatever the function's visibility: a patch
/// finds them by name. A file-local function's slot is named after its file.
// IR-DAG: @_Z5shadei.hotpatch.slot = linkonce_odr global ptr @_Z5shadei.hotpatch.body, comdat, align 4
// IR-DAG: @_ZL6helperi.hotpatch.slot.{{[0-9A-F]+}} = global ptr @_ZL6helperi.hotpatch.body, align 4
/// Entries are 28 bytes apart (the struct's ABI alignment, 4).
// IR-DAG: @_Z5shadei.hotpatch.entry = internal global {{.*}} section "hotpatch_table", comdat($_Z5shadei.hotpatch.slot), align 4

// IR-LABEL: define {{.*}}i32 @_Z5shadei(i32 {{.*}}%0) {{.*}}section "hotpatch_thunks"
// IR-NEXT: %[[T:.*]] = load atomic ptr, ptr @_Z5shadei.hotpatch.slot acquire, align 4
// IR-NEXT: %[[R:.*]] = {{(tail )?}}call {{.*}}i32 %[[T]](i32 {{.*}}%0)
// IR-NEXT: ret i32 %[[R]]

// IR-LABEL: define {{.*}}void @_Z4swap4pair(ptr {{.*}}sret(%struct.pair){{.*}}, ptr {{.*}}byval(%struct.pair){{.*}}) {{.*}}section "hotpatch_thunks"
// IR: {{(tail )?}}call void %{{.*}}(ptr {{.*}}sret(%struct.pair)
// IR-NEXT: ret void

// ASM-LABEL: _Z5shadei:
// ASM: call_indirect
// ASM-NOT: return_call_indirect
// ASM: end_function

// TAIL-LABEL: _Z5shadei:
// TAIL: return_call_indirect
// TAIL: end_function

// TAILIR-LABEL: define {{.*}}i32 @_Z5shadei(
// TAILIR: musttail call
// TAILIR-LABEL: define {{.*}}void @_Z4swap4pair(
// TAILIR-NOT: musttail
// TAILIR: ret void
