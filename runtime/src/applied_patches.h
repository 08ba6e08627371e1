// applied_patches.h - what the runtime keeps of the patches it applied, and
// its two locks. Internal to the runtime.
//
// The apply lock serialises applies: it is held while a patch is checked,
// mapped and its initialisers run. The state lock guards what other API
// calls read (hooks, newest bodies, the patches' pages and slots) and is
// never held while user code runs, so that a new global's constructor may
// call the API (applied_patches.cpp).
#ifndef HOTPATCH_RT_APPLIED_PATCHES_H
#define HOTPATCH_RT_APPLIED_PATCHES_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hotpatch_rt {

// The runtime addresses of a patch's pages.
struct PatchPages {
  uintptr_t begin, end;
};

// Held by the thread that applies a patch for as long as it lives. While
// it is, an initialiser of that thread that forks does not wait for it.
class ApplyLock {
public:
  ApplyLock();
  ~ApplyLock();
  ApplyLock(const ApplyLock &) = delete;
  ApplyLock &operator=(const ApplyLock &) = delete;
};

// What the applied patches left, as recorded when each was published.
struct AppliedPatches {
  // Patches applied per image (by build-id): each image has its own chain.
  std::map<std::string, unsigned> chains;
  std::vector<PatchPages> pages;
  // The newest body of every function a patch changed, hot or not, by name.
  std::map<std::string, void *> newest;
  // Slots that applied patches define (new hot functions): address ->
  // name. Never erased.
  std::map<uintptr_t, std::string> slots;
};

// The state lock, held for as long as this lives, and the records it
// guards, made on first use. Nothing that runs user code may be called
// while it is held.
class RecordingPatches {
public:
  RecordingPatches();
  ~RecordingPatches();
  RecordingPatches(const RecordingPatches &) = delete;
  RecordingPatches &operator=(const RecordingPatches &) = delete;
  AppliedPatches &records();
};

// How many patches are applied to the image with this build-id.
unsigned patches_applied_to(const std::string &build_id);
// The pages of every patch applied so far.
std::vector<PatchPages> applied_pages();
// The function whose slot an applied patch defined at `slot` (a runtime
// address), or nullptr.
const char *patch_slot_owner(uintptr_t slot);

// Counts a patch whose slots are all published.
void count_published();
// Runs the hooks (hotpatch_add_hook) with the number of patches applied.
// Call it with no lock held: hooks may ask the runtime anything.
void run_hooks();

} // namespace hotpatch_rt

#endif // HOTPATCH_RT_APPLIED_PATCHES_H
