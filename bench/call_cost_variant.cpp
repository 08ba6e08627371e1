// call_cost_variant.cpp - one variant of the call-cost benchmark.
//
// bench/CMakeLists.txt compiles this file several times, once per variant and
// optimisation level, with and without the plugin and in each plugin mode.
// The source is the same every time; only the names (so that all variants
// link into one driver) and the flags differ:
//
//   BENCH_VARIANT        suffix of the two names below (e.g. callsite_O2)
//   BENCH_DEFINE_CALLEE  define the callee call_cost_f_<variant>
//   BENCH_DEFINE_LOOP    define the timed loop call_cost_loop_<variant>
//
// The callee is noinline in every variant, so the direct baseline is a real
// call, as the hot variants are. Where the callee and the loop are in the same
// file, the plugin rewrites the loop's call (call-site modes) or points it at
// the thunk (mode thunk); where they are apart (BENCH_DEFINE_CALLEE in one
// object built with the plugin, BENCH_DEFINE_LOOP in one built without), the
// loop calls the public symbol, which is the thunk.
#include <hotpatch/hotpatch.h>

#include <stdint.h>

#ifndef BENCH_VARIANT
#error "BENCH_VARIANT must name the variant"
#endif

#define BENCH_CAT2(a, b) a##b
#define BENCH_CAT(a, b) BENCH_CAT2(a, b)
#define BENCH_CALLEE BENCH_CAT(call_cost_f_, BENCH_VARIANT)
#define BENCH_LOOP BENCH_CAT(call_cost_loop_, BENCH_VARIANT)

extern "C" {
int BENCH_CALLEE(int x);
uint32_t BENCH_LOOP(uint32_t iterations);
}

#if BENCH_DEFINE_CALLEE
// A realistic trivial function: the call is most of its cost.
extern "C" HOTPATCH __attribute__((noinline)) int BENCH_CALLEE(int x) {
  return x * 3 + 1;
}
#endif

#if BENCH_DEFINE_LOOP
// The argument stays below 2^29, so x * 3 + 1 never overflows; the sum is
// returned, so no call can be dropped.
extern "C" uint32_t BENCH_LOOP(uint32_t iterations) {
  uint32_t acc = 0;
  for (uint32_t i = 0; i < iterations; ++i)
    acc += static_cast<uint32_t>(BENCH_CALLEE(static_cast<int>(i & 0x1fffffff)));
  return acc;
}
#endif
