// fuzz_thinlink_request.cpp - libFuzzer target: a request to the resident
// thin linker (tools/ThinlinkProtocol.h), as any process of the user may
// send one to its socket. What is accepted must encode back to a request
// that decodes to the same fields.
#include "ThinlinkProtocol.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace hotpatch::thinlink_server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string bytes(reinterpret_cast<const char *>(data), size);
  std::string why;
  size_t length = 0;
  long header = parseHeader(bytes, length, why);
  if (header < 0 && why.empty())
    __builtin_trap(); // a refusal always says why
  // The payload as the server reads it: after the header, or the whole
  // input when there is none (the decoder alone).
  std::string payload = header > 0 ? bytes.substr(size_t(header)) : bytes;
  why.clear();
  auto request = decodePayload(payload, why);
  if (!request) {
    if (why.empty())
      __builtin_trap();
    return 0;
  }
  std::string again = encode(*request);
  size_t length2 = 0;
  long header2 = parseHeader(again, length2, why);
  if (header2 <= 0 || again.size() != size_t(header2) + length2)
    __builtin_trap();
  auto back = decodePayload(again.substr(size_t(header2)), why);
  if (!back || back->Cwd != request->Cwd || back->Umask != request->Umask ||
      back->Env != request->Env || back->Args != request->Args)
    __builtin_trap();
  return 0;
}
