#include "registry_support.h"

// Out of line, so that every body has one address the tests can compare.
namespace hptest {
int ret1(int x) { return x + 1; }
int ret2(int x) { return x + 2; }
int ret3(int x) { return x + 3; }
int ret4(int x) { return x + 4; }
} // namespace hptest
