// The edit the seed patch brings: new globals (one initialised, one
// constructed), a relocated table of pointers, new bodies, and a new
// function with exception tables - every part of a patch the loader reads.
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
int guarded() {
  try {
    thrower();
  } catch (int e) {
    return e;
  }
  return 0;
}
int fuzz_target_anchor() { return value() + (word() != nullptr); }
