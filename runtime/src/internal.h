// internal.h - what the runtime's files share with each other, and nothing
// they export.
#ifndef HOTPATCH_RT_INTERNAL_H
#define HOTPATCH_RT_INTERNAL_H

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace hotpatch_rt {

// An image of the process: the executable or a shared library. Its load
// bias, its PT_LOAD range (runtime addresses), its build-id (raw bytes), its
// TLS module (0: none) and the name the dynamic linker knows it by ("" for
// the executable) (images.cpp).
struct Image {
  uintptr_t load = 0;
  uintptr_t begin = 0, end = 0;
  std::string build_id;
  size_t tls_modid = 0;
  uintptr_t relro_begin = 0, relro_end = 0; // PT_GNU_RELRO: vtables live there
  std::string name;
  bool is_main = false;
};
Image main_image();
std::vector<Image> loaded_images();
// The loaded image whose build-id starts with `id` (at most 20 bytes, as a
// patch header holds it).
bool image_with_build_id(const std::string &id, Image &out);
bool image_containing(uintptr_t addr, Image &out);
// Bytes (a build-id) in lower-case hex (images.cpp).
std::string hex(const std::string &bytes);

// The calling thread's hotpatch_last_error() message (slot_table.cpp).
void set_error_message(const std::string &msg);
void clear_error_message();

// Reads the patch file at `path` into `out`, refusing (with `err`) anything
// but a regular file without blocking (patch_file.cpp).
bool read_patch_file(const char *path, std::string &out, std::string &err);

// Every slot the program's images registered, with its function's name,
// sorted by slot address (slot_table.cpp).
struct RegisteredSlot {
  uintptr_t slot;
  const char *name;
};
std::vector<RegisteredSlot> registered_slots();

// The reply to one control-socket request (control_protocol.cpp).
std::string handle_request(const std::string &request);

// Around fork(): each part takes its locks before the child is made and
// releases them after, in parent and child, so that the child never
// inherits a lock held by a thread it does not have.
void loader_fork_prepare();
void loader_fork_done();
void registry_fork_prepare();
void registry_fork_done();
void events_fork_prepare();
void events_fork_done();

} // namespace hotpatch_rt

// The executable's build-id in hex, "" if it has none (images.cpp).
std::string hotpatch_rt_build_id_hex();

// After an image registered its slot table: once the executable's is in,
// the patches saved for this build are applied (catch_up.cpp).
void hotpatch_rt_after_register(const void *table);

#endif // HOTPATCH_RT_INTERNAL_H
