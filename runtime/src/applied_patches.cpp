// applied_patches.cpp - the registry of applied patches (see
// applied_patches.h): each image's chain, the patches' pages and slots, the
// newest body of each changed function, the hooks; the C API that reads
// them, and the locks taken around fork().
//
// The records are allocated on first use and never freed: a thread may
// still be running when the program exits.
#include "hotpatch/hotpatch.h"
#include "applied_patches.h"
#include "internal.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#define HOTPATCH_API extern "C" __attribute__((visibility("default")))

namespace {

using hotpatch_rt::set_error_message;

struct Hook {
  hotpatch_hook fn;
  void *user;
};

std::mutex g_patch_mutex;
std::mutex g_state_mutex;
std::atomic<unsigned> g_applied{0};
// Set while this thread applies a patch: an initialiser that forks must not
// wait for the lock its own thread holds.
thread_local bool t_applying = false;
Hook g_hooks[32];
unsigned g_hook_count = 0;
hotpatch_rt::AppliedPatches *g_patches = nullptr;

} // namespace

namespace hotpatch_rt {

ApplyLock::ApplyLock() {
  g_patch_mutex.lock();
  t_applying = true;
}

ApplyLock::~ApplyLock() {
  t_applying = false;
  g_patch_mutex.unlock();
}

RecordingPatches::RecordingPatches() { g_state_mutex.lock(); }

RecordingPatches::~RecordingPatches() { g_state_mutex.unlock(); }

AppliedPatches &RecordingPatches::records() {
  if (!g_patches)
    g_patches = new AppliedPatches();
  return *g_patches;
}

unsigned patches_applied_to(const std::string &build_id) {
  std::lock_guard<std::mutex> lock(g_state_mutex);
  if (!g_patches)
    return 0;
  auto it = g_patches->chains.find(build_id);
  return it == g_patches->chains.end() ? 0 : it->second;
}

std::vector<PatchPages> applied_pages() {
  std::lock_guard<std::mutex> lock(g_state_mutex);
  return g_patches ? g_patches->pages : std::vector<PatchPages>();
}

const char *patch_slot_owner(uintptr_t slot) {
  std::lock_guard<std::mutex> lock(g_state_mutex);
  if (g_patches) {
    auto p = g_patches->slots.find(slot);
    if (p != g_patches->slots.end())
      return p->second.c_str(); // never erased
  }
  return nullptr;
}

void count_published() { g_applied.fetch_add(1, std::memory_order_release); }

void run_hooks() {
  Hook hooks[32];
  unsigned hook_count;
  {
    std::lock_guard<std::mutex> lock(g_state_mutex);
    hook_count = g_hook_count;
    std::copy(g_hooks, g_hooks + hook_count, hooks);
  }
  unsigned index = g_applied.load(std::memory_order_acquire);
  for (unsigned i = 0; i < hook_count; ++i)
    hooks[i].fn(index, hooks[i].user);
}

void loader_fork_prepare() {
  if (!t_applying)
    g_patch_mutex.lock();
  g_state_mutex.lock();
}

void loader_fork_done() {
  g_state_mutex.unlock();
  if (!t_applying)
    g_patch_mutex.unlock();
}

} // namespace hotpatch_rt

HOTPATCH_API unsigned hotpatch_patch_count(void) {
  return g_applied.load(std::memory_order_acquire);
}

HOTPATCH_API hotpatch_status hotpatch_add_hook(hotpatch_hook hook, void *user) {
  if (!hook) {
    set_error_message("hotpatch_add_hook: hook is NULL");
    return HOTPATCH_INVALID_ARGUMENT;
  }
  std::lock_guard<std::mutex> lock(g_state_mutex);
  if (g_hook_count == sizeof g_hooks / sizeof g_hooks[0]) {
    set_error_message("hotpatch_add_hook: 32 hooks are registered already");
    return HOTPATCH_INVALID_ARGUMENT;
  }
  g_hooks[g_hook_count++] = {hook, user};
  hotpatch_rt::clear_error_message();
  return HOTPATCH_OK;
}

// The newest version of a function that patches changed but that has no
// slot (not hot); nullptr if no patch changed it.
void *hotpatch_rt_newest(const char *symbol) {
  std::lock_guard<std::mutex> lock(g_state_mutex);
  if (!g_patches || !symbol)
    return nullptr;
  auto it = g_patches->newest.find(symbol);
  return it == g_patches->newest.end() ? nullptr : it->second;
}
