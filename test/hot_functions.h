// The hot functions of hotpatch_plugin_test, defined in hot_functions.cpp.
#ifndef HOTPATCH_TEST_HOT_FUNCTIONS_H
#define HOTPATCH_TEST_HOT_FUNCTIONS_H

#include "hotpatch/hotpatch.h"

extern "C" HOTPATCH int hot_value(int x);  // x + 1
extern "C" int replacement_value(int x);   // x + 1000, not hot
extern "C" int other_replacement(int x);   // x + 2000, not hot

HOTPATCH int hot_cpp(int x);               // x * 2; found as "_Z7hot_cppi"
int call_hot_cpp_locally(int x);           // calls hot_cpp from its own file
int call_local_helper(int x);              // calls a static HOTPATCH function

#endif
