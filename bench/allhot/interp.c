/* An interpreter in the shape of the small C virtual machines (Lua, Wren,
 * a regex engine): a dispatch loop over byte codes that calls many small
 * static helpers for the stack, the operands and the arithmetic. Run with
 * a scale factor; prints the time of the interpretation and a checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum Op {
  OP_CONST, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_MOD, OP_LT,
  OP_JMP, OP_JZ, OP_CALL, OP_RET, OP_DUP, OP_POP, OP_HASH, OP_HALT
};

typedef struct {
  int64_t stack[256];
  int sp;
  int64_t locals[16];
  int frames[64];
  int fp;
  const uint8_t *code;
  int pc;
  uint64_t steps;
} VM;

static void vm_error(const char *what) { fprintf(stderr, "vm: %s\n", what); exit(1); }
static void check_push(VM *vm) { if (vm->sp >= 255) vm_error("stack overflow"); }
static void check_pop(VM *vm, int n) { if (vm->sp < n) vm_error("stack underflow"); }
static void push(VM *vm, int64_t v) { check_push(vm); vm->stack[vm->sp++] = v; }
static int64_t pop(VM *vm) { check_pop(vm, 1); return vm->stack[--vm->sp]; }
static int64_t peek(VM *vm) { check_pop(vm, 1); return vm->stack[vm->sp - 1]; }
static uint8_t read_u8(VM *vm) { return vm->code[vm->pc++]; }
static int32_t read_i32(VM *vm) {
  int32_t v;
  memcpy(&v, vm->code + vm->pc, 4);
  vm->pc += 4;
  return v;
}
static int64_t arith_add(int64_t a, int64_t b) { return a + b; }
static int64_t arith_sub(int64_t a, int64_t b) { return a - b; }
static int64_t arith_mul(int64_t a, int64_t b) { return a * b; }
static int64_t arith_mod(int64_t a, int64_t b) { return b == 0 ? 0 : a % b; }
static int64_t compare_lt(int64_t a, int64_t b) { return a < b; }
static void binary(VM *vm, int64_t (*f)(int64_t, int64_t)) {
  int64_t b = pop(vm), a = pop(vm);
  push(vm, f(a, b));
}
static int64_t mix(int64_t h, int64_t v) { return (h ^ v) * 0x100000001b3LL; }
static int64_t hash_value(int64_t v) {
  int64_t h = (int64_t)0xcbf29ce484222325ULL;
  for (int i = 0; i < 4; ++i) h = mix(h, (v >> (8 * i)) & 0xff);
  return h;
}
static void enter(VM *vm, int target) {
  if (vm->fp >= 63) vm_error("call depth");
  vm->frames[vm->fp++] = vm->pc;
  vm->pc = target;
}
static int leave(VM *vm) {
  if (vm->fp == 0) return 0;
  vm->pc = vm->frames[--vm->fp];
  return 1;
}

static int64_t run(VM *vm, const uint8_t *code) {
  vm->code = code;
  vm->pc = 0;
  vm->sp = 0;
  vm->fp = 0;
  for (;;) {
    ++vm->steps;
    switch ((enum Op)read_u8(vm)) {
    case OP_CONST: push(vm, read_i32(vm)); break;
    case OP_LOAD: push(vm, vm->locals[read_u8(vm)]); break;
    case OP_STORE: vm->locals[read_u8(vm)] = pop(vm); break;
    case OP_ADD: binary(vm, arith_add); break;
    case OP_SUB: binary(vm, arith_sub); break;
    case OP_MUL: binary(vm, arith_mul); break;
    case OP_MOD: binary(vm, arith_mod); break;
    case OP_LT: binary(vm, compare_lt); break;
    case OP_JMP: vm->pc = read_i32(vm); break;
    case OP_JZ: { int32_t t = read_i32(vm); if (pop(vm) == 0) vm->pc = t; break; }
    case OP_CALL: { int32_t t = read_i32(vm); enter(vm, t); break; }
    case OP_RET: if (!leave(vm)) vm_error("return outside a call"); break;
    case OP_DUP: push(vm, peek(vm)); break;
    case OP_POP: pop(vm); break;
    case OP_HASH: push(vm, hash_value(pop(vm))); break;
    case OP_HALT: return vm->sp ? pop(vm) : 0;
    default: vm_error("bad opcode");
    }
  }
}

typedef struct { uint8_t b[512]; int n; } Code;
static void emit(Code *c, uint8_t v) { c->b[c->n++] = v; }
static void emit_i32(Code *c, int32_t v) { memcpy(c->b + c->n, &v, 4); c->n += 4; }
static void patch_i32(Code *c, int at, int32_t v) { memcpy(c->b + at, &v, 4); }

/* locals: 0 = i, 1 = acc, 2 = n.
 *   acc = 0; i = 0;
 *   while (i < n) { acc = acc + f(i) ; i = i + 1 }   f(x) = hash(x * x % 977) % 1000 + x
 *   halt acc */
static void compile(Code *c, int32_t n) {
  emit(c, OP_CONST); emit_i32(c, 0); emit(c, OP_STORE); emit(c, 1);
  emit(c, OP_CONST); emit_i32(c, 0); emit(c, OP_STORE); emit(c, 0);
  emit(c, OP_CONST); emit_i32(c, n); emit(c, OP_STORE); emit(c, 2);
  int loop = c->n;
  emit(c, OP_LOAD); emit(c, 0); emit(c, OP_LOAD); emit(c, 2); emit(c, OP_LT);
  emit(c, OP_JZ); int exit_at = c->n; emit_i32(c, 0);
  emit(c, OP_LOAD); emit(c, 1);
  emit(c, OP_LOAD); emit(c, 0);
  emit(c, OP_CALL); int call_at = c->n; emit_i32(c, 0);
  emit(c, OP_ADD); emit(c, OP_STORE); emit(c, 1);
  emit(c, OP_LOAD); emit(c, 0); emit(c, OP_CONST); emit_i32(c, 1); emit(c, OP_ADD);
  emit(c, OP_STORE); emit(c, 0);
  emit(c, OP_JMP); emit_i32(c, loop);
  patch_i32(c, exit_at, c->n);
  emit(c, OP_LOAD); emit(c, 1); emit(c, OP_HALT);
  patch_i32(c, call_at, c->n);
  /* f: x on the stack */
  emit(c, OP_DUP); emit(c, OP_DUP); emit(c, OP_MUL);
  emit(c, OP_CONST); emit_i32(c, 977); emit(c, OP_MOD); emit(c, OP_HASH);
  emit(c, OP_CONST); emit_i32(c, 1000); emit(c, OP_MOD);
  emit(c, OP_ADD); emit(c, OP_RET);
}

int main(int argc, char **argv) {
  long scale = argc > 1 ? atol(argv[1]) : 1;
  Code code = {{0}, 0};
  compile(&code, 100000);
  static VM vm;
  struct timespec t0, t1, c0, c1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  int64_t check = 0;
  for (long r = 0; r < scale; ++r) check += run(&vm, code.b);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  double cpu = (c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6;
  printf("ms=%.3f cpu=%.3f check=%lld steps=%llu\n", ms, cpu, (long long)check,
         (unsigned long long)vm.steps);
  return 0;
}
