// debug_registration.cpp - debuggers, profilers and crash handlers see
// patched code.
//
// When a patch is published, its functions are made known three ways:
//  - the GDB JIT interface (__jit_debug_descriptor, read by GDB and LLDB):
//    an in-memory ELF with the patch's function symbols at their running
//    addresses and a copy of its unwind table (.eh_frame, at the address it
//    was relocated for), so that `bt` names patched frames and unwinds
//    through them;
//  - /tmp/perf-<pid>.map lines, which perf and other profilers read
//    (HOTPATCH_NO_PERF_MAP=1 turns them off);
//  - hotpatch_describe_address(), from a list that is only ever appended to
//    and is read without locks or allocation: each patch's functions, and
//    its source lines from the line table the thin link resolved from the
//    DWARF (patch_format.h, HOTPATCH_LINES_SECTION).
// Patches are never unmapped, so nothing is ever unregistered.
#include "debug_registration.h"
#include "hotpatch/hotpatch.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

// The GDB JIT interface (gdb/doc, "JIT Compilation Interface"). The names
// and layout are the debuggers' contract; a process has one descriptor,
// whichever JIT in it defines it first.
extern "C" {
typedef enum { JIT_NOACTION = 0, JIT_REGISTER_FN, JIT_UNREGISTER_FN } jit_actions_t;
struct jit_code_entry {
  jit_code_entry *next_entry;
  jit_code_entry *prev_entry;
  const char *symfile_addr;
  uint64_t symfile_size;
};
struct jit_descriptor {
  uint32_t version;
  uint32_t action_flag;
  jit_code_entry *relevant_entry;
  jit_code_entry *first_entry;
};
__attribute__((visibility("default"), noinline, used)) void __jit_debug_register_code() {
  __asm__ volatile("" ::: "memory"); // the debugger's breakpoint goes here
}
__attribute__((visibility("default"), used)) jit_descriptor __jit_debug_descriptor = {1, 0, nullptr,
                                                                                     nullptr};
}

namespace hotpatch_rt {
namespace {

struct Fn {
  uintptr_t begin, size;
  const char *name;
};

struct Line {
  uintptr_t addr;   // running address
  const char *file; // null: no line from here on (the end of a sequence)
  uint32_t line;
};

struct PatchDebug {
  PatchDebug *next;
  unsigned patch;
  const char *image;
  size_t count;
  Fn *fns; // by address
  size_t line_count;
  Line *lines; // by address
};

// The line at `a` in a patch's table, or nullptr.
const Line *line_at(const PatchDebug &p, uintptr_t a) {
  size_t lo = 0, hi = p.line_count;
  while (lo < hi) { // the last row starting at or before a
    size_t mid = (lo + hi) / 2;
    if (p.lines[mid].addr <= a)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo && p.lines[lo - 1].file ? &p.lines[lo - 1] : nullptr;
}

std::atomic<PatchDebug *> g_patches{nullptr};

bool env_on(const char *name) {
  const char *v = getenv(name);
  return v && *v && strcmp(v, "0") != 0;
}

char *copy(const std::string &s) {
  char *p = static_cast<char *>(malloc(s.size() + 1));
  if (p)
    memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

void write_perf_map(const std::vector<DebugFunction> &fns) {
  if (env_on("HOTPATCH_NO_PERF_MAP"))
    return;
  char path[64];
  snprintf(path, sizeof path, "/tmp/perf-%d.map", static_cast<int>(getpid()));
  // The first write of this process starts the map afresh: a map left by
  // an earlier process with the same pid names code this one never had.
  // (Called under the loader's apply lock; a forked child has its own pid.)
  static pid_t written_by = 0;
  int fresh = written_by == getpid() ? 0 : O_TRUNC;
  written_by = getpid();
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | fresh, 0644);
  if (fd < 0)
    return;
  std::string text;
  for (const DebugFunction &f : fns) {
    char line[64];
    snprintf(line, sizeof line, "%lx %lx ", static_cast<unsigned long>(f.begin),
             static_cast<unsigned long>(f.size ? f.size : 1));
    text += line;
    text += f.name;
    text += '\n';
  }
  ssize_t n = write(fd, text.data(), text.size());
  (void)n; // a profiler's map is best effort
  close(fd);
}

// ---- DWARF 5, moved to the running addresses ------------------------------
//
// The patch link placed everything, the program's addresses and the patch's,
// one constant below where it runs. DWARF 5 as clang writes it keeps its
// addresses in two places: the .debug_addr tables (DW_FORM_addrx, DW_OP_addrx,
// the rnglists' and loclists' *x forms) and the line programs'
// DW_LNE_set_address. Each is moved by the delta; 0 and 1 are the linker's
// marks for discarded code and stay. Anything else (another DWARF version,
// 64-bit DWARF) and the debug sections are left out: names still work.

uint64_t rd(const std::string &s, size_t off, int n) {
  uint64_t v = 0;
  memcpy(&v, s.data() + off, n);
  return v;
}

bool shift_addr(std::string &s, uint64_t delta) {
  size_t off = 0;
  while (off + 8 <= s.size()) {
    uint64_t len = rd(s, off, 4);
    if (len >= 0xfffffff0u || len > s.size() - off - 4)
      return false;
    size_t end = off + 4 + len;
    if (rd(s, off + 4, 2) != 5 || rd(s, off + 6, 1) != 8 || rd(s, off + 7, 1) != 0)
      return false;
    for (size_t p = off + 8; p + 8 <= end; p += 8) {
      uint64_t a = rd(s, p, 8);
      if (a > 1) {
        a += delta;
        memcpy(&s[p], &a, 8);
      }
    }
    off = end;
  }
  return true;
}

bool skip_leb(const std::string &s, size_t &p, size_t end) {
  while (p < end)
    if (!(static_cast<unsigned char>(s[p++]) & 0x80))
      return true;
  return false;
}

bool shift_line(std::string &s, uint64_t delta) {
  size_t off = 0;
  while (off + 4 <= s.size()) {
    uint64_t len = rd(s, off, 4);
    if (len >= 0xfffffff0u || len > s.size() - off - 4 || len < 18)
      return false;
    size_t end = off + 4 + len;
    if (rd(s, off + 4, 2) != 5)
      return false;
    uint64_t header_len = rd(s, off + 8, 4);
    size_t fixed = off + 12; // min_inst_length, max_ops, default_is_stmt, line_base, line_range
    size_t prog = fixed + header_len;
    if (header_len < 6 || prog > end)
      return false;
    unsigned opcode_base = static_cast<unsigned char>(s[fixed + 5]);
    if (opcode_base == 0 || fixed + 6 + (opcode_base - 1) > prog)
      return false;
    const unsigned char *lengths = reinterpret_cast<const unsigned char *>(&s[fixed + 6]);
    for (size_t p = prog; p < end;) {
      unsigned op = static_cast<unsigned char>(s[p++]);
      if (op >= opcode_base)
        continue; // special opcode
      if (op == 0) { // extended: length, sub-opcode, operands
        size_t at = p;
        uint64_t n = 0;
        for (int shift = 0; p < end; shift += 7) {
          unsigned char b = s[p++];
          n |= uint64_t(b & 0x7f) << shift;
          if (!(b & 0x80) || shift > 56)
            break;
        }
        if (p == at || n == 0 || n > end - p)
          return false;
        if (s[p] == 2 /* DW_LNE_set_address */ && n == 9) {
          uint64_t a = rd(s, p + 1, 8);
          if (a > 1) {
            a += delta;
            memcpy(&s[p + 1], &a, 8);
          }
        }
        p += n;
      } else if (op == 9) { // DW_LNS_fixed_advance_pc: one uhalf
        p += 2;
      } else {
        for (unsigned i = 0; i < lengths[op - 1]; ++i)
          if (!skip_leb(s, p, end))
            return false;
      }
    }
    off = end;
  }
  return true;
}

// The debug sections with their addresses moved, or none.
// A debug section as the debuggers get it: moved, or (compressed by the
// thin link, SHF_COMPRESSED) as it came.
struct MovedSection {
  std::string name, bytes;
  bool compressed;
};

std::vector<MovedSection> moved_dwarf(const std::vector<DebugSection> &in, uint64_t delta) {
  std::vector<MovedSection> out;
  // DWARF 5: said by .debug_info when it can be read here; a compressed
  // one is the thin link's, whose .debug_addr and .debug_line (never
  // compressed) are checked to be DWARF 5 unit by unit below.
  bool ok = false;
  for (const DebugSection &d : in)
    if (d.name == ".debug_info")
      ok = d.compressed || (d.size >= 6 && (static_cast<unsigned char>(d.data[4]) |
                                            static_cast<unsigned char>(d.data[5]) << 8) == 5);
  if (!ok)
    return out;
  for (const DebugSection &d : in) {
    out.push_back({d.name, std::string(d.data, d.size), d.compressed});
    bool moves = d.name == ".debug_addr" || d.name == ".debug_line";
    if (moves && d.compressed)
      return {};
    if ((d.name == ".debug_addr" && !shift_addr(out.back().bytes, delta)) ||
        (d.name == ".debug_line" && !shift_line(out.back().bytes, delta)))
      return {};
  }
  return out;
}

// An ELF the debuggers read as an object file: section headers and symbols
// at running addresses, code left in the process (SHT_NOBITS), and the
// patch's DWARF moved to the same addresses.
std::string jit_object(const std::vector<DebugFunction> &fns, uintptr_t code_begin,
                       uintptr_t code_end, const char *eh_frame, uintptr_t eh_addr,
                       size_t eh_size, const std::vector<MovedSection> &dwarf) {
  static const char kNames[] = "\0.text\0.eh_frame\0.symtab\0.strtab\0.shstrtab";
  std::string shstr(kNames, sizeof kNames); // the names and their NULs, the last one included
  std::string str(1, '\0');
  std::vector<Elf64_Sym> syms(1);
  memset(syms.data(), 0, sizeof(Elf64_Sym));
  for (const DebugFunction &f : fns) {
    Elf64_Sym s;
    memset(&s, 0, sizeof s);
    s.st_name = str.size();
    str += f.name;
    str.push_back('\0');
    s.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
    s.st_shndx = 1;
    s.st_value = f.begin;
    s.st_size = f.size;
    syms.push_back(s);
  }
  std::string out(sizeof(Elf64_Ehdr), '\0');
  auto append = [&](const void *p, size_t n) {
    while (out.size() % 8)
      out.push_back('\0');
    size_t off = out.size();
    out.append(static_cast<const char *>(p), n);
    return off;
  };
  std::vector<Elf64_Shdr> sh(6 + dwarf.size());
  memset(sh.data(), 0, sh.size() * sizeof(Elf64_Shdr));
  for (size_t i = 0; i < dwarf.size(); ++i) {
    Elf64_Shdr &d = sh[6 + i];
    d.sh_name = shstr.size();
    shstr += dwarf[i].name;
    shstr.push_back('\0');
    d.sh_type = SHT_PROGBITS;
    d.sh_offset = append(dwarf[i].bytes.data(), dwarf[i].bytes.size());
    d.sh_size = dwarf[i].bytes.size();
    d.sh_flags = dwarf[i].compressed ? SHF_COMPRESSED : 0;
    d.sh_addralign = dwarf[i].compressed ? 8 : 1;
  }
  sh[1].sh_name = 1; // .text
  sh[1].sh_type = SHT_NOBITS;
  sh[1].sh_flags = SHF_ALLOC | SHF_EXECINSTR;
  sh[1].sh_addr = code_begin;
  sh[1].sh_size = code_end - code_begin;
  sh[1].sh_addralign = 16;
  sh[2].sh_name = 7; // .eh_frame
  sh[2].sh_type = eh_size ? SHT_PROGBITS : SHT_NOBITS;
  sh[2].sh_flags = SHF_ALLOC;
  sh[2].sh_addr = eh_addr;
  sh[2].sh_size = eh_size;
  sh[2].sh_addralign = 8;
  if (eh_size)
    sh[2].sh_offset = append(eh_frame, eh_size);
  sh[3].sh_name = 17; // .symtab
  sh[3].sh_type = SHT_SYMTAB;
  sh[3].sh_offset = append(syms.data(), syms.size() * sizeof(Elf64_Sym));
  sh[3].sh_size = syms.size() * sizeof(Elf64_Sym);
  sh[3].sh_link = 4;
  sh[3].sh_info = 1;
  sh[3].sh_entsize = sizeof(Elf64_Sym);
  sh[3].sh_addralign = 8;
  sh[4].sh_name = 25; // .strtab
  sh[4].sh_type = SHT_STRTAB;
  sh[4].sh_offset = append(str.data(), str.size());
  sh[4].sh_size = str.size();
  sh[4].sh_addralign = 1;
  sh[5].sh_name = 33; // .shstrtab
  sh[5].sh_type = SHT_STRTAB;
  sh[5].sh_offset = append(shstr.data(), shstr.size());
  sh[5].sh_size = shstr.size();
  sh[5].sh_addralign = 1;
  Elf64_Ehdr eh;
  memset(&eh, 0, sizeof eh);
  memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_ehsize = sizeof eh;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = sh.size();
  eh.e_shstrndx = 5;
  eh.e_shoff = append(sh.data(), sh.size() * sizeof(Elf64_Shdr));
  memcpy(&out[0], &eh, sizeof eh);
  return out;
}

void register_with_debuggers(const std::string &object) {
  char *symfile = static_cast<char *>(malloc(object.size()));
  auto *entry = static_cast<jit_code_entry *>(calloc(1, sizeof(jit_code_entry)));
  if (!symfile || !entry) {
    free(symfile);
    free(entry);
    return;
  }
  memcpy(symfile, object.data(), object.size());
  entry->symfile_addr = symfile;
  entry->symfile_size = object.size();
  // The descriptor may be shared with another JIT in the process; the
  // protocol has no lock of its own: registrations are serialised by the
  // loader's apply lock on our side.
  entry->next_entry = __jit_debug_descriptor.first_entry;
  if (entry->next_entry)
    entry->next_entry->prev_entry = entry;
  __jit_debug_descriptor.first_entry = entry;
  __jit_debug_descriptor.relevant_entry = entry;
  __jit_debug_descriptor.action_flag = JIT_REGISTER_FN;
  __jit_debug_register_code();
  __jit_debug_descriptor.action_flag = JIT_NOACTION;
}

} // namespace

void register_patch_debug_info(unsigned patch, const std::string &image,
                               std::vector<DebugFunction> fns, uintptr_t code_begin,
                               uintptr_t code_end, const char *eh_frame, uintptr_t eh_addr,
                               size_t eh_size, const std::vector<DebugSection> &dwarf,
                               const LineTable &lines, uint64_t delta) {
  if (fns.empty())
    return;
  std::sort(fns.begin(), fns.end(),
            [](const DebugFunction &a, const DebugFunction &b) { return a.begin < b.begin; });
  write_perf_map(fns);
  register_with_debuggers(jit_object(fns, code_begin, code_end, eh_frame, eh_addr, eh_size,
                                     moved_dwarf(dwarf, delta)));
  auto *p = static_cast<PatchDebug *>(calloc(1, sizeof(PatchDebug)));
  Fn *table = static_cast<Fn *>(calloc(fns.size(), sizeof(Fn)));
  if (!p || !table) {
    free(p);
    free(table);
    return;
  }
  for (size_t i = 0; i < fns.size(); ++i)
    table[i] = {fns[i].begin, fns[i].size, copy(fns[i].name)};
  // Lines: one block of rows, then the paths they name (checked by
  // read_line_table: every row names a terminated path of the table).
  if (!lines.rows.empty()) {
    size_t rows = lines.rows.size() * sizeof(Line);
    if (char *block = static_cast<char *>(malloc(rows + lines.files.size()))) {
      Line *l = reinterpret_cast<Line *>(block);
      char *files = block + rows;
      memcpy(files, lines.files.data(), lines.files.size());
      for (size_t i = 0; i < lines.rows.size(); ++i) {
        const hotpatch_line &r = lines.rows[i];
        l[i] = {uintptr_t(r.addr + delta), r.line ? files + r.file : nullptr, r.line};
      }
      p->lines = l;
      p->line_count = lines.rows.size();
    }
  }
  p->patch = patch;
  p->image = copy(image);
  p->count = fns.size();
  p->fns = table;
  p->next = g_patches.load(std::memory_order_relaxed);
  while (!g_patches.compare_exchange_weak(p->next, p, std::memory_order_release,
                                          std::memory_order_relaxed)) {
  }
}

} // namespace hotpatch_rt

extern "C" __attribute__((visibility("default"))) hotpatch_status
hotpatch_describe_address(const void *addr, hotpatch_address_info *out) {
  auto a = reinterpret_cast<uintptr_t>(addr);
  // Newest first: code of a later patch never overlaps an earlier one, but
  // the newest answer is the one a reader wants if it ever did.
  for (auto *p = hotpatch_rt::g_patches.load(std::memory_order_acquire); p; p = p->next) {
    size_t lo = 0, hi = p->count;
    while (lo < hi) { // the last function starting at or before a
      size_t mid = (lo + hi) / 2;
      if (p->fns[mid].begin <= a)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo == 0)
      continue;
    const hotpatch_rt::Fn &f = p->fns[lo - 1];
    if (a - f.begin >= (f.size ? f.size : 1))
      continue;
    if (out) {
      out->patch = p->patch;
      out->image = p->image;
      out->function = f.name;
      out->offset = a - f.begin;
      const hotpatch_rt::Line *l = hotpatch_rt::line_at(*p, a);
      out->file = l ? l->file : nullptr;
      out->line = l ? l->line : 0;
    }
    return HOTPATCH_OK;
  }
  return HOTPATCH_NOT_FOUND;
}
