// A process that starts after patches of its build were made applies them
// (hotpatch/journal_format.h), so that it runs the code last saved: the
// executable's patches, and each library's when it is loaded (at start or
// by dlopen), from the journal beside that library.
#include "hotpatch/hotpatch.h"
#include "hotpatch/journal_format.h"
#include "internal.h"

#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <vector>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

bool env_on(const char *name) {
  const char *v = getenv(name);
  return v && *v && strcmp(v, "0") != 0;
}

// Images whose journals were read (by build-id), and whether the
// executable's was: libraries wait for it, because a library's patch may
// write a slot the executable defines.
std::mutex g_mu;
std::set<std::string> *g_done = nullptr;
bool g_main_done = false;

std::string journal_of(const hotpatch_rt::Image &image, std::string &who) {
  char path[4096];
  if (image.is_main) {
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0)
      return "";
    path[n] = '\0';
  } else if (!realpath(image.name.c_str(), path)) {
    return "";
  }
  who = path;
  return who + HOTPATCH_JOURNAL_SUFFIX;
}

void catch_up(const hotpatch_rt::Image &image) {
  std::string who;
  std::string journal = journal_of(image, who);
  if (journal.empty())
    return;
  FILE *f = fopen(journal.c_str(), "re");
  if (!f)
    return; // no patch made for this image: the usual case
  std::string build_id = hotpatch_rt::hex(image.build_id);
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
            who.c_str(), applied, applied + 1, failure, applied, journal.c_str());
  else if (applied)
    fprintf(stderr, "hotpatch: %s started with the code last saved (%u patches applied)\n",
            who.c_str(), applied);
}

// The images to catch up now, each once.
std::vector<hotpatch_rt::Image> due(const hotpatch_rt::Image &registered) {
  std::vector<hotpatch_rt::Image> out;
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_done)
    g_done = new std::set<std::string>();
  if (registered.is_main)
    g_main_done = true;
  if (!g_main_done)
    return out;
  // Once the executable's table is in: it, and every library registered
  // before it (libraries loaded at start initialise first).
  std::vector<hotpatch_rt::Image> all;
  if (registered.is_main)
    all = hotpatch_rt::loaded_images();
  else
    all.push_back(registered);
  std::sort(all.begin(), all.end(), [](const hotpatch_rt::Image &a, const hotpatch_rt::Image &b) {
    return a.is_main > b.is_main; // the executable's own patches first
  });
  for (const hotpatch_rt::Image &i : all)
    if (!i.build_id.empty() && g_done->insert(i.build_id).second)
      out.push_back(i);
  return out;
}

} // namespace

/* Called by the registry after an image registered its slot table. */
void hotpatch_rt_after_register(const void *table) {
  if (env_on("HOTPATCH_DISABLE") || env_on("HOTPATCH_NO_CATCH_UP"))
    return;
  hotpatch_rt::Image image;
  if (!hotpatch_rt::image_containing(reinterpret_cast<uintptr_t>(table), image))
    return;
  for (const hotpatch_rt::Image &i : due(image))
    catch_up(i);
}
