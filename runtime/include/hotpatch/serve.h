// hotpatch/serve.h - run a server on the newest code, keeping what it set up.
//
//   struct App { int listen_fd; Cache cache; };
//   App setup();                                   // runs once
//   int server(App &app, const hotpatch::StopToken &stop);
//
//   int main() { return hotpatch::serve(setup, server); }
//
// serve() calls setup() once and keeps what it returns. It then runs
// server(state, stop) through the function's symbol, so the call reaches the
// newest version of server. When a patch is applied, stop.requested()
// becomes true: the server finishes what it is doing and returns, and
// serve() starts it again, on the new code, with the same state. Resources
// created by setup() (a listening socket, a window, a cache) survive: a
// connection that arrives while the server restarts waits in the socket's
// backlog instead of being refused.
//
// serve() returns the server's result when the server returns without a stop
// having been requested. Without the runtime (release builds, where
// hotpatch_enable() links nothing of Hotpatch) the runtime's functions are
// weak references that stay null: server simply runs once.
#ifndef HOTPATCH_SERVE_H
#define HOTPATCH_SERVE_H

#include "hotpatch/hotpatch.h"

#include <atomic>
#include <utility>

// Weak: a release build links without the runtime, and serve() must still
// link and run.
extern "C" hotpatch_status hotpatch_add_event_hook(hotpatch_event_hook, void *)
    __attribute__((weak));

namespace hotpatch {

class StopToken {
public:
  explicit StopToken(const std::atomic<bool> &flag) : flag_(flag) {}
  /// True once a patch arrived: return from the server soon.
  bool requested() const { return flag_.load(std::memory_order_acquire); }

private:
  const std::atomic<bool> &flag_;
};

namespace detail {
inline std::atomic<bool> &serve_stop_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}
inline std::atomic<unsigned> &serve_generation() {
  static std::atomic<unsigned> generation{0};
  return generation;
}
inline void serve_on_event(hotpatch_event event, const char *, void *) {
  if (event == HOTPATCH_EVENT_PATCH_APPLIED) {
    serve_generation().fetch_add(1, std::memory_order_acq_rel);
    serve_stop_flag().store(true, std::memory_order_release);
  }
}
// One hook per process, however many serve() instantiations there are.
inline void serve_hook_once() {
  static bool hooked = &hotpatch_add_event_hook != nullptr &&
                       hotpatch_add_event_hook(serve_on_event, nullptr) == HOTPATCH_OK;
  (void)hooked;
}
} // namespace detail

/// How many times serve() has (re)started the server, counting the first.
inline unsigned serve_restarts() { return detail::serve_generation().load() + 1; }

template <class State, class Setup>
int serve(Setup setup, int (*server)(State &, const StopToken &)) {
  detail::serve_hook_once();
  State state = setup();
  std::atomic<bool> &stop = detail::serve_stop_flag();
  for (;;) {
    stop.store(false, std::memory_order_release);
    // `server` is the function's address: with the plugin that is its thunk,
    // which jumps to the newest body.
    int result = server(state, StopToken(stop));
    if (!stop.load(std::memory_order_acquire))
      return result;
  }
}

} // namespace hotpatch

#endif // HOTPATCH_SERVE_H
