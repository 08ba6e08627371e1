// The program the patch-check tests patch (its main() is target_main.h,
// which applies a patch and shows what runs before and after).
#include <hotpatch/hotpatch.h>
#include <cstdio>

int value() { return 1; }
const char *word() { return "one"; }
void thrower() { throw 1; }

#include "target_main.h"
