// Patches that are wrong but self-consistent (their checksum recomputed
// after the change) are refused whole, with a message naming the problem,
// and the program keeps running its old code. The loader checks a patch
// against what the runtime knows - the program's registered slots, the
// patch's own symbols, sections and unwind tables - not only against the
// file.
//
// Each test mutates the good patch of test/patch_target (built by
// patch_target/build.sh) and runs the program on it in a process of its own,
// so that a check that is missing shows as a crash or an "ok" in one test.
#include "hotpatch/patch_format.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <elf.h>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

std::string read_all(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The good patch, with accessors for the parts the tests change.
class Patch {
public:
  // `dir`: "" for the program and patch built without debug info, "/g" for
  // those built with -g (the patch then has DWARF and a line table).
  explicit Patch(std::string dir = "")
      : dir_(HOTPATCH_TEST_PATCH_DIR + dir), bytes_(read_all(dir_ + "/good.hpp")) {}

  template <class T> T get(size_t off) const {
    T v;
    memcpy(&v, bytes_.data() + off, sizeof v);
    return v;
  }
  template <class T> void put(size_t off, const T &v) { memcpy(&bytes_[off], &v, sizeof v); }

  hotpatch_patch_header header() const { return get<hotpatch_patch_header>(0); }
  void set_header(const hotpatch_patch_header &h) { put(0, h); }

  size_t update_off(uint32_t i) const {
    return sizeof(hotpatch_patch_header) + i * sizeof(hotpatch_patch_update);
  }
  size_t inits_off() const { return update_off(header().update_count); }
  size_t strings_off() const { return inits_off() + header().init_count * sizeof(uint64_t); }
  size_t image_off() const { return strings_off() + header().strings_size; }

  // The offset of the update of function `name`.
  size_t update_of(const char *name) const {
    for (uint32_t i = 0; i < header().update_count; ++i) {
      auto u = get<hotpatch_patch_update>(update_off(i));
      if (!strcmp(bytes_.c_str() + strings_off() + u.name, name))
        return update_off(i);
    }
    ADD_FAILURE() << "no update of " << name;
    return 0;
  }
  hotpatch_patch_update update(const char *name) const {
    return get<hotpatch_patch_update>(update_of(name));
  }
  void set_update(const char *name, const hotpatch_patch_update &u) { put(update_of(name), u); }

  Elf64_Ehdr ehdr() const { return get<Elf64_Ehdr>(image_off()); }
  size_t phdr_off(unsigned i) const { return image_off() + ehdr().e_phoff + i * sizeof(Elf64_Phdr); }
  size_t shdr_off(unsigned i) const { return image_off() + ehdr().e_shoff + i * sizeof(Elf64_Shdr); }

  // The offset of the section header named `name`.
  size_t section(const char *name) const {
    Elf64_Shdr names = get<Elf64_Shdr>(shdr_off(ehdr().e_shstrndx));
    for (unsigned i = 0; i < ehdr().e_shnum; ++i) {
      Elf64_Shdr s = get<Elf64_Shdr>(shdr_off(i));
      if (!strcmp(bytes_.c_str() + image_off() + names.sh_offset + s.sh_name, name))
        return shdr_off(i);
    }
    ADD_FAILURE() << "no section " << name;
    return 0;
  }
  // The offset of the program header of the PT_LOAD that holds `addr`, or
  // of the first of type `type`.
  size_t segment_holding(uint64_t addr) const {
    for (unsigned i = 0; i < ehdr().e_phnum; ++i) {
      auto p = get<Elf64_Phdr>(phdr_off(i));
      if (p.p_type == PT_LOAD && addr >= p.p_vaddr && addr < p.p_vaddr + p.p_memsz)
        return phdr_off(i);
    }
    ADD_FAILURE() << "no segment holds " << addr;
    return 0;
  }
  size_t segment_of_type(uint32_t type) const {
    for (unsigned i = 0; i < ehdr().e_phnum; ++i)
      if (get<Elf64_Phdr>(phdr_off(i)).p_type == type)
        return phdr_off(i);
    ADD_FAILURE() << "no segment of type " << type;
    return 0;
  }
  // The file offset of the contents of the section named `name`.
  size_t contents(const char *name) const {
    return image_off() + get<Elf64_Shdr>(section(name)).sh_offset;
  }

  // Writes the patch with its checksum recomputed, runs the program on it
  // and returns what it printed, with its exit status.
  std::string run() {
    hotpatch_patch_header h = header();
    h.checksum = hotpatch_patch_checksum(
        reinterpret_cast<const unsigned char *>(bytes_.data()) + sizeof h, bytes_.size() - sizeof h);
    set_header(h);
    std::string path = testing::TempDir() + "hotpatch-mutant-" + std::to_string(getpid()) + ".hpp";
    std::ofstream(path, std::ios::binary) << bytes_;
    std::string cmd = "HOTPATCH_DISABLE=1 " + dir_ + "/app " + path + " 2>&1";
    std::string out;
    if (FILE *p = popen(cmd.c_str(), "r")) {
      char buf[512];
      while (size_t n = fread(buf, 1, sizeof buf, p))
        out.append(buf, n);
      int status = pclose(p);
      out += "exit " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status)
                                                        : 128 + WTERMSIG(status)) + "\n";
    }
    unlink(path.c_str());
    return out;
  }

private:
  std::string dir_;
  std::string bytes_;
};

// The program refused the patch with `problem` in its message and kept
// running its old code.
void expect_refused(const std::string &out, const std::string &problem) {
  EXPECT_NE(out.find("apply: bad patch: patch '"), std::string::npos) << out;
  EXPECT_NE(out.find(problem), std::string::npos) << out;
  EXPECT_NE(out.find("; the program keeps running its current code"), std::string::npos) << out;
  EXPECT_NE(out.find("after 1 one\ncaught 1\npatches 0\nexit 0\n"), std::string::npos) << out;
}

TEST(PatchChecks, TheGoodPatchApplies) {
  std::string out = Patch().run();
  EXPECT_EQ(out, "before 1 one\napply: ok: \nafter 2 two\ncaught 2\npatches 1\nexit 0\n");
}

TEST(PatchChecks, ASlotMustBeARegisteredSlot) {
  Patch p;
  hotpatch_patch_update u = p.update("_Z5valuev");
  u.slot = HOTPATCH_PATCH_BIAS + 0x18; // the program's ELF header: read-only, not a slot
  p.set_update("_Z5valuev", u);
  expect_refused(p.run(), "the slot of '_Z5valuev' (at 0x");
  expect_refused(p.run(), ") is not a slot of this program or of an earlier patch: rebuild the "
                          "patch against this program");
}

TEST(PatchChecks, ASlotMustBeTheSlotOfItsFunction) {
  Patch p;
  hotpatch_patch_update a = p.update("_Z5valuev"), b = p.update("_Z4wordv");
  std::swap(a.slot, b.slot);
  p.set_update("_Z5valuev", a);
  p.set_update("_Z4wordv", b);
  expect_refused(p.run(), ") is not its slot but that of '_Z4wordv'");
}

TEST(PatchChecks, ANewBodyMustStartAFunction) {
  Patch p;
  hotpatch_patch_update u = p.update("_Z5valuev");
  u.new_body += 1; // inside the new code, not at its start
  p.set_update("_Z5valuev", u);
  expect_refused(p.run(), "the new body of '_Z5valuev' is not the start of a function of that "
                          "name in the patch's code");
}

TEST(PatchChecks, ANewBodyMustBeTheFunctionItReplaces) {
  Patch p;
  hotpatch_patch_update u = p.update("_Z5valuev");
  u.new_body = p.update("_Z4wordv").new_body;
  p.set_update("_Z5valuev", u);
  expect_refused(p.run(), "the new body of '_Z5valuev' is not the start");
}

TEST(PatchChecks, UnknownFlagsAreRefused) {
  Patch p;
  hotpatch_patch_update u = p.update("_Z5valuev");
  u.flags = 0xffffffffu;
  p.set_update("_Z5valuev", u);
  expect_refused(p.run(), "the update of '_Z5valuev' has unknown flags 0xfffffff0");
}

TEST(PatchChecks, ASlotlessUpdateNamingASlotIsRefused) {
  Patch p;
  hotpatch_patch_update u = p.update("_Z5valuev");
  u.flags |= HOTPATCH_UPDATE_NOT_HOT;
  p.set_update("_Z5valuev", u);
  expect_refused(p.run(), "'_Z5valuev' is marked as having no slot but names one");
}

TEST(PatchChecks, AReservedFieldMustBeZero) {
  Patch p;
  hotpatch_patch_header h = p.header();
  h.reserved = 1;
  p.set_header(h);
  expect_refused(p.run(), "its header's reserved field is 1, not 0");
}

TEST(PatchChecks, AnInitialiserMustStartAFunction) {
  Patch p;
  ASSERT_GE(p.header().init_count, 1u);
  p.put(p.inits_off(), p.get<uint64_t>(p.inits_off()) + 1);
  expect_refused(p.run(), "an initialiser is not the start of a function of the patch");
}

TEST(PatchChecks, UnwindTablesOutsideTheSegmentsAreRefused) {
  Patch p;
  size_t sh = p.section(".eh_frame");
  Elf64_Shdr s = p.get<Elf64_Shdr>(sh);
  s.sh_addr -= 0x1000000; // below the patch's band: never registered
  p.put(sh, s);
  expect_refused(p.run(), "its unwind table lies outside its segments");
}

TEST(PatchChecks, AnUnwindRecordRunningPastItsTableIsRefused) {
  Patch p;
  size_t eh = p.contents(".eh_frame");
  p.put<uint32_t>(eh, 0x7ffffff0u); // the first record's length
  expect_refused(p.run(), "a record of its unwind table runs past the table");
}

// The first record is a CIE; the second an FDE whose CIE pointer follows its
// length.
size_t second_record(const Patch &p) {
  size_t eh = p.contents(".eh_frame");
  EXPECT_EQ(p.get<uint32_t>(eh + 4), 0u) << "the first record is not a CIE";
  size_t fde = eh + 4 + p.get<uint32_t>(eh);
  EXPECT_NE(p.get<uint32_t>(fde + 4), 0u) << "the second record is not an FDE";
  return fde;
}

TEST(PatchChecks, AnFdeMustNameACie) {
  Patch p;
  size_t fde = second_record(p);
  p.put<uint32_t>(fde + 4, p.get<uint32_t>(fde + 4) + 4);
  expect_refused(p.run(), "an FDE of its unwind table names no CIE of the table");
}

// Found by the mutation campaign: an FDE moved onto another function's
// code, whose exceptions then ended the program.
TEST(PatchChecks, TwoFdesMustNotDescribeTheSameCode) {
  Patch p;
  size_t first = second_record(p); // the first FDE, after the CIE
  size_t second = first + 4 + p.get<uint32_t>(first);
  // pc_begin is pc-relative: point the second at the first's code.
  int32_t to = p.get<int32_t>(first + 8) - int32_t(second - first);
  p.put<int32_t>(second + 8, to);
  expect_refused(p.run(), "two of its unwind records describe the same code");
}

TEST(PatchChecks, AnFdeMustDescribeThePatchsCode) {
  Patch p;
  size_t fde = second_record(p);
  // pc_begin, pc-relative: move it 17 MiB down, below the patch's band.
  p.put<int32_t>(fde + 8, p.get<int32_t>(fde + 8) - 0x1100000);
  expect_refused(p.run(), "its unwind table describes code that is not the patch's");
}

TEST(PatchChecks, WritableDataMustBeInAWritableSegment) {
  Patch p;
  size_t ph = p.segment_holding(p.get<Elf64_Shdr>(p.section(".data")).sh_addr);
  Elf64_Phdr seg = p.get<Elf64_Phdr>(ph);
  ASSERT_TRUE(seg.p_flags & PF_W);
  seg.p_flags &= ~PF_W;
  p.put(ph, seg);
  expect_refused(p.run(), "its section '.data' holds writable data but its segment is not "
                          "writable");
}

TEST(PatchChecks, RelocationsNeedTheDynamicSegment) {
  Patch p;
  size_t ph = p.segment_of_type(PT_DYNAMIC);
  Elf64_Phdr seg = p.get<Elf64_Phdr>(ph);
  seg.p_type = PT_NULL;
  p.put(ph, seg);
  expect_refused(p.run(), "it carries relocations ('.rela.dyn') but no dynamic segment");
}

TEST(PatchChecks, EveryRelocationMustBeApplied) {
  Patch p;
  size_t dyn = p.contents(".dynamic");
  bool changed = false;
  for (size_t off = dyn; p.get<Elf64_Dyn>(off).d_tag != DT_NULL; off += sizeof(Elf64_Dyn)) {
    Elf64_Dyn d = p.get<Elf64_Dyn>(off);
    if (d.d_tag == DT_RELASZ) {
      ASSERT_GE(d.d_un.d_val, sizeof(Elf64_Rela));
      d.d_un.d_val -= sizeof(Elf64_Rela); // the last one is left out
      p.put(off, d);
      changed = true;
    }
  }
  ASSERT_TRUE(changed);
  expect_refused(p.run(), "its relocations in '.rela.dyn' are not the ones its dynamic section "
                          "names");
}

TEST(PatchChecks, ARelocationMustPointIntoTheProgramOrThePatch) {
  Patch p;
  size_t rela = p.contents(".rela.dyn");
  size_t size = p.get<Elf64_Shdr>(p.section(".rela.dyn")).sh_size;
  bool changed = false;
  for (size_t off = rela; off < rela + size && !changed; off += sizeof(Elf64_Rela)) {
    Elf64_Rela r = p.get<Elf64_Rela>(off);
    if (ELF64_R_TYPE(r.r_info) != R_X86_64_RELATIVE)
      continue;
    r.r_addend -= 0x1100000; // below the patch's band, where nothing is
    p.put(off, r);
    changed = true;
  }
  ASSERT_TRUE(changed) << "the patch has no RELATIVE relocation";
  expect_refused(p.run(), "a relocation points outside the patch, the program and the patches "
                          "before it");
}

// The offset of the first relocation in .rela.dyn whose type is `type`.
size_t relocation_of_type(const Patch &p, uint32_t type) {
  size_t rela = p.contents(".rela.dyn");
  size_t size = p.get<Elf64_Shdr>(p.section(".rela.dyn")).sh_size;
  for (size_t off = rela; off < rela + size; off += sizeof(Elf64_Rela))
    if (ELF64_R_TYPE(p.get<Elf64_Rela>(off).r_info) == type)
      return off;
  ADD_FAILURE() << "no relocation of type " << type;
  return rela;
}

TEST(PatchChecks, ARelocationMustHaveAType) {
  Patch p;
  size_t off = relocation_of_type(p, R_X86_64_RELATIVE);
  Elf64_Rela r = p.get<Elf64_Rela>(off);
  r.r_info = ELF64_R_INFO(ELF64_R_SYM(r.r_info), R_X86_64_NONE);
  p.put(off, r);
  expect_refused(p.run(), "a relocation has no type");
}

TEST(PatchChecks, ARelocationMustWriteWritableData) {
  Patch p;
  size_t off = relocation_of_type(p, R_X86_64_RELATIVE);
  Elf64_Rela r = p.get<Elf64_Rela>(off);
  r.r_offset = p.update("_Z5valuev").new_body; // into the new code
  p.put(off, r);
  expect_refused(p.run(), "a relocation writes outside the patch's writable data");
}

// Found by the loader's fuzzer: the write was a misaligned 8-byte store.
TEST(PatchChecks, ARelocationMustWriteAnAlignedPointer) {
  Patch p;
  size_t off = relocation_of_type(p, R_X86_64_RELATIVE); // the first, 20 bytes below the next
  Elf64_Rela r = p.get<Elf64_Rela>(off);
  r.r_offset -= 4;
  p.put(off, r);
  expect_refused(p.run(), "a relocation writes a misaligned pointer");
}

// Found by the mutation campaign: a relocation's place moved within the
// data, or its addend changed, went unnoticed (a constructor then followed
// a wrong pointer). The place holds the addend too, and must.
TEST(PatchChecks, ARelocationsPlaceMustHoldItsAddend) {
  Patch p;
  size_t off = relocation_of_type(p, R_X86_64_RELATIVE);
  Elf64_Rela r = p.get<Elf64_Rela>(off);
  r.r_addend += 8;
  p.put(off, r);
  expect_refused(p.run(), "a relocation's place does not hold its addend");
}

// Found by the mutation campaign: a GOT entry's relocation moved onto the
// next word, which left the entry null (a call through it crashed).
TEST(PatchChecks, AGotRelocationsPlaceMustHoldWhatTheLinkWrote) {
  Patch p;
  Elf64_Rela r = p.get<Elf64_Rela>(relocation_of_type(p, R_X86_64_GLOB_DAT));
  Elf64_Shdr got = p.get<Elf64_Shdr>(p.section(".got"));
  size_t place = p.contents(".got") + (r.r_offset - got.sh_addr);
  p.put<uint64_t>(place, p.get<uint64_t>(place) + 8);
  expect_refused(p.run(), "a relocation's place does not hold what the link wrote there");
}

// Found by the mutation campaign: one PLT entry bound to another's symbol
// (a call of __cxa_allocate_exception reached __cxa_throw).
TEST(PatchChecks, TwoPltEntriesMustNotNameOneSymbol) {
  Patch p;
  size_t rela = p.contents(".rela.plt");
  Elf64_Rela a = p.get<Elf64_Rela>(rela), b = p.get<Elf64_Rela>(rela + sizeof(Elf64_Rela));
  b.r_info = ELF64_R_INFO(ELF64_R_SYM(a.r_info), ELF64_R_TYPE(b.r_info));
  p.put(rela + sizeof(Elf64_Rela), b);
  expect_refused(p.run(), "two GOT or PLT entries are bound to the same symbol");
}

// Found by the mutation campaign: a damaged info word went unnoticed, and
// with it a damaged addend.
TEST(PatchChecks, ARelativeRelocationNamesNoSymbol) {
  Patch p;
  size_t off = relocation_of_type(p, R_X86_64_RELATIVE);
  Elf64_Rela r = p.get<Elf64_Rela>(off);
  r.r_info = ELF64_R_INFO(1, R_X86_64_RELATIVE);
  p.put(off, r);
  expect_refused(p.run(), "a RELATIVE relocation names a symbol");
}

TEST(PatchChecks, TwoRelocationsMustNotWriteTheSamePlace) {
  Patch p;
  size_t first = relocation_of_type(p, R_X86_64_RELATIVE);
  Elf64_Rela a = p.get<Elf64_Rela>(first), b = p.get<Elf64_Rela>(first + sizeof(Elf64_Rela));
  b.r_offset = a.r_offset;
  p.put(first + sizeof(Elf64_Rela), b);
  expect_refused(p.run(), "two relocations write the same place");
}

TEST(PatchChecks, ASectionMustBeWhereItsSegmentLoadsIt) {
  Patch p;
  size_t ph = p.segment_holding(p.get<Elf64_Shdr>(p.section(".text")).sh_addr);
  Elf64_Phdr seg = p.get<Elf64_Phdr>(ph);
  seg.p_offset += 0x10; // the code would be loaded from 16 bytes further on
  p.put(ph, seg);
  expect_refused(p.run(), "its section '.text' is not where its segment loads it from");
}

TEST(PatchChecks, AFunctionMustKeepItsUnwindInformation) {
  Patch p;
  // Rename the unwind table: the patch then has none.
  Elf64_Shdr names = p.get<Elf64_Shdr>(p.shdr_off(p.ehdr().e_shstrndx));
  size_t name = p.image_off() + names.sh_offset + p.get<Elf64_Shdr>(p.section(".eh_frame")).sh_name;
  p.put<char>(name + 1, 'x');
  expect_refused(p.run(), "its unwind table does not cover '_Z5valuev', whose running version "
                          "has one");
}

TEST(PatchChecks, ACieMustDescribeX86_64Frames) {
  Patch p;
  size_t eh = p.contents(".eh_frame");
  // version, "zR" or "zPLR", then the code alignment factor (1).
  size_t code_align = eh + 9;
  while (p.get<char>(code_align))
    ++code_align;
  ++code_align;
  ASSERT_EQ(p.get<uint8_t>(code_align), 1);
  p.put<uint8_t>(code_align, 4);
  expect_refused(p.run(), "a CIE of its unwind table is malformed");
}

// The FDEs of the patch's unwind table: offset of each, and where its
// instructions start.
struct Fde {
  size_t at, instructions, lsda; // lsda: 0 if it has none
};
std::vector<Fde> fdes(const Patch &p) {
  size_t eh = p.contents(".eh_frame"), end = eh + p.get<Elf64_Shdr>(p.section(".eh_frame")).sh_size;
  std::map<size_t, std::string> augmentation; // of each CIE, by offset
  std::vector<Fde> out;
  for (size_t off = eh; off < end && p.get<uint32_t>(off); off += 4 + p.get<uint32_t>(off)) {
    uint32_t id = p.get<uint32_t>(off + 4);
    if (id == 0) {
      std::string aug;
      for (size_t i = off + 9; p.get<char>(i); ++i)
        aug += p.get<char>(i);
      augmentation[off] = aug;
      continue;
    }
    std::string aug = augmentation[off + 4 - id];
    size_t data = off + 16; // pc_begin and pc_range, sdata4 each
    Fde f{off, data, 0};
    if (!aug.empty() && aug[0] == 'z') {
      uint8_t n = p.get<uint8_t>(data); // one-byte uleb128 here
      f.instructions = data + 1 + n;
      if (aug.find('L') != std::string::npos && n == 4 && p.get<int32_t>(data + 1))
        f.lsda = data + 1;
    }
    out.push_back(f);
  }
  return out;
}

TEST(PatchChecks, ACieMustStartFramesAsX86_64Does) {
  Patch p;
  size_t eh = p.contents(".eh_frame");
  // The initial instructions end the CIE: DW_CFA_def_cfa rsp 8 first.
  size_t at = eh + 4;
  while (!(p.get<uint8_t>(at) == 0x0c && p.get<uint8_t>(at + 1) == 0x07 &&
           p.get<uint8_t>(at + 2) == 0x08))
    ASSERT_LT(++at, eh + 4 + p.get<uint32_t>(eh)) << "no DW_CFA_def_cfa rsp 8";
  p.put<uint8_t>(at + 2, 0x10); // CFA = rsp + 16
  expect_refused(p.run(), "a CIE of its unwind table is malformed");
}

TEST(PatchChecks, CallFrameInstructionsMustBeKnown) {
  Patch p;
  std::vector<Fde> all = fdes(p);
  ASSERT_FALSE(all.empty());
  p.put<uint8_t>(all[0].instructions, 0x01); // DW_CFA_set_loc, never emitted
  expect_refused(p.run(), "an FDE of its unwind table has instructions this runtime does not "
                          "accept");
}

TEST(PatchChecks, ExceptionTablesMustBeThePatchs) {
  Patch p;
  bool changed = false;
  for (const Fde &f : fdes(p))
    if (f.lsda && !changed) {
      p.put<int32_t>(f.lsda, p.get<int32_t>(f.lsda) - 0x1100000); // below the band
      changed = true;
    }
  ASSERT_TRUE(changed) << "no FDE names exception tables";
  expect_refused(p.run(), "an FDE of its unwind table names exception tables outside the patch, "
                          "the program and the patches before it");
}

// Adds `delta` to the value of the dynamic section's entry `tag`.
void move_dynamic_entry(Patch &p, int64_t tag, uint64_t delta) {
  for (size_t at = p.contents(".dynamic"); p.get<Elf64_Dyn>(at).d_tag != DT_NULL;
       at += sizeof(Elf64_Dyn))
    if (p.get<Elf64_Dyn>(at).d_tag == tag) {
      Elf64_Dyn d = p.get<Elf64_Dyn>(at);
      d.d_un.d_ptr += delta;
      p.put(at, d);
      return;
    }
  ADD_FAILURE() << "no dynamic entry " << tag;
}

TEST(PatchChecks, TheDynamicSymbolTableMustBeDynsym) {
  // Moved by one symbol, every relocation would be bound to its neighbour's
  // symbol (a call of __cxa_allocate_exception reaching __cxa_throw).
  Patch p;
  move_dynamic_entry(p, DT_SYMTAB, sizeof(Elf64_Sym));
  expect_refused(p.run(), "the symbol table its dynamic section names is not its .dynsym section");
}

TEST(PatchChecks, TheDynamicStringTableMustBeTheSymbolsStrings) {
  Patch p;
  move_dynamic_entry(p, DT_STRTAB, 1);
  expect_refused(p.run(), "the string table its dynamic section names is not its symbols' string "
                          "table");
}

TEST(PatchChecks, AGotRelocationMustFillAGotEntry) {
  // Moved onto a reserved word of the PLT's GOT (which holds 0, as an
  // undefined symbol's entry does), it would leave its own entry empty.
  Patch p;
  size_t off = relocation_of_type(p, R_X86_64_GLOB_DAT);
  Elf64_Rela r = p.get<Elf64_Rela>(off);
  r.r_offset = p.get<Elf64_Shdr>(p.section(".got.plt")).sh_addr + 8;
  p.put(off, r);
  expect_refused(p.run(), "a GOT relocation writes outside its GOT");
}


TEST(PatchChecks, ASymbolsNameMustStartAName) {
  // One byte into "_ZTIi" is "ZTIi": another name, or none, that the
  // dynamic linker might still find.
  Patch p;
  Elf64_Rela r = p.get<Elf64_Rela>(relocation_of_type(p, R_X86_64_GLOB_DAT));
  size_t sym = p.contents(".dynsym") + ELF64_R_SYM(r.r_info) * sizeof(Elf64_Sym);
  Elf64_Sym s = p.get<Elf64_Sym>(sym);
  ASSERT_NE(s.st_name, 0u);
  s.st_name += 1;
  p.put(sym, s);
  expect_refused(p.run(), "a symbol's name starts inside another name");
}

// The line table of a patch built with -g (hotpatch/patch_format.h,
// HOTPATCH_LINES_SECTION): its rows, where the tests change them.
struct Lines {
  size_t header, rows;
  hotpatch_lines_header h;
};
Lines lines(const Patch &p) {
  Lines l;
  l.header = p.contents(HOTPATCH_LINES_SECTION);
  l.h = p.get<hotpatch_lines_header>(l.header);
  l.rows = l.header + sizeof(hotpatch_lines_header);
  return l;
}

TEST(PatchChecks, TheGoodPatchWithDebugInfoApplies) {
  Patch p("/g");
  Lines l = lines(p);
  EXPECT_GT(l.h.row_count, 2u);
  EXPECT_EQ(p.run(), "before 1 one\napply: ok: \nafter 2 two\ncaught 2\npatches 1\nexit 0\n");
}

TEST(PatchChecks, ALineTableRowMustNameAFile) {
  Patch p("/g");
  Lines l = lines(p);
  auto row = p.get<hotpatch_line>(l.rows);
  row.file = l.h.files_size; // one past the paths
  p.put(l.rows, row);
  expect_refused(p.run(), "a row of its line table names no file");
}

TEST(PatchChecks, ALineTableRowMustLieInTheCode) {
  Patch p("/g");
  Lines l = lines(p);
  auto row = p.get<hotpatch_line>(l.rows);
  row.addr = HOTPATCH_PATCH_BIAS + 0x1000; // the program's code, not the patch's
  p.put(l.rows, row);
  expect_refused(p.run(), "a row of its line table lies outside its code");
}

TEST(PatchChecks, ALineTableMustBeSortedByAddress) {
  Patch p("/g");
  Lines l = lines(p);
  auto first = p.get<hotpatch_line>(l.rows);
  auto second = p.get<hotpatch_line>(l.rows + sizeof(hotpatch_line));
  ASSERT_LT(first.addr, second.addr);
  std::swap(first.addr, second.addr);
  p.put(l.rows, first);
  p.put(l.rows + sizeof(hotpatch_line), second);
  expect_refused(p.run(), "its line table is not sorted by address");
}

TEST(PatchChecks, ALineTableMustHoldWhatItsHeaderSays) {
  Patch p("/g");
  Lines l = lines(p);
  l.h.row_count += 1;
  p.put(l.header, l.h);
  expect_refused(p.run(), "its line table's size does not match its rows and files");
}

} // namespace
