// control_protocol.cpp - the control socket's requests and their replies,
// as hotpatch/control_protocol.h defines them (one request per connection,
// one line each way). The request is untrusted text from a peer of the
// program's own user: anything but the requests below is answered with an
// error naming them.
#include "hotpatch/control_protocol.h"
#include "hotpatch/hotpatch.h"
#include "internal.h"

#include <cstdio>
#include <string>
#include <unistd.h>


namespace hotpatch_rt {

std::string handle_request(const std::string &request) {
  if (request == "hello") {
    std::string id = hotpatch_rt_build_id_hex();
    return "hotpatch " + std::to_string(HOTPATCH_CONTROL_VERSION) + " " + std::to_string(getpid()) + " " + (id.empty() ? "-" : id) + " " +
           std::to_string(hotpatch_patch_count());
  }
  if (request.compare(0, 6, "apply ") == 0) {
    hotpatch_apply_result r{};
    hotpatch_status st = hotpatch_apply_file(request.c_str() + 6, &r);
    if (st != HOTPATCH_OK)
      return std::string("error ") + hotpatch_status_string(st) + ": " + hotpatch_last_error();
    char buf[160];
    snprintf(buf, sizeof buf, "ok %u %u %.3f %.3f %.3f", r.chain_index, r.functions, r.check_ms,
             r.map_ms, r.total_ms);
    return buf;
  }
  if (request.compare(0, 6, "event ") == 0) {
    static const struct { const char *name; hotpatch_event event; } names[] = {
        {"patch-starting", HOTPATCH_EVENT_PATCH_STARTING},
        {"patch-applied", HOTPATCH_EVENT_PATCH_APPLIED},
        {"rebuild-starting", HOTPATCH_EVENT_REBUILD_STARTING},
        {"rebuild-failed", HOTPATCH_EVENT_REBUILD_FAILED},
        {"restart-needed", HOTPATCH_EVENT_RESTART_NEEDED},
        {"shutdown", HOTPATCH_EVENT_SHUTDOWN}};
    std::string rest = request.substr(6);
    std::string name = rest.substr(0, rest.find(' '));
    std::string message = rest.size() > name.size() ? rest.substr(name.size() + 1) : "";
    for (const auto &n : names)
      if (name == n.name) {
        hotpatch_post_event(n.event, message.c_str());
        return "ok";
      }
    return "error unknown event '" + name + "'";
  }
  return "error unknown request: expected 'hello', 'apply <path>' or 'event <name>'";
}

} // namespace hotpatch_rt
