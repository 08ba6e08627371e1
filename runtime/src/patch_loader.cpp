// patch_loader.cpp - hotpatch_apply_file: check, map, relocate, publish.
//
// The protocol, step by step (each step may refuse; nothing is published
// before step 8, so a refused patch leaves the program as it was):
//
//   1. Read the file; check magic, version, sizes and the FNV-1a checksum.
//   2. Find the image the patch was made for by its build-id: the
//      executable or a shared library the process loaded; check the chain
//      index against the number of patches applied to that image.
//   3. Check the ELF image: x86-64 ET_DYN, no interpreter, every PT_LOAD in
//      the patch window, none writable and executable, none
//      overlapping or sharing a page with another of other permissions;
//      every allocated section in a segment whose permissions match it
//      (patch_checks.cpp). Then every slot update against what the runtime
//      knows: the slot is a slot the program registered, or one an earlier
//      patch defined, and belongs to the function the update names; the new
//      body is the start of a function of that name in this patch's code;
//      no flag bit or reserved field is unknown. Initialisers are functions
//      of the patch. No bound is checked with a sum that could wrap: the
//      file is untrusted until here.
//   4. Map the segments' pages at the fixed distance below the image with
//      MAP_FIXED_NOREPLACE (never over anything) and copy the segments in.
//   5. Apply the dynamic relocations, each of which must write inside the
//      patch's own segments; every relocation section the image carries must
//      be one the dynamic section names. Symbols the patch does not define
//      come from the process (dlsym), as in a shared library. In a library's
//      patch, the library's exported symbols are bound as the dynamic linker
//      bound the library's own references (the global scope first, then the
//      library), and thread-locals are the library's (its TLS module).
//   6. Check the unwind tables record by record where they are mapped
//      (patch_unwind.cpp), give each segment its final protection, and
//      register the tables so that exceptions unwind through patched frames.
//      A patch refused after this deregisters them before it is unmapped.
//   7. Run the initialisers of the globals the patch adds (they register
//      their destructors with __cxa_atexit themselves). Only g_patch_mutex is
//      held: they may call the rest of the API.
//   8. Record the patch (everything that allocates), then publish: one
//      release store per slot, which cannot fail.
//   9. Run the hooks, outside every lock.
//
// On failure after step 4 the mapping is removed again: no slot points into
// it yet. Once published a patch is never unmapped, because threads may be
// executing it. What stays of an applied patch, and the locks, are
// applied_patches.cpp's.
#include "hotpatch/hotpatch.h"
#include "hotpatch/patch_format.h"
#include "hotpatch/slot_table.h"
#include "applied_patches.h"
#include "debug_registration.h"
#include "internal.h"
#include "patch_checks.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#define HOTPATCH_API extern "C" __attribute__((visibility("default")))

// libgcc's lookup of the FDE that covers `pc` (bases: three pointers out).
extern "C" const void *_Unwind_Find_FDE(void *pc, void *bases);

namespace {

using hotpatch_rt::set_error_message;

std::string hex_number(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

using hotpatch_rt::hex;

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t)
      .count();
}

/// An applied-but-unpublished mapping that undoes itself unless kept.
struct Mapping {
  void *addr = nullptr;
  size_t size = 0;
  bool keep = false;
  bool in_arena = false; // a library's patch area: give the pages back to it
  ~Mapping() {
    if (!addr || keep)
      return;
    if (in_arena)
      mmap(addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    else
      munmap(addr, size);
  }
};

// The patch area of a shared library (hotpatch/patch_format.h), as runtime
// addresses; false if it has none.
bool arena_of(const hotpatch_rt::Image &image, uintptr_t &begin, uintptr_t &end) {
  void *h = dlopen(image.name.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!h)
    return false;
  // A handle's lookup starts with the library itself.
  auto *b = static_cast<char *>(dlsym(h, HOTPATCH_ARENA_BEGIN));
  auto *e = static_cast<char *>(dlsym(h, HOTPATCH_ARENA_END));
  dlclose(h);
  begin = reinterpret_cast<uintptr_t>(b);
  end = reinterpret_cast<uintptr_t>(e);
  return b && e && begin < end && begin >= image.begin && end <= image.end &&
         begin % 4096 == 0;
}

class Loader {
public:
  Loader(const char *path, hotpatch_apply_result *result) : path_(path), result_(result) {}

  hotpatch_status run() {
    auto t0 = std::chrono::steady_clock::now();
    hotpatch_status st = check();
    if (st != HOTPATCH_OK)
      return st;
    // Slot updates and initialisers need only the header and the segment
    // table: check them before anything is mapped.
    if ((st = check_updates()) != HOTPATCH_OK)
      return st;
    double check_ms = ms_since(t0);
    auto t1 = std::chrono::steady_clock::now();
    if ((st = map()) != HOTPATCH_OK || (st = relocate()) != HOTPATCH_OK ||
        (st = check_unwind()) != HOTPATCH_OK || (st = protect()) != HOTPATCH_OK)
      return st;
    double map_ms = ms_since(t1);
    register_unwind();
#ifdef HOTPATCH_FUZZING
    // The loader's fuzzer (fuzz/) meets every input with the same program:
    // all is checked, nothing runs or is published, and all is undone.
    return refuse(HOTPATCH_BAD_PATCH, "fully checked; a fuzzing build applies nothing");
#endif
    if (!open_vtables())
      return HOTPATCH_MAP_FAILED;
    // New globals are constructed before any new code can reach them.
    for (uint32_t i = 0; i < header_.init_count; ++i)
      run_initialiser(runtime(inits_[i]));
    publish();
    close_vtables();
    describe_to_debuggers();
    if (result_) {
      result_->chain_index = header_.chain_index;
      result_->functions = published_;
      result_->check_ms = check_ms;
      result_->map_ms = map_ms;
      result_->total_ms = ms_since(t0);
    }
    return HOTPATCH_OK;
  }

private:
  // Patch code is not built with UBSan's function check, which reads the
  // 8 bytes before the callee: before a patch's first page there is none.
  __attribute__((no_sanitize("function"))) static void run_initialiser(uintptr_t fn) {
    reinterpret_cast<void (*)()>(fn)();
  }

  hotpatch_status refuse(hotpatch_status st, const std::string &why) {
    set_error_message(std::string("patch '") + path_ + "' refused: " + why +
                      "; the program keeps running its current code");
    return st;
  }

  uintptr_t runtime(uint64_t link_addr) const {
    return base_.load + link_addr - HOTPATCH_PATCH_BIAS;
  }

  hotpatch_status check() {
    std::string err;
    if (!hotpatch_rt::read_patch_file(path_, file_, err))
      return refuse(HOTPATCH_BAD_PATCH, err);
    if (file_.size() < sizeof header_ || memcmp(file_.data(), HOTPATCH_PATCH_MAGIC, 8))
      return refuse(HOTPATCH_BAD_PATCH, file_.size() < 8 || memcmp(file_.data(), HOTPATCH_PATCH_MAGIC, 8)
                                            ? "not a hotpatch patch file (bad magic)"
                                            : "truncated (shorter than its header)");
    memcpy(&header_, file_.data(), sizeof header_);
    if (header_.version == HOTPATCH_PATCH_VERSION && header_.reserved != 0)
      return refuse(HOTPATCH_BAD_PATCH, "its header's reserved field is " +
                                            std::to_string(header_.reserved) +
                                            ", not 0: rebuild the patch with the matching thinlink");
    if (header_.version != HOTPATCH_PATCH_VERSION)
      return refuse(HOTPATCH_BAD_PATCH, "patch format version " + std::to_string(header_.version) +
                                            ", this runtime reads version " +
                                            std::to_string(HOTPATCH_PATCH_VERSION) +
                                            ": rebuild the patch with the matching thinlink");
    // Each part is bounded by the file's size before it is added: no sum
    // of untrusted sizes can wrap.
    uint64_t size = file_.size();
    uint64_t parts[] = {uint64_t(header_.update_count) * sizeof(hotpatch_patch_update),
                        uint64_t(header_.init_count) * sizeof(uint64_t),
                        header_.strings_size, header_.image_size};
    uint64_t want = sizeof header_;
    for (uint64_t part : parts)
      want = part > size || want > size ? size + 1 : want + part;
    if (size != want)
      return refuse(HOTPATCH_BAD_PATCH, "truncated or padded (" + std::to_string(file_.size()) +
                                            " bytes, the header describes " +
                                            std::to_string(want) + "): rebuild the patch");
    if (hotpatch_patch_checksum(reinterpret_cast<const unsigned char *>(file_.data()) +
                                    sizeof header_,
                                file_.size() - sizeof header_) != header_.checksum)
      return refuse(HOTPATCH_BAD_PATCH, "corrupted (checksum mismatch): rebuild the patch");
    updates_ = reinterpret_cast<const hotpatch_patch_update *>(file_.data() + sizeof header_);
    inits_ = reinterpret_cast<const uint64_t *>(updates_ + header_.update_count);
    strings_ = reinterpret_cast<const char *>(inits_ + header_.init_count);
    image_ = strings_ + header_.strings_size;

    std::string want_id(reinterpret_cast<const char *>(header_.build_id),
                        std::min<uint32_t>(header_.build_id_size, 20));
    if (header_.build_id_size > sizeof header_.build_id)
      return refuse(HOTPATCH_BAD_PATCH, "its build-id size " + std::to_string(header_.build_id_size) +
                                            " exceeds the header's 20 bytes: rebuild the patch");
    if (!hotpatch_rt::image_with_build_id(want_id, base_)) {
      hotpatch_rt::Image exe = hotpatch_rt::main_image();
      if (exe.build_id.empty())
        return refuse(HOTPATCH_WRONG_BUILD, "this program has no build-id: link it with thinlink");
      return refuse(HOTPATCH_WRONG_BUILD,
                    "made for build " + hex(want_id) + ", which is neither this program (build " +
                        hex(exe.build_id) +
                        ") nor a library it has loaded: build the patch against this "
                        "program's build, or load the library first");
    }
    unsigned applied = hotpatch_rt::patches_applied_to(base_.build_id);
    if (header_.chain_index != applied + 1)
      return refuse(HOTPATCH_CHAIN_ORDER, "it is patch " + std::to_string(header_.chain_index) +
                                              " of its chain, and " + std::to_string(applied) +
                                              " patches are applied to " + image_name() +
                                              ": apply patches in the order they were made");
    return check_elf();
  }

  std::string image_name() const {
    return base_.is_main ? std::string("the program") : "'" + base_.name + "'";
  }

  hotpatch_status check_elf() {
    if (header_.image_size < sizeof(ElfW(Ehdr)))
      return refuse(HOTPATCH_BAD_PATCH, "the ELF image is truncated");
    memcpy(&ehdr_, image_, sizeof ehdr_);
    if (memcmp(ehdr_.e_ident, ELFMAG, SELFMAG) || ehdr_.e_ident[EI_CLASS] != ELFCLASS64 ||
        ehdr_.e_machine != EM_X86_64 || ehdr_.e_type != ET_DYN)
      return refuse(HOTPATCH_BAD_PATCH, "the image is not an x86-64 ELF patch");
    if (ehdr_.e_phoff > header_.image_size ||
        uint64_t(ehdr_.e_phnum) * sizeof(ElfW(Phdr)) > header_.image_size - ehdr_.e_phoff)
      return refuse(HOTPATCH_BAD_PATCH, "program headers outside the image");
    // Every segment in the image's patch window (below the program, or a
    // library's patch area); the patch's own range is then that of its
    // segments (earlier patches lie below it).
    uint64_t window_lo = HOTPATCH_PATCH_BIAS - HOTPATCH_PATCH_GAP - HOTPATCH_PATCH_WINDOW;
    uint64_t window_hi = HOTPATCH_PATCH_BIAS - HOTPATCH_PATCH_GAP;
    if (!base_.is_main) {
      uintptr_t b, e;
      if (!arena_of(base_, b, e))
        return refuse(HOTPATCH_BAD_PATCH, image_name() + " has no patch area: link it with "
                                                         "thinlink and the hotpatch runtime "
                                                         "(hotpatch_enable() does)");
      window_lo = b - base_.load + HOTPATCH_PATCH_BIAS;
      window_hi = e - base_.load + HOTPATCH_PATCH_BIAS;
      arena_ = true;
    }
    band_lo_ = window_lo;
    band_hi_ = window_hi;
    range_lo_ = window_hi;
    range_hi_ = window_lo;
    for (int i = 0; i < ehdr_.e_phnum; ++i) {
      ElfW(Phdr) p;
      memcpy(&p, image_ + ehdr_.e_phoff + i * sizeof p, sizeof p);
      if (p.p_type == PT_INTERP)
        return refuse(HOTPATCH_BAD_PATCH, "the image asks for an interpreter");
      if (p.p_type == PT_DYNAMIC)
        dynamic_ = p;
      if (p.p_type != PT_LOAD)
        continue;
      if (p.p_vaddr < window_lo || p.p_vaddr > window_hi || p.p_memsz > window_hi - p.p_vaddr ||
          p.p_filesz > p.p_memsz || p.p_offset > header_.image_size ||
          p.p_filesz > header_.image_size - p.p_offset)
        return refuse(HOTPATCH_BAD_PATCH, "a segment lies outside the patches' window");
      range_lo_ = std::min<uint64_t>(range_lo_, p.p_vaddr);
      range_hi_ = std::max<uint64_t>(range_hi_, p.p_vaddr + p.p_memsz);
      if ((p.p_flags & PF_W) && (p.p_flags & PF_X))
        return refuse(HOTPATCH_BAD_PATCH, "a segment is writable and executable");
      loads_.push_back(p);
    }
    if (loads_.empty())
      return refuse(HOTPATCH_BAD_PATCH, "the image has nothing to load");
    std::string err = hotpatch_rt::read_patch_image(image_, header_.image_size, loads_, elf_);
    if (err.empty())
      err = hotpatch_rt::check_segments(elf_, loads_, range_lo_, range_hi_);
    if (err.empty())
      err = hotpatch_rt::read_line_table(image_, elf_, loads_, lines_);
    if (!err.empty())
      return refuse(HOTPATCH_BAD_PATCH, err + ": rebuild the patch");
    return HOTPATCH_OK;
  }

  // Written so that no sum can wrap: every address in a patch file is
  // untrusted until it is shown to lie inside one of its own segments.
  bool in_segment(uint64_t link_addr, uint64_t size, unsigned need_flags = 0) const {
    for (const ElfW(Phdr) &p : loads_)
      if (link_addr >= p.p_vaddr && link_addr - p.p_vaddr <= p.p_memsz &&
          size <= p.p_memsz - (link_addr - p.p_vaddr) &&
          (p.p_flags & need_flags) == need_flags)
        return true;
    return false;
  }

  hotpatch_status map() {
    earlier_ = hotpatch_rt::applied_pages();
    uint64_t lo = UINT64_MAX, hi = 0;
    for (const ElfW(Phdr) &p : loads_) {
      lo = std::min<uint64_t>(lo, p.p_vaddr & ~uint64_t(4095));
      hi = std::max<uint64_t>(hi, (p.p_vaddr + p.p_memsz + 4095) & ~uint64_t(4095));
    }
    void *want = reinterpret_cast<void *>(runtime(lo));
    int how = MAP_FIXED_NOREPLACE;
    if (arena_) {
      // The library's own reserved pages: replaced, but never those of a
      // patch already there.
      uintptr_t b = runtime(lo), e = runtime(hi);
      for (const hotpatch_rt::PatchPages &m : earlier_)
        if (b < m.end && m.begin < e)
          return refuse(HOTPATCH_MAP_FAILED, "it would be mapped over an earlier patch of " +
                                                 image_name() + ": rebuild the patch");
      how = MAP_FIXED;
      mapping_.in_arena = true;
    }
    void *got = mmap(want, hi - lo, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | how,
                     -1, 0);
    if (got == MAP_FAILED)
      return refuse(HOTPATCH_MAP_FAILED, std::string("cannot map the patch at ") +
                                             std::to_string(reinterpret_cast<uintptr_t>(want)) +
                                             ": " + strerror(errno));
    mapping_.addr = got;
    mapping_.size = hi - lo;
    if (got != want) // kernels before 4.17 ignore MAP_FIXED_NOREPLACE
      return refuse(HOTPATCH_MAP_FAILED, "the patch's address range is taken");
    for (const ElfW(Phdr) &p : loads_)
      memcpy(reinterpret_cast<void *>(runtime(p.p_vaddr)), image_ + p.p_offset, p.p_filesz);
    return HOTPATCH_OK;
  }

  // The patch's tables, read in place: inside a segment and aligned for
  // their type (the mapping and the bias are page-aligned, so a link
  // address's alignment is its runtime address's).
  template <class T> const T *at(uint64_t link_addr, size_t count = 1) const {
    if (link_addr % alignof(T) || !in_segment(link_addr, count * sizeof(T)))
      return nullptr;
    return reinterpret_cast<const T *>(runtime(link_addr));
  }

  hotpatch_status relocate() {
    if (!dynamic_.p_type) {
      std::string err = hotpatch_rt::check_relocations(elf_, {});
      return err.empty() ? HOTPATCH_OK : refuse(HOTPATCH_BAD_PATCH, err + ": rebuild the patch");
    }
    hotpatch_rt::DynamicRelocs d;
    uint64_t symtab = 0, strtab = 0, strsz = 0;
    size_t n = dynamic_.p_memsz / sizeof(ElfW(Dyn));
    const ElfW(Dyn) *dyn = at<ElfW(Dyn)>(dynamic_.p_vaddr, n);
    if (!dyn)
      return refuse(HOTPATCH_BAD_PATCH, "the dynamic section lies outside the patch");
    d.present = true;
    for (size_t i = 0; i < n && dyn[i].d_tag != DT_NULL; ++i) {
      switch (dyn[i].d_tag) {
      case DT_RELA: d.rela = dyn[i].d_un.d_ptr; break;
      case DT_RELASZ: d.relasz = dyn[i].d_un.d_val; break;
      case DT_RELAENT: d.relaent = dyn[i].d_un.d_val; break;
      case DT_JMPREL: d.jmprel = dyn[i].d_un.d_ptr; break;
      case DT_PLTRELSZ: d.pltrelsz = dyn[i].d_un.d_val; break;
      case DT_PLTREL: d.pltrel = dyn[i].d_un.d_val; break;
      case DT_SYMTAB: symtab = d.symtab = dyn[i].d_un.d_ptr; break;
      case DT_STRTAB: strtab = d.strtab = dyn[i].d_un.d_ptr; break;
      case DT_STRSZ: strsz = d.strsz = dyn[i].d_un.d_val; break;
      case DT_SYMENT: d.syment = dyn[i].d_un.d_val; break;
      case DT_REL: case DT_RELSZ: d.unsupported = "REL relocations"; break;
      case DT_RELR: case DT_RELRSZ: d.unsupported = "RELR relocations"; break;
      case DT_TEXTREL: d.unsupported = "relocations of its code"; break;
      }
    }
    std::string err = hotpatch_rt::check_relocations(elf_, d);
    if (!err.empty())
      return refuse(HOTPATCH_BAD_PATCH, err + ": rebuild the patch");
    uint64_t rela = d.rela, relasz = d.relasz, jmprel = d.jmprel, pltrelsz = d.pltrelsz;
    // The tables as a whole first, then each relocation: a place two
    // relocations write would otherwise be seen already relocated.
    std::vector<const ElfW(Rela) *> relocs;
    std::vector<uint64_t> targets, entries;
    for (auto [table, size] : {std::pair<uint64_t, uint64_t>{rela, relasz}, {jmprel, pltrelsz}}) {
      if (!size)
        continue;
      const ElfW(Rela) *r = at<ElfW(Rela)>(table, size / sizeof(ElfW(Rela)));
      if (!r)
        return refuse(HOTPATCH_BAD_PATCH, "relocations lie outside the patch");
      for (size_t i = 0; i < size / sizeof(ElfW(Rela)); ++i) {
        relocs.push_back(&r[i]);
        targets.push_back(r[i].r_offset);
        uint32_t type = ELF64_R_TYPE(r[i].r_info);
        if (type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT)
          entries.push_back(uint64_t(type) << 32 | ELF64_R_SYM(r[i].r_info));
      }
    }
    std::string got_err = hotpatch_rt::check_got(elf_, relocs);
    if (!got_err.empty())
      return refuse(HOTPATCH_BAD_PATCH, got_err + ": rebuild the patch");
    // A linker makes one GOT entry and one PLT entry per symbol: two bound
    // to one symbol mean one relocation's symbol was changed.
    std::sort(entries.begin(), entries.end());
    if (std::adjacent_find(entries.begin(), entries.end()) != entries.end())
      return refuse(HOTPATCH_BAD_PATCH, "two GOT or PLT entries are bound to the same symbol: "
                                        "rebuild the patch");
    // Each relocation writes a pointer of its own: two that overlap mean
    // one was moved onto another's.
    std::sort(targets.begin(), targets.end());
    for (size_t i = 1; i < targets.size(); ++i)
      if (targets[i] - targets[i - 1] < 8)
        return refuse(HOTPATCH_BAD_PATCH, "two relocations write the same place: rebuild the patch");
    for (const ElfW(Rela) *r : relocs) {
      hotpatch_status st = apply(*r, symtab, strtab, strsz);
      if (st != HOTPATCH_OK)
        return st;
    }
    return HOTPATCH_OK;
  }

  // A patch-link address a relocation may point at: this patch, the
  // program's own image, or an earlier patch (ends included: one past an
  // array is a valid pointer).
  bool known_target(uint64_t link) const {
    for (const ElfW(Phdr) &p : loads_)
      if (link >= p.p_vaddr && link - p.p_vaddr <= p.p_memsz)
        return true;
    if (in_base(link))
      return true;
    uintptr_t at = runtime(link);
    for (const hotpatch_rt::PatchPages &m : earlier_)
      if (at >= m.begin && at <= m.end)
        return true;
    return false;
  }

  bool in_base(uint64_t link) const {
    uint64_t lo = base_.begin - base_.load + HOTPATCH_PATCH_BIAS;
    uint64_t hi = base_.end - base_.load + HOTPATCH_PATCH_BIAS;
    return link >= lo && link <= hi;
  }

  // A library's own code and data (not its patch area, where patches
  // define symbols the dynamic linker has never seen).
  bool in_library_proper(uint64_t link) const {
    return !base_.is_main && in_base(link) && !(link >= band_lo_ && link < band_hi_);
  }

  // Where the dynamic linker bound a library's exported symbol `name` for
  // the library itself: the global scope first (the executable may define
  // it too), then the library. `own` is the library's own definition.
  uintptr_t bound(const char *name, uintptr_t own) const {
    if (base_.is_main)
      return own;
    void *p = dlsym(RTLD_DEFAULT, name);
    return p ? reinterpret_cast<uintptr_t>(p) : own;
  }

  hotpatch_status apply(const ElfW(Rela) &r, uint64_t symtab, uint64_t strtab, uint64_t strsz) {
    uint32_t type = ELF64_R_TYPE(r.r_info);
    if (type == R_X86_64_NONE) // never in a linked image: a relocation lost its type
      return refuse(HOTPATCH_BAD_PATCH, "a relocation has no type: rebuild the patch");
    if (!in_segment(r.r_offset, 8, PF_W))
      return refuse(HOTPATCH_BAD_PATCH, "a relocation writes outside the patch's writable data");
    if (r.r_offset % 8) // a linker places every pointer it relocates aligned
      return refuse(HOTPATCH_BAD_PATCH, "a relocation writes a misaligned pointer: rebuild the patch");
    auto *where = reinterpret_cast<uint64_t *>(runtime(r.r_offset));
    if (type == R_X86_64_RELATIVE) {
      if (ELF64_R_SYM(r.r_info) != 0) // the linker writes none: the info word was damaged
        return refuse(HOTPATCH_BAD_PATCH, "a RELATIVE relocation names a symbol: rebuild the patch");
      if (!known_target(r.r_addend))
        return refuse(HOTPATCH_BAD_PATCH, "a relocation points outside the patch, the program "
                                          "and the patches before it: rebuild the patch");
      // The link wrote the addend at the place as well (--apply-dynamic-
      // relocs): a place or an addend changed alone no longer agree.
      if (*where != uint64_t(r.r_addend))
        return refuse(HOTPATCH_BAD_PATCH, "a relocation's place does not hold its addend: "
                                          "rebuild the patch");
      *where = runtime(r.r_addend);
      return HOTPATCH_OK;
    }
    bool tls = type == R_X86_64_DTPMOD64 || type == R_X86_64_DTPOFF64;
    if (type == R_X86_64_TPOFF64)
      return refuse(HOTPATCH_BAD_PATCH, "it reaches a thread-local of a library with the "
                                        "initial-exec model, which a patch cannot; build "
                                        "the library without -ftls-model=initial-exec");
    if (tls && base_.is_main)
      return refuse(HOTPATCH_BAD_PATCH, "a patch of the program has a TLS module relocation: "
                                        "rebuild the patch");
    if (type != R_X86_64_64 && type != R_X86_64_GLOB_DAT && type != R_X86_64_JUMP_SLOT && !tls)
      return refuse(HOTPATCH_BAD_PATCH, "unsupported relocation type " + std::to_string(type));
    uint32_t index = ELF64_R_SYM(r.r_info);
    const ElfW(Sym) *sym = at<ElfW(Sym)>(symtab + index * sizeof(ElfW(Sym)));
    if (!sym || sym->st_name >= strsz)
      return refuse(HOTPATCH_BAD_PATCH, "a relocation names a symbol outside the patch");
    // A name starts a string of the table (a linker shares no tails there).
    const char *start = sym->st_name ? at<char>(strtab + sym->st_name - 1) : nullptr;
    if (sym->st_name && (!start || *start != 0))
      return refuse(HOTPATCH_BAD_PATCH, "a symbol's name starts inside another name: rebuild the "
                                        "patch");
    if (tls) {
      // The library's own thread-locals: its module, offsets in its block.
      if (index != 0 && (sym->st_shndx == SHN_UNDEF || ELF64_ST_TYPE(sym->st_info) != STT_TLS))
        return refuse(HOTPATCH_BAD_PATCH, "it reaches a thread-local that its library does not "
                                          "define, which a patch cannot");
      if (base_.tls_modid == 0)
        return refuse(HOTPATCH_BAD_PATCH, "it reaches thread-locals, but " + image_name() +
                                              " has none: rebuild the patch against it");
      *where = type == R_X86_64_DTPMOD64 ? base_.tls_modid
                                         : (index ? sym->st_value : 0) + r.r_addend;
      return HOTPATCH_OK;
    }
    // What the link wrote at the place (--apply-dynamic-relocs): the
    // symbol's link value plus the addend, or for a PLT entry's slot the
    // address of the PLT code that first jumps through it.
    uint64_t link_value = (sym->st_shndx != SHN_UNDEF ? sym->st_value : 0) +
                          (type == R_X86_64_64 ? uint64_t(r.r_addend) : 0);
    // In a library's patch (linked -shared) a library symbol the dynamic
    // linker binds is preemptible: the link wrote only the addend there.
    bool preemptible = sym->st_shndx != SHN_UNDEF && in_library_proper(sym->st_value);
    uint64_t preemptible_value = type == R_X86_64_64 ? uint64_t(r.r_addend) : 0;
    if (type == R_X86_64_JUMP_SLOT
            ? !in_segment(*where, 1, PF_X)
            : *where != link_value && !(preemptible && *where == preemptible_value))
      return refuse(HOTPATCH_BAD_PATCH, "a relocation's place does not hold what the link wrote "
                                        "there: rebuild the patch");
    uint64_t value;
    if (sym->st_shndx != SHN_UNDEF) {
      if (!known_target(sym->st_value))
        return refuse(HOTPATCH_BAD_PATCH, "a relocation's symbol lies outside the patch, the "
                                          "program and the patches before it: rebuild the patch");
      value = runtime(sym->st_value);
      if (in_library_proper(sym->st_value)) {
        const char *name = at<char>(strtab + sym->st_name);
        if (!name)
          return refuse(HOTPATCH_BAD_PATCH, "symbol names lie outside the patch");
        value = bound(name, value);
      }
    } else {
      const char *name = at<char>(strtab + sym->st_name);
      if (!name)
        return refuse(HOTPATCH_BAD_PATCH, "symbol names lie outside the patch");
      void *p = dlsym(RTLD_DEFAULT, name);
      if (!p && ELF64_ST_BIND(sym->st_info) != STB_WEAK)
        return refuse(HOTPATCH_UNRESOLVED,
                      std::string("it needs '") + name +
                          "', which no library loaded in the program defines: link "
                          "the library that provides it into the program and restart");
      value = reinterpret_cast<uint64_t>(p);
    }
    *where = value + (type == R_X86_64_64 ? r.r_addend : 0);
    return HOTPATCH_OK;
  }

  hotpatch_status protect() {
    for (const ElfW(Phdr) &p : loads_) {
      int prot = (p.p_flags & PF_R ? PROT_READ : 0) | (p.p_flags & PF_W ? PROT_WRITE : 0) |
                 (p.p_flags & PF_X ? PROT_EXEC : 0);
      uintptr_t b = runtime(p.p_vaddr) & ~uintptr_t(4095);
      uintptr_t e = (runtime(p.p_vaddr + p.p_memsz) + 4095) & ~uintptr_t(4095);
      if (mprotect(reinterpret_cast<void *>(b), e - b, prot) != 0)
        return refuse(HOTPATCH_MAP_FAILED, std::string("mprotect failed: ") + strerror(errno));
    }
    return HOTPATCH_OK;
  }

  // The function whose slot is at `slot` (a runtime address): a slot the
  // program's images registered, or one an earlier patch defined; nullptr
  // for any other address.
  const char *slot_owner(uintptr_t slot) const {
    auto it = std::lower_bound(slots_.begin(), slots_.end(), slot,
                               [](const hotpatch_rt::RegisteredSlot &s, uintptr_t a) {
                                 return s.slot < a;
                               });
    if (it != slots_.end() && it->slot == slot)
      return it->name;
    return hotpatch_rt::patch_slot_owner(slot);
  }

  // Is a function of this patch named `name` (or its body) at `link_addr`?
  bool function_start(uint64_t link_addr, const char *name) const {
    for (const hotpatch_rt::ImageSymbol *f : hotpatch_rt::functions_at(elf_, link_addr))
      if (!name || f->name == name || f->name == std::string(name) + ".hotpatch.body")
        return true;
    return false;
  }

  hotpatch_status check_updates() {
    for (uint32_t i = 0; i < header_.init_count; ++i)
      if (!in_segment(inits_[i], 1, PF_X) || !function_start(inits_[i], nullptr))
        return refuse(HOTPATCH_BAD_PATCH, "an initialiser is not the start of a function of the "
                                          "patch: rebuild the patch");
    slots_ = hotpatch_rt::registered_slots();
    const uint32_t known = HOTPATCH_UPDATE_NEW_FUNCTION | HOTPATCH_UPDATE_NOT_HOT |
                           HOTPATCH_UPDATE_INTERPOSABLE | HOTPATCH_UPDATE_VTABLE;
    slot_at_.assign(header_.update_count, 0);
    for (uint32_t i = 0; i < header_.update_count; ++i) {
      const hotpatch_patch_update &u = updates_[i];
      if (u.name >= header_.strings_size)
        return refuse(HOTPATCH_BAD_PATCH, "a slot update has no name");
      const char *name = strings_ + u.name;
      if (!memchr(name, 0, header_.strings_size - u.name))
        return refuse(HOTPATCH_BAD_PATCH, "a function name is not terminated");
      if (u.flags & ~known)
        return refuse(HOTPATCH_BAD_PATCH, std::string("the update of '") + name +
                                              "' has unknown flags " + hex_number(u.flags & ~known) +
                                              ": rebuild the patch with the matching thinlink");
      if (u.flags & HOTPATCH_UPDATE_VTABLE) {
        if (u.flags != HOTPATCH_UPDATE_VTABLE)
          return refuse(HOTPATCH_BAD_PATCH, std::string("the vtable update of '") + name +
                                                "' has other flags: rebuild the patch");
        hotpatch_status st = check_vtable(u, name);
        if (st != HOTPATCH_OK)
          return st;
        continue;
      }
      if (!in_segment(u.new_body, 1, PF_X) || !function_start(u.new_body, name))
        return refuse(HOTPATCH_BAD_PATCH, std::string("the new body of '") + name +
                                              "' is not the start of a function of that name in "
                                              "the patch's code: rebuild the patch");
      if (u.flags & HOTPATCH_UPDATE_NOT_HOT) {
        if (u.slot != 0)
          return refuse(HOTPATCH_BAD_PATCH, std::string("'") + name +
                                                "' is marked as having no slot but names one: "
                                                "rebuild the patch");
        continue;
      }
      uintptr_t slot = runtime(u.slot);
      if ((u.flags & HOTPATCH_UPDATE_INTERPOSABLE) && in_library_proper(u.slot))
        slot = bound((std::string(name) + HOTPATCH_SLOT_SUFFIX).c_str(), slot);
      slot_at_[i] = slot;
      const char *owner = slot_owner(slot);
      if (!owner || strcmp(owner, name) != 0)
        return refuse(HOTPATCH_BAD_PATCH,
                      std::string("the slot of '") + name + "' (at " + hex_number(slot) +
                          ") is not " + (owner ? "its slot but that of '" + std::string(owner) + "'"
                                               : std::string("a slot of this program or of an "
                                                             "earlier patch")) +
                          ": rebuild the patch against this program");
    }
    return HOTPATCH_OK;
  }

  // A vtable rewritten in place: the new contents are data of this patch,
  // and the running vtable lies in the image's relocated read-only data,
  // which is where vtables are and where no program state is.
  hotpatch_status check_vtable(const hotpatch_patch_update &u, const char *name) {
    uint64_t size = u.old_body;
    if (size == 0 || size % 8 || size > (1u << 20) || u.slot % 8 || u.new_body % 8)
      return refuse(HOTPATCH_BAD_PATCH, std::string("the vtable update of '") + name +
                                            "' has a bad size or alignment: rebuild the patch");
    if (!in_segment(u.new_body, size, PF_R) || in_segment(u.new_body, 1, PF_X))
      return refuse(HOTPATCH_BAD_PATCH, std::string("the new vtable of '") + name +
                                            "' is not data of the patch: rebuild the patch");
    if (!in_library_or_program(u.slot, size))
      return refuse(HOTPATCH_BAD_PATCH, std::string("the vtable '") + name + "' is not in " +
                                            image_name() + ": rebuild the patch");
    uintptr_t at = runtime(u.slot);
    if (base_.relro_begin == base_.relro_end || at < base_.relro_begin ||
        at - base_.relro_begin > base_.relro_end - base_.relro_begin ||
        size > base_.relro_end - at)
      return refuse(HOTPATCH_BAD_PATCH, std::string("the vtable '") + name + "' of " +
                                            image_name() +
                                            " is not in its relocated read-only data: "
                                            "rebuild the patch");
    return HOTPATCH_OK;
  }

  bool in_library_or_program(uint64_t link, uint64_t size) const {
    uint64_t lo = base_.begin - base_.load + HOTPATCH_PATCH_BIAS;
    uint64_t hi = base_.end - base_.load + HOTPATCH_PATCH_BIAS;
    return link >= lo && link <= hi && size <= hi - link &&
           !(arena_ && link < band_hi_ && link + size > band_lo_);
  }

  // Gives the pages of every vtable to rewrite `prot`: writable for the
  // copy (they are read-only after relocation), read-only again after.
  // False, with the error set and every page read-only, if one cannot be.
  bool protect_vtables(int prot) {
    for (uint32_t i = 0; i < header_.update_count; ++i) {
      const hotpatch_patch_update &u = updates_[i];
      if (!(u.flags & HOTPATCH_UPDATE_VTABLE))
        continue;
      uintptr_t b = runtime(u.slot) & ~uintptr_t(4095);
      uintptr_t e = (runtime(u.slot) + u.old_body + 4095) & ~uintptr_t(4095);
      if (mprotect(reinterpret_cast<void *>(b), e - b, prot) != 0 && prot != PROT_READ) {
        refuse(HOTPATCH_MAP_FAILED, std::string("cannot make the vtable '") +
                                        (strings_ + u.name) + "' writable: " + strerror(errno));
        protect_vtables(PROT_READ);
        return false;
      }
    }
    return true;
  }
  bool open_vtables() { return protect_vtables(PROT_READ | PROT_WRITE); }
  void close_vtables() { protect_vtables(PROT_READ); }

  // Debuggers, profilers and hotpatch_describe_address() learn the new
  // functions (debug_registration.cpp).
  void describe_to_debuggers() {
    std::vector<hotpatch_rt::DebugFunction> fns;
    // A hot function's new body is named after the function, as the
    // user knows it ("step(int)", not its ".hotpatch.body").
    const std::string body = ".hotpatch.body";
    for (const hotpatch_rt::ImageSymbol &f : elf_.functions) {
      std::string name = f.name;
      if (name.size() > body.size() && name.compare(name.size() - body.size(), body.size(), body) == 0)
        name.resize(name.size() - body.size());
      fns.push_back({runtime(f.addr), f.size, name});
    }
    uintptr_t code_begin = UINTPTR_MAX, code_end = 0;
    for (const ElfW(Phdr) &p : loads_)
      if (p.p_flags & PF_X) {
        code_begin = std::min<uintptr_t>(code_begin, runtime(p.p_vaddr));
        code_end = std::max<uintptr_t>(code_end, runtime(p.p_vaddr + p.p_memsz));
      }
    const char *eh = nullptr;
    uintptr_t eh_addr = 0;
    size_t eh_size = 0;
    for (const hotpatch_rt::ImageSection &s : elf_.sections)
      if (s.name == ".eh_frame" && (s.hdr.sh_flags & SHF_ALLOC) && s.hdr.sh_size &&
          in_segment(s.hdr.sh_addr, s.hdr.sh_size)) {
        eh_addr = runtime(s.hdr.sh_addr);
        eh = reinterpret_cast<const char *>(eh_addr);
        eh_size = s.hdr.sh_size;
      }
    std::string image = base_.name;
    if (base_.is_main) {
      char exe[4096];
      ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
      image = n > 0 ? std::string(exe, n) : "the program";
    }
    // Debug sections stay in the file (never mapped); checked to lie in it.
    std::vector<hotpatch_rt::DebugSection> dwarf;
    for (const hotpatch_rt::ImageSection &s : elf_.sections)
      if (!(s.hdr.sh_flags & SHF_ALLOC) && s.hdr.sh_type == SHT_PROGBITS &&
          s.name.compare(0, 7, ".debug_") == 0 && s.hdr.sh_size)
        dwarf.push_back({s.name, image_ + s.hdr.sh_offset, static_cast<size_t>(s.hdr.sh_size),
                         (s.hdr.sh_flags & SHF_COMPRESSED) != 0});
    if (code_begin < code_end)
      hotpatch_rt::register_patch_debug_info(header_.chain_index, image, std::move(fns),
                                             code_begin, code_end, eh, eh_addr, eh_size, dwarf,
                                             lines_, runtime(0));
  }

  // Unwind tables are checked in the mapped patch, where the unwinder will
  // read them, after relocation and before the patch becomes read-only.
  hotpatch_status check_unwind() {
    auto mapped = [](const void *ctx, uint64_t link, uint64_t size) -> const unsigned char * {
      auto *self = static_cast<const Loader *>(ctx);
      uintptr_t b = reinterpret_cast<uintptr_t>(self->mapping_.addr);
      uintptr_t at = self->runtime(link);
      if (at < b || at - b > self->mapping_.size || size > self->mapping_.size - (at - b))
        return nullptr;
      return reinterpret_cast<const unsigned char *>(at);
    };
    auto in_code = [](const void *ctx, uint64_t link, uint64_t size) {
      return static_cast<const Loader *>(ctx)->in_segment(link, size, PF_X);
    };
    // Exception tables that did not change stay in the program (or in the
    // patch that last changed them).
    auto known = [](const void *ctx, uint64_t link, uint64_t) {
      return static_cast<const Loader *>(ctx)->known_target(link);
    };
    std::vector<hotpatch_rt::CodeRange> covered;
    std::string err = hotpatch_rt::check_unwind(elf_, mapped, in_code, known, this,
                                                unwind_tables_, covered);
    if (!err.empty())
      return refuse(HOTPATCH_BAD_PATCH, err + ": rebuild the patch");
    // A function whose running version the unwinder knows must not lose
    // its unwind information: an exception through it would end the
    // program.
    for (uint32_t i = 0; i < header_.update_count; ++i) {
      const hotpatch_patch_update &u = updates_[i];
      if (u.flags & (HOTPATCH_UPDATE_NOT_HOT | HOTPATCH_UPDATE_VTABLE))
        continue;
      void *running = __atomic_load_n(reinterpret_cast<void **>(slot_at_[i]), __ATOMIC_ACQUIRE);
      void *bases[3];
      if (!running || !_Unwind_Find_FDE(running, bases))
        continue;
      uint64_t size = 0;
      for (const hotpatch_rt::ImageSymbol *f : hotpatch_rt::functions_at(elf_, u.new_body))
        size = std::max(size, f->size);
      bool whole = false;
      for (const hotpatch_rt::CodeRange &c : covered)
        whole |= u.new_body >= c.begin && u.new_body - c.begin < c.size &&
                 size <= c.size - (u.new_body - c.begin);
      if (!whole)
        return refuse(HOTPATCH_BAD_PATCH, std::string("its unwind table does not cover '") +
                                              (strings_ + u.name) +
                                              "', whose running version has one: rebuild the "
                                              "patch");
    }
    return HOTPATCH_OK;
  }

  void register_unwind() {
    for (const hotpatch_rt::UnwindTable &t : unwind_tables_)
      unwind_.add(reinterpret_cast<void *>(runtime(t.link_addr)));
  }

  void publish() {
    {
      // Everything that can fail (allocate) comes first; once the mapping
      // is kept, only stores that cannot fail follow.
      hotpatch_rt::RecordingPatches recording;
      hotpatch_rt::AppliedPatches &records = recording.records();
      ++records.chains[base_.build_id];
      for (const hotpatch_rt::ImageSymbol &slot : elf_.slots)
        records.slots[runtime(slot.addr)] = slot.name;
      for (uint32_t i = 0; i < header_.update_count; ++i)
        if (!(updates_[i].flags & HOTPATCH_UPDATE_VTABLE))
          records.newest[strings_ + updates_[i].name] =
              reinterpret_cast<void *>(runtime(updates_[i].new_body));
      records.pages.push_back({reinterpret_cast<uintptr_t>(mapping_.addr),
                               reinterpret_cast<uintptr_t>(mapping_.addr) + mapping_.size});
      mapping_.keep = true;
      unwind_.keep();
    }
    for (uint32_t i = 0; i < header_.update_count; ++i) {
      const hotpatch_patch_update &u = updates_[i];
      if (u.flags & HOTPATCH_UPDATE_VTABLE) {
        // Entry by entry: a virtual call made meanwhile finds the old
        // function or the new one, never a torn pointer.
        auto *to = reinterpret_cast<uint64_t *>(runtime(u.slot));
        auto *from = reinterpret_cast<const uint64_t *>(runtime(u.new_body));
        for (uint64_t w = 0; w < u.old_body / 8; ++w)
          __atomic_store_n(&to[w], from[w], __ATOMIC_RELEASE);
        continue;
      }
      if (u.flags & HOTPATCH_UPDATE_NOT_HOT)
        continue;
      __atomic_store_n(reinterpret_cast<void **>(slot_at_[i]),
                       reinterpret_cast<void *>(runtime(u.new_body)), __ATOMIC_RELEASE);
      ++published_;
    }
    hotpatch_rt::count_published();
  }

  const char *path_;
  hotpatch_apply_result *result_;
  unsigned published_ = 0;
  std::string file_;
  hotpatch_patch_header header_;
  const hotpatch_patch_update *updates_ = nullptr;
  const uint64_t *inits_ = nullptr;
  const char *strings_ = nullptr;
  const char *image_ = nullptr;
  ElfW(Ehdr) ehdr_;
  ElfW(Phdr) dynamic_ = {};
  std::vector<ElfW(Phdr)> loads_;
  uint64_t band_lo_ = 0, band_hi_ = 0;
  bool arena_ = false; // the patch goes in its library's patch area
  hotpatch_rt::Image base_; // the image the patch was made for
  std::vector<uintptr_t> slot_at_; // each update's slot, as the process binds it
  uint64_t range_lo_ = 0, range_hi_ = 0;
  hotpatch_rt::PatchImage elf_;
  hotpatch_rt::LineTable lines_;
  std::vector<hotpatch_rt::RegisteredSlot> slots_;
  std::vector<hotpatch_rt::PatchPages> earlier_; // the pages of the patches applied before
  std::vector<hotpatch_rt::UnwindTable> unwind_tables_;
  Mapping mapping_;
  // Destroyed before the mapping: a refused patch's tables leave the
  // unwinder before its pages go.
  hotpatch_rt::UnwindRegistration unwind_;
};

} // namespace

HOTPATCH_API hotpatch_status hotpatch_apply_file(const char *path, hotpatch_apply_result *result) {
  if (!path) {
    set_error_message("hotpatch_apply_file: path is NULL: pass the patch file written by "
                      "thinlink --patch");
    return HOTPATCH_INVALID_ARGUMENT;
  }
  try {
    hotpatch_rt::ApplyLock lock;
    hotpatch_status st = Loader(path, result).run();
    if (st != HOTPATCH_OK)
      return st;
  } catch (const std::exception &e) {
    set_error_message(std::string("hotpatch_apply_file: ") + e.what());
    return HOTPATCH_BAD_PATCH;
  } catch (...) {
    set_error_message("hotpatch_apply_file: an exception was thrown while applying");
    return HOTPATCH_BAD_PATCH;
  }
  // The patch is published. Hooks run outside every lock: they may ask the
  // runtime anything; what they throw is theirs.
  hotpatch_rt::run_hooks();
  hotpatch_post_event(HOTPATCH_EVENT_PATCH_APPLIED, path);
  hotpatch_rt::clear_error_message();
  return HOTPATCH_OK;
}
