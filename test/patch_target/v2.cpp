// The edit: new globals (one initialised, one constructed), a new table of
// pointers (relocated), new bodies of value, word and thrower, and a new
// function with exception tables.
#include <hotpatch/hotpatch.h>
#include <cstdio>

int counter = 41;
struct Adder {
  int n;
  Adder() : n(counter + 1) {}
};
Adder adder;
const char *const words_v2[] = {"zero", "two"};

int value() { return adder.n - 40 + (counter - 41); }
const char *word() { return words_v2[1]; }
void thrower() { throw 2; }
int guarded() { // new: has exception tables
  try {
    thrower();
  } catch (int e) {
    return e;
  }
  return 0;
}

#include "target_main.h"
