// main_image.cpp - the executable's place in memory and its build-id.
#include "internal.h"

#include <elf.h>
#include <link.h>

#include <algorithm>
#include <cstring>

namespace hotpatch_rt {
namespace {

int find_main(struct dl_phdr_info *info, size_t, void *data) {
  auto *m = static_cast<MainImage *>(data);
  m->load = info->dlpi_addr;
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &p = info->dlpi_phdr[i];
    if (p.p_type == PT_LOAD) {
      lo = std::min<uintptr_t>(lo, p.p_vaddr);
      hi = std::max<uintptr_t>(hi, p.p_vaddr + p.p_memsz);
    }
    if (p.p_type != PT_NOTE)
      continue;
    auto *n = reinterpret_cast<const char *>(info->dlpi_addr + p.p_vaddr);
    const char *end = n + p.p_memsz;
    while (n + sizeof(ElfW(Nhdr)) <= end) {
      auto *h = reinterpret_cast<const ElfW(Nhdr) *>(n);
      const char *name = n + sizeof(*h);
      const char *desc = name + ((h->n_namesz + 3) & ~3u);
      if (h->n_type == NT_GNU_BUILD_ID && h->n_namesz == 4 && !memcmp(name, "GNU", 4))
        m->build_id.assign(desc, h->n_descsz);
      n = desc + ((h->n_descsz + 3) & ~3u);
    }
  }
  m->begin = info->dlpi_addr + lo;
  m->end = info->dlpi_addr + hi;
  return 1; // the first object is the executable
}

} // namespace

MainImage main_image() {
  MainImage m;
  dl_iterate_phdr(find_main, &m);
  return m;
}

} // namespace hotpatch_rt
