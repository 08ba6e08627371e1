/// Misuse of the annotation is diagnosed where it is written.
// RUN: %clangxx -std=c++20 %hp_cflags %plugin -fsyntax-only -Xclang -verify %s
// RUN: %clangxx -std=c++20 %hp_cflags %plugin -c -o /dev/null -Xclang -verify %s
#include <hotpatch/hotpatch.h>

HOTPATCH int counter; // expected-error {{'HOTPATCH' applies to functions only; 'counter' is a variable}}
struct HOTPATCH Thing {}; // expected-error {{'HOTPATCH' applies to functions only; 'Thing' is a type}}
struct Holder {
  HOTPATCH int field; // expected-error {{'HOTPATCH' applies to functions only; 'field' is a field}}
};

HOTPATCH consteval int ce() { return 1; } // expected-error {{consteval function 'ce' cannot be hot: it has no code at run time}}
HOTPATCH __attribute__((always_inline)) inline int ai() { return 2; } // expected-error {{'ai' cannot be both 'HOTPATCH' and always_inline}}
HOTPATCH __attribute__((weak)) int wk() { return 3; } // expected-error {{weak function 'wk' cannot be hot: another definition may replace it at link time}}
HOTPATCH __attribute__((naked)) void nk() { __asm__("ret"); } // expected-error {{naked function 'nk' cannot be hot}}
HOTPATCH void del() = delete; // expected-error {{deleted function 'del' cannot be hot}}

// Allowed: constexpr, virtual, templates, noexcept, lambdas' callers.
HOTPATCH constexpr int cx(int v) { return v * 2; }
struct Base { HOTPATCH virtual int v() const { return ce() + ai(); } };
template <class T> HOTPATCH T id(T v) { return v; }
HOTPATCH int ne() noexcept { return id(5) + wk() + cx(1); }

HOTPATCH int main() { return 0; } // expected-error {{'main' cannot be hot: it is already running when a patch arrives}}
