// debug_registration.h - what the loader tells debuggers, profilers and
// hotpatch_describe_address() about a published patch.
#ifndef HOTPATCH_RT_DEBUG_REGISTRATION_H
#define HOTPATCH_RT_DEBUG_REGISTRATION_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "patch_checks.h"

namespace hotpatch_rt {

struct DebugFunction {
  uintptr_t begin, size; // running address
  std::string name;      // mangled
};

// A .debug_* section of the patch file, as the thin link linked it: its
// addresses are link addresses, `delta` below the running ones (only
// .debug_addr and .debug_line hold any; the thin link compresses the
// others, which are copied as they are).
struct DebugSection {
  std::string name;
  const char *data;
  size_t size;
  bool compressed; // SHF_COMPRESSED: handed on as it is, for debuggers to inflate
};

// Called once per published patch, under the loader's apply lock.
// [code_begin, code_end) is the patch's code; `eh_frame` (eh_size bytes,
// relocated for eh_addr) its unwind table, or null; `dwarf` its debug
// sections and `lines` its line table, whose addresses are `delta` below
// the running ones.
void register_patch_debug_info(unsigned patch, const std::string &image,
                               std::vector<DebugFunction> fns, uintptr_t code_begin,
                               uintptr_t code_end, const char *eh_frame, uintptr_t eh_addr,
                               size_t eh_size, const std::vector<DebugSection> &dwarf,
                               const LineTable &lines, uint64_t delta);

} // namespace hotpatch_rt

#endif
