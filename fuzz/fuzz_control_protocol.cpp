// fuzz_control_protocol.cpp - libFuzzer target: the runtime's control
// requests (runtime/src/control_protocol.cpp), as a peer of the program's
// user may send them. "apply <path>" reaches the (dry-run) patch loader with
// whatever path the input names.
#include "../runtime/src/internal.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string request(reinterpret_cast<const char *>(data), size);
  // The listener passes what came before the first newline.
  request = request.substr(0, request.find('\n'));
  std::string reply = hotpatch_rt::handle_request(request);
  if (reply.empty() || reply.find('\n') != std::string::npos)
    __builtin_trap(); // one line each way
  return 0;
}
