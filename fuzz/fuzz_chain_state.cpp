// fuzz_chain_state.cpp - libFuzzer target: the chain state reader
// (patchlink/ChainState.cpp), which reads <program>.hpchain, a file anyone who
// can write beside the program may have changed. A state it accepts must
// survive being written and read again.
#include "ChainState.h"

#include <cstddef>
#include <cstdint>

using namespace hotpatch;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef Text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<ChainState> S = ChainState::parse(Text, "fuzz.hpchain");
  if (!S) {
    llvm::consumeError(S.takeError());
    return 0;
  }
  llvm::Expected<ChainState> Again = ChainState::parse(S->serialize(), "again.hpchain");
  if (!Again || Again->serialize() != S->serialize())
    __builtin_trap();
  return 0;
}
