// load_header.cpp - steps 1 and 2 of applying a patch (see
// patch_loader.cpp): the file's magic, version, sizes and checksum, where
// its parts lie, the image it was made for and its place in that image's
// chain.
//
// The file is untrusted: each part's size is bounded by the file's before
// it is added, so that no sum of untrusted sizes can wrap. Truncated and
// corrupted files are told apart.
#include "load_context.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace hotpatch_rt {

hotpatch_status check_header(LoadContext &c) {
  std::string err;
  if (!read_patch_file(c.path, c.file, err))
    return c.refuse(HOTPATCH_BAD_PATCH, err);
  if (c.file.size() < sizeof c.header || memcmp(c.file.data(), HOTPATCH_PATCH_MAGIC, 8))
    return c.refuse(HOTPATCH_BAD_PATCH,
                    c.file.size() < 8 || memcmp(c.file.data(), HOTPATCH_PATCH_MAGIC, 8)
                        ? "not a hotpatch patch file (bad magic)"
                        : "truncated (shorter than its header)");
  memcpy(&c.header, c.file.data(), sizeof c.header);
  if (c.header.version == HOTPATCH_PATCH_VERSION && c.header.reserved != 0)
    return c.refuse(HOTPATCH_BAD_PATCH,
                    "its header's reserved field is " + std::to_string(c.header.reserved) +
                        ", not 0: rebuild the patch with the matching thinlink");
  if (c.header.version != HOTPATCH_PATCH_VERSION)
    return c.refuse(HOTPATCH_BAD_PATCH, "patch format version " + std::to_string(c.header.version) +
                                            ", this runtime reads version " +
                                            std::to_string(HOTPATCH_PATCH_VERSION) +
                                            ": rebuild the patch with the matching thinlink");
  // Each part is bounded by the file's size before it is added: no sum
  // of untrusted sizes can wrap.
  uint64_t size = c.file.size();
  uint64_t parts[] = {uint64_t(c.header.update_count) * sizeof(hotpatch_patch_update),
                      uint64_t(c.header.init_count) * sizeof(uint64_t),
                      c.header.strings_size, c.header.image_size};
  uint64_t want = sizeof c.header;
  for (uint64_t part : parts)
    want = part > size || want > size ? size + 1 : want + part;
  if (size != want)
    return c.refuse(HOTPATCH_BAD_PATCH, "truncated or padded (" + std::to_string(c.file.size()) +
                                            " bytes, the header describes " +
                                            std::to_string(want) + "): rebuild the patch");
  if (hotpatch_patch_checksum(reinterpret_cast<const unsigned char *>(c.file.data()) +
                                  sizeof c.header,
                              c.file.size() - sizeof c.header) != c.header.checksum)
    return c.refuse(HOTPATCH_BAD_PATCH, "corrupted (checksum mismatch): rebuild the patch");
  c.updates = reinterpret_cast<const hotpatch_patch_update *>(c.file.data() + sizeof c.header);
  c.inits = reinterpret_cast<const uint64_t *>(c.updates + c.header.update_count);
  c.strings = reinterpret_cast<const char *>(c.inits + c.header.init_count);
  c.image = c.strings + c.header.strings_size;

  std::string want_id(reinterpret_cast<const char *>(c.header.build_id),
                      std::min<uint32_t>(c.header.build_id_size, 20));
  if (c.header.build_id_size > sizeof c.header.build_id)
    return c.refuse(HOTPATCH_BAD_PATCH, "its build-id size " +
                                            std::to_string(c.header.build_id_size) +
                                            " exceeds the header's 20 bytes: rebuild the patch");
  if (!image_with_build_id(want_id, c.base)) {
    Image exe = main_image();
    if (exe.build_id.empty())
      return c.refuse(HOTPATCH_WRONG_BUILD, "this program has no build-id: link it with thinlink");
    return c.refuse(HOTPATCH_WRONG_BUILD,
                    "made for build " + hex(want_id) + ", which is neither this program (build " +
                        hex(exe.build_id) +
                        ") nor a library it has loaded: build the patch against this "
                        "program's build, or load the library first");
  }
  unsigned applied = patches_applied_to(c.base.build_id);
  if (c.header.chain_index != applied + 1)
    return c.refuse(HOTPATCH_CHAIN_ORDER, "it is patch " + std::to_string(c.header.chain_index) +
                                              " of its chain, and " + std::to_string(applied) +
                                              " patches are applied to " + c.image_name() +
                                              ": apply patches in the order they were made");
  return HOTPATCH_OK;
}

} // namespace hotpatch_rt
