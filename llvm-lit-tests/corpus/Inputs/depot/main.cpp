// The depot program: one step for each line read on standard input. A step
// prints one "probe <name>: <value>" line for every behaviour the corpus
// watches, then "ok".
#include <cstdio>

#include "depot.h"

int main() {
  char line[64];
  while (std::fgets(line, sizeof line, stdin)) {
    depot_step();
    std::puts("ok");
    std::fflush(stdout);
  }
  return 0;
}
