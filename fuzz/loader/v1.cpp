// The code the patch loader's fuzzer patches: it is linked into the fuzzer
// itself (fuzz_patch_loader.cpp), built with the plugin and without
// sanitizers, like any program's hot code.
int value() { return 1; }
const char *word() { return "one"; }
void thrower() { throw 1; }
int fuzz_target_anchor() { return value() + (word() != nullptr); }
