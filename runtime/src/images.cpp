// images.cpp - the images of the process (the executable and its shared
// libraries): where each is loaded, its build-id, its TLS module.
#include "internal.h"

#include <elf.h>
#include <link.h>

#include <algorithm>
#include <cstring>

namespace hotpatch_rt {
namespace {

Image describe(const struct dl_phdr_info *info, bool is_main) {
  Image m;
  m.is_main = is_main;
  m.load = info->dlpi_addr;
  m.tls_modid = info->dlpi_tls_modid;
  m.name = info->dlpi_name ? info->dlpi_name : "";
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &p = info->dlpi_phdr[i];
    if (p.p_type == PT_LOAD) {
      lo = std::min<uintptr_t>(lo, p.p_vaddr);
      hi = std::max<uintptr_t>(hi, p.p_vaddr + p.p_memsz);
    }
    if (p.p_type == PT_GNU_RELRO) {
      m.relro_begin = info->dlpi_addr + p.p_vaddr;
      m.relro_end = m.relro_begin + p.p_memsz;
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
        m.build_id.assign(desc, h->n_descsz);
      n = desc + ((h->n_descsz + 3) & ~3u);
    }
  }
  if (hi > lo) {
    m.begin = info->dlpi_addr + lo;
    m.end = info->dlpi_addr + hi;
  }
  return m;
}

struct Walk {
  std::vector<Image> *all;
  bool first = true;
};

int collect(struct dl_phdr_info *info, size_t, void *data) {
  auto *w = static_cast<Walk *>(data);
  w->all->push_back(describe(info, w->first)); // the first object is the executable
  w->first = false;
  return 0;
}

} // namespace

std::vector<Image> loaded_images() {
  std::vector<Image> all;
  Walk w{&all};
  dl_iterate_phdr(collect, &w);
  return all;
}

Image main_image() {
  Image m;
  dl_iterate_phdr(
      [](struct dl_phdr_info *info, size_t, void *data) {
        *static_cast<Image *>(data) = describe(info, true);
        return 1;
      },
      &m);
  return m;
}

bool image_with_build_id(const std::string &id, Image &out) {
  if (id.empty())
    return false;
  for (Image &i : loaded_images())
    if (!i.build_id.empty() && i.build_id.substr(0, 20) == id) {
      out = i;
      return true;
    }
  return false;
}

std::string hex(const std::string &bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

bool image_containing(uintptr_t addr, Image &out) {
  for (Image &i : loaded_images())
    if (addr >= i.begin && addr < i.end) {
      out = i;
      return true;
    }
  return false;
}

} // namespace hotpatch_rt

// The executable's build-id in hex ("" if it has none), for the control
// socket's "hello".
std::string hotpatch_rt_build_id_hex() {
  return hotpatch_rt::hex(hotpatch_rt::main_image().build_id);
}
