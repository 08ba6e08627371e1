// patch_loader.cpp - hotpatch_apply_file: check, map, relocate, publish.
//
// The protocol, step by step (each step may refuse; nothing is published
// before step 8, so a refused patch leaves the program as it was):
//
//   1. Read the file; check magic, version, sizes and the FNV-1a checksum.
//   2. Find the image the patch was made for by its build-id: the
//      executable or a shared library the process loaded; check the chain
//      index against the number of patches applied to that image.
//   3. Check the ELF image: x86-64 ET_DYN, no interpreter, every PT_LOAD in
//      the patch window, none writable and executable, none
//      overlapping or sharing a page with another of other permissions;
//      every allocated section in a segment whose permissions match it
//      (patch_checks.cpp). Then every slot update against what the runtime
//      knows: the slot is a slot the program registered, or one an earlier
//      patch defined, and belongs to the function the update names; the new
//      body is the start of a function of that name in this patch's code;
//      no flag bit or reserved field is unknown. Initialisers are functions
//      of the patch. No bound is checked with a sum that could wrap: the
//      file is untrusted until here.
//   4. Map the segments' pages at the fixed distance below the image with
//      MAP_FIXED_NOREPLACE (never over anything) and copy the segments in.
//   5. Apply the dynamic relocations, each of which must write inside the
//      patch's own segments; every relocation section the image carries must
//      be one the dynamic section names. Symbols the patch does not define
//      come from the process (dlsym), as in a shared library. In a library's
//      patch, the library's exported symbols are bound as the dynamic linker
//      bound the library's own references (the global scope first, then the
//      library), and thread-locals are the library's (its TLS module).
//   6. Check the unwind tables record by record where they are mapped
//      (patch_unwind.cpp), give each segment its final protection, and
//      register the tables so that exceptions unwind through patched frames.
//      A patch refused after this deregisters them before it is unmapped.
//   7. Run the initialisers of the globals the patch adds (they register
//      their destructors with __cxa_atexit themselves). Only g_patch_mutex is
//      held: they may call the rest of the API.
//   8. Record the patch (everything that allocates), then publish: one
//      release store per slot, which cannot fail.
//   9. Run the hooks, outside every lock.
//
// On failure after step 4 the mapping is removed again: no slot points into
// it yet. Once published a patch is never unmapped, because threads may be
// executing it.
//
// Each step is a file of its own, over one LoadContext (load_context.h
// lists them); this file holds the driver, Loader, and the entry point.
// What stays of an applied patch, and the locks, are applied_patches.cpp's.
#include "hotpatch/hotpatch.h"
#include "applied_patches.h"
#include "internal.h"
#include "load_context.h"

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>

#define HOTPATCH_API extern "C" __attribute__((visibility("default")))

namespace {

using hotpatch_rt::set_error_message;

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t)
      .count();
}

// Runs the steps of one apply in order; a step that refuses ends it, and
// the context then undoes what was done.
class Loader {
public:
  Loader(const char *path, hotpatch_apply_result *result) : c_(path), result_(result) {}

  hotpatch_status run() {
    using namespace hotpatch_rt;
    auto t0 = std::chrono::steady_clock::now();
    hotpatch_status st;
    if ((st = check_header(c_)) != HOTPATCH_OK || (st = check_elf(c_)) != HOTPATCH_OK)
      return st;
    // Slot updates and initialisers need only the header and the segment
    // table: check them before anything is mapped.
    if ((st = check_updates(c_)) != HOTPATCH_OK)
      return st;
    double check_ms = ms_since(t0);
    auto t1 = std::chrono::steady_clock::now();
    if ((st = map_segments(c_)) != HOTPATCH_OK || (st = relocate(c_)) != HOTPATCH_OK ||
        (st = check_mapped_unwind(c_)) != HOTPATCH_OK ||
        (st = protect_segments(c_)) != HOTPATCH_OK)
      return st;
    double map_ms = ms_since(t1);
    register_unwind(c_);
#ifdef HOTPATCH_FUZZING
    // The loader's fuzzer (fuzz/) meets every input with the same program:
    // all is checked, nothing runs or is published, and all is undone.
    return c_.refuse(HOTPATCH_BAD_PATCH, "fully checked; a fuzzing build applies nothing");
#endif
    if (!open_vtables(c_))
      return HOTPATCH_MAP_FAILED;
    // New globals are constructed before any new code can reach them.
    for (uint32_t i = 0; i < c_.header.init_count; ++i)
      run_initialiser(c_.runtime(c_.inits[i]));
    publish(c_);
    close_vtables(c_);
    describe_to_debuggers(c_);
    if (result_) {
      result_->chain_index = c_.header.chain_index;
      result_->functions = c_.published;
      result_->check_ms = check_ms;
      result_->map_ms = map_ms;
      result_->total_ms = ms_since(t0);
    }
    return HOTPATCH_OK;
  }

private:
  // Patch code is not built with UBSan's function check, which reads the
  // 8 bytes before the callee: before a patch's first page there is none.
  __attribute__((no_sanitize("function"))) static void run_initialiser(uintptr_t fn) {
    reinterpret_cast<void (*)()>(fn)();
  }

  hotpatch_rt::LoadContext c_;
  hotpatch_apply_result *result_;
};

} // namespace

HOTPATCH_API hotpatch_status hotpatch_apply_file(const char *path, hotpatch_apply_result *result) {
  if (!path) {
    set_error_message("hotpatch_apply_file: path is NULL: pass the patch file written by "
                      "thinlink --patch");
    return HOTPATCH_INVALID_ARGUMENT;
  }
  try {
    hotpatch_rt::ApplyLock lock;
    hotpatch_status st = Loader(path, result).run();
    if (st != HOTPATCH_OK)
      return st;
  } catch (const std::exception &e) {
    set_error_message(std::string("hotpatch_apply_file: ") + e.what());
    return HOTPATCH_BAD_PATCH;
  } catch (...) {
    set_error_message("hotpatch_apply_file: an exception was thrown while applying");
    return HOTPATCH_BAD_PATCH;
  }
  // The patch is published. Hooks run outside every lock: they may ask the
  // runtime anything; what they throw is theirs.
  hotpatch_rt::run_hooks();
  hotpatch_post_event(HOTPATCH_EVENT_PATCH_APPLIED, path);
  hotpatch_rt::clear_error_message();
  return HOTPATCH_OK;
}
