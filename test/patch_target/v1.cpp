// The program the patch-check tests patch: it applies the patch named on its
// command line and shows what runs before and after.
#include <hotpatch/hotpatch.h>
#include <cstdio>

int value() { return 1; }
const char *word() { return "one"; }
void thrower() { throw 1; }

int main(int argc, char **argv) {
  std::printf("before %d %s\n", value(), word());
  hotpatch_status st = hotpatch_apply_file(argc > 1 ? argv[1] : nullptr, nullptr);
  std::printf("apply: %s: %s\n", hotpatch_status_string(st), hotpatch_last_error());
  std::printf("after %d %s\n", value(), word());
  try {
    thrower();
  } catch (int e) {
    std::printf("caught %d\n", e);
  }
  std::printf("patches %u\n", hotpatch_patch_count());
}
