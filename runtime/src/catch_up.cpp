// A process that starts after patches of its build were made applies them
// (hotpatch/journal_format.h), so that it runs the code last saved.
#include "hotpatch/hotpatch.h"
#include "hotpatch/journal_format.h"

#include <link.h>
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

struct Main {
  uintptr_t begin = 0, end = 0;
  std::string build_id_hex;
};

int find_main(struct dl_phdr_info *info, size_t, void *data) {
  auto *m = static_cast<Main *>(data);
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &p = info->dlpi_phdr[i];
    if (p.p_type == PT_LOAD) {
      lo = p.p_vaddr < lo ? p.p_vaddr : lo;
      hi = p.p_vaddr + p.p_memsz > hi ? p.p_vaddr + p.p_memsz : hi;
    }
    if (p.p_type != PT_NOTE)
      continue;
    auto *n = reinterpret_cast<const char *>(info->dlpi_addr + p.p_vaddr);
    const char *end = n + p.p_memsz;
    while (n + sizeof(ElfW(Nhdr)) <= end) {
      auto *h = reinterpret_cast<const ElfW(Nhdr) *>(n);
      const char *name = n + sizeof(*h);
      const char *desc = name + ((h->n_namesz + 3) & ~3u);
      if (h->n_type == NT_GNU_BUILD_ID && h->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
        m->build_id_hex.clear();
        for (unsigned k = 0; k < h->n_descsz && desc + k < end; ++k) {
          auto b = static_cast<unsigned char>(desc[k]);
          m->build_id_hex += digits[b >> 4];
          m->build_id_hex += digits[b & 15];
        }
      }
      n = desc + ((h->n_descsz + 3) & ~3u);
    }
  }
  m->begin = info->dlpi_addr + lo;
  m->end = info->dlpi_addr + hi;
  return 1; // the first object is the executable
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
  Main m;
  dl_iterate_phdr(find_main, &m);
  char magic[32] = "", id[129] = "";
  int version = 0;
  if (fscanf(f, "%31s %d %128s", magic, &version, id) != 3 ||
      strcmp(magic, HOTPATCH_JOURNAL_MAGIC) != 0 || version != HOTPATCH_JOURNAL_VERSION ||
      m.build_id_hex.empty() || m.build_id_hex != id) {
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
            "was not applied: %s; it runs the code of patch %u (the next save patches it "
            "as usual after a rebuild, or delete %s to start unpatched)\n",
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
  Main m;
  dl_iterate_phdr(find_main, &m);
  auto t = reinterpret_cast<uintptr_t>(table);
  if (t < m.begin || t >= m.end)
    return; // a shared library's table: wait for the executable's
  if (!caught_up.exchange(true))
    catch_up();
}
