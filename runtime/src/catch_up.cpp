// A process that starts after patches of its build were made applies them
// (hotpatch/journal_format.h), so that it runs the code last saved.
#include "hotpatch/hotpatch.h"
#include "hotpatch/journal_format.h"
#include "internal.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

bool env_on(const char *name) {
  const char *v = getenv(name);
  return v && *v && strcmp(v, "0") != 0;
}

std::atomic<bool> caught_up{false};

void catch_up() {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return;
  exe[n] = '\0';
  std::string journal = std::string(exe) + HOTPATCH_JOURNAL_SUFFIX;
  FILE *f = fopen(journal.c_str(), "re");
  if (!f)
    return; // no patch made for this program: the usual case
  std::string build_id = hotpatch_rt_build_id_hex();
  char magic[32] = "", id[129] = "";
  int version = 0;
  if (fscanf(f, "%31s %d %128s", magic, &version, id) != 3 ||
      strcmp(magic, HOTPATCH_JOURNAL_MAGIC) != 0 || version != HOTPATCH_JOURNAL_VERSION ||
      build_id.empty() || build_id != id) {
    fclose(f); // another build's patches, or another release's journal
    return;
  }
  unsigned applied = 0, index = 0;
  char path[4096];
  const char *failure = nullptr;
  std::string reason;
  while (fscanf(f, "%u %4095[^\n]", &index, path) == 2) {
    if (index != applied + 1) {
      failure = "the journal skips a patch";
      break;
    }
    hotpatch_apply_result r;
    if (hotpatch_apply_file(path, &r) != HOTPATCH_OK) {
      reason = hotpatch_last_error();
      failure = reason.c_str();
      break;
    }
    ++applied;
  }
  fclose(f);
  if (failure)
    fprintf(stderr,
            "hotpatch: warning: %s started with %u of the patches saved for it; patch %u "
            "was not applied: %s; it runs the code of patch %u, and later patches of "
            "this chain will be refused: rebuild and restart it (hotpatch dev does), or "
            "delete %s to start unpatched\n",
            exe, applied, applied + 1, failure, applied, journal.c_str());
  else if (applied)
    fprintf(stderr, "hotpatch: %s started with the code last saved (%u patches applied)\n",
            exe, applied);
}

} // namespace

/* Called by the registry after an image registered its slot table: once the
 * executable's is in, its patches can be applied. */
void hotpatch_rt_after_register(const void *table) {
  if (caught_up.load() || env_on("HOTPATCH_DISABLE") || env_on("HOTPATCH_NO_CATCH_UP"))
    return;
  hotpatch_rt::Image m = hotpatch_rt::main_image();
  auto t = reinterpret_cast<uintptr_t>(table);
  if (t < m.begin || t >= m.end)
    return; // a shared library's table: wait for the executable's
  if (!caught_up.exchange(true))
    catch_up();
}
