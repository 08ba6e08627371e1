#include "hot_functions.h"

extern "C" HOTPATCH int hot_value(int x) { return x + 1; }
extern "C" int replacement_value(int x) { return x + 1000; }
extern "C" int other_replacement(int x) { return x + 2000; }

HOTPATCH int hot_cpp(int x) { return x * 2; }
// In the modes that rewrite call sites, this call loads the slot itself.
int call_hot_cpp_locally(int x) { return hot_cpp(x); }

// File-local: registered with HOTPATCH_ENTRY_LOCAL and this file as its unit.
static HOTPATCH int local_helper(int x) { return x - 1; }
int call_local_helper(int x) { return local_helper(x); }
