// events.cpp - the program's event hooks (hotpatch_add_event_hook) and
// hotpatch_post_event, which runs them.
#include "hotpatch/hotpatch.h"
#include "internal.h"

#include <algorithm>
#include <pthread.h>

#define HOTPATCH_API extern "C" __attribute__((visibility("default")))

namespace {
struct EventHook {
  hotpatch_event_hook fn;
  void *user;
};
pthread_mutex_t g_event_mutex = PTHREAD_MUTEX_INITIALIZER;
EventHook g_event_hooks[32];
unsigned g_event_hook_count = 0;
} // namespace

HOTPATCH_API hotpatch_status hotpatch_add_event_hook(hotpatch_event_hook hook, void *user) {
  if (!hook)
    return HOTPATCH_INVALID_ARGUMENT;
  pthread_mutex_lock(&g_event_mutex);
  bool full = g_event_hook_count == 32;
  if (!full)
    g_event_hooks[g_event_hook_count++] = {hook, user};
  pthread_mutex_unlock(&g_event_mutex);
  return full ? HOTPATCH_INVALID_ARGUMENT : HOTPATCH_OK;
}

// Hooks run outside the lock: they may add hooks or post events.
HOTPATCH_API void hotpatch_post_event(hotpatch_event event, const char *message) {
  EventHook hooks[32];
  pthread_mutex_lock(&g_event_mutex);
  unsigned n = g_event_hook_count;
  std::copy(g_event_hooks, g_event_hooks + n, hooks);
  pthread_mutex_unlock(&g_event_mutex);
  for (unsigned i = 0; i < n; ++i)
    hooks[i].fn(event, message ? message : "", hooks[i].user);
}

namespace hotpatch_rt {
// Around fork(): no other thread holds the lock while the child is made.
void events_fork_prepare() { pthread_mutex_lock(&g_event_mutex); }
void events_fork_done() { pthread_mutex_unlock(&g_event_mutex); }
} // namespace hotpatch_rt
