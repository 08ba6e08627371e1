// http-server: an HTTP server on cpp-httplib, made to be edited while it runs
// under `hotpatch dev`.
//
// hotpatch_enable() makes every function of this file hot, the handler
// lambdas included: httplib calls a handler through the std::function it was
// given, which calls the lambda's body through its slot, so a saved edit of a
// handler answers the very next request, on the connections already open.
// The server is never stopped nor restarted for a patch.
//
// The page at / subscribes to /events (server-sent events) and reloads
// itself after each patch.
//
//   http-server [--port N] [--port-file FILE]
//
// The port is --port, else $PORT, else 8080; 0 picks a free one. The server
// listens on 127.0.0.1 only. --port-file writes the port it listens on (for
// scripts and tests).
#include <hotpatch/hotpatch.h>
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>

// How many patches were applied: /events streams wait for it to change.
static std::mutex patch_mutex;
static std::condition_variable patch_applied;
static unsigned patches = 0;

// A hotpatch hook: runs after each patch, on the runtime's thread.
void on_patch(unsigned, void *) {
  {
    std::lock_guard<std::mutex> lock(patch_mutex);
    ++patches;
  }
  patch_applied.notify_all();
}

// GET /: a page that reloads itself after each patch.
void home(const httplib::Request &, httplib::Response &res) {
  res.set_content(R"html(<!doctype html>
<meta charset="utf-8">
<title>http-server</title>
<h1>Hello from a running server</h1>
<p>Edit a handler in server.cpp and save: this page reloads itself.
<p><a href="/hello">/hello</a>
<script>
  const events = new EventSource('/events');
  events.addEventListener('reload', () => location.reload());
  // After a restart (a change that could not be patched) the stream
  // reconnects: reload then too.
  let lost = false;
  events.onerror = () => { lost = true; };
  events.onopen = () => { if (lost) location.reload(); };
</script>
)html",
                  "text/html");
}

// GET /events: a server-sent event stream, "event: reload" after each patch.
// Each stream holds one of httplib's worker threads: a comment every 2 s
// notices a client that went away (a page that reloaded) within two of them,
// when the write fails, and gives the thread back.
void events(const httplib::Request &, httplib::Response &res) {
  unsigned seen;
  {
    std::lock_guard<std::mutex> lock(patch_mutex);
    seen = patches;
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream", [seen](size_t, httplib::DataSink &sink) mutable {
        std::unique_lock<std::mutex> lock(patch_mutex);
        if (!patch_applied.wait_for(lock, std::chrono::seconds(2),
                                    [&] { return patches != seen; })) {
          lock.unlock();
          return sink.write(": keep-alive\n\n", 14);
        }
        seen = patches;
        lock.unlock();
        std::string event = "event: reload\ndata: " + std::to_string(seen) + "\n\n";
        return sink.write(event.data(), event.size());
      });
}

void routes(httplib::Server &server) {
  server.Get("/", home);
  server.Get("/events", events);
  server.Get("/hello", [](const httplib::Request &req, httplib::Response &res) {
    std::string name = req.has_param("name") ? req.get_param_value("name") : "world";
    res.set_content("hello, " + name + "\n", "text/plain");
  });
  server.set_logger([](const httplib::Request &req, const httplib::Response &res) {
    std::printf("%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
    std::fflush(stdout);
  });
}

int main(int argc, char **argv) {
  int port = std::getenv("PORT") ? std::atoi(std::getenv("PORT")) : 8080;
  const char *port_file = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc)
      port = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--port-file") && i + 1 < argc)
      port_file = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--port N] [--port-file FILE]\n", argv[0]);
      return 2;
    }
  }
#ifdef WITH_HOTPATCH_RUNTIME
  hotpatch_add_hook(on_patch, nullptr);
#endif

  httplib::Server server;
  // An idle keep-alive connection stays open for a minute (httplib's default
  // is 5 s): long enough to edit, save and send the next request on it.
  server.set_keep_alive_timeout(60);
  routes(server);
  if (port == 0)
    port = server.bind_to_any_port("127.0.0.1");
  else if (!server.bind_to_port("127.0.0.1", port))
    port = -1;
  if (port < 0) {
    std::fprintf(stderr, "http-server: cannot listen on 127.0.0.1\n");
    return 1;
  }
  if (port_file) { // written whole, then renamed: readers never see half of it
    std::string tmp = std::string(port_file) + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::rename(tmp.c_str(), port_file);
  }
  std::printf("listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  return server.listen_after_bind() ? 0 : 1;
}
