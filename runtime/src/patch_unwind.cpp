// patch_unwind.cpp - a patch's .eh_frame, checked record by record before
// it is handed to the unwinder, and its registration (see patch_checks.h).
//
// The unwinder trusts what it is given: a record whose length runs past its
// section, an FDE whose CIE pointer is wrong, or a table without its zero
// terminator is read out of bounds at the next exception, in whatever
// thread throws. So the table is walked here the way the unwinder walks it,
// in the mapped patch, and refused unless every record is sound and every
// FDE covers code of this patch (an FDE claiming the program's code would
// change how the program's own frames unwind).
#include "patch_checks.h"

#include <algorithm>
#include <cstring>
#include <map>

extern "C" void __register_frame(void *);
extern "C" void __deregister_frame(void *);

namespace hotpatch_rt {
namespace {

enum : uint8_t {
  kPtrAbs = 0x00, kUleb = 0x01, kUdata2 = 0x02, kUdata4 = 0x03, kUdata8 = 0x04,
  kSleb = 0x09, kSdata2 = 0x0a, kSdata4 = 0x0b, kSdata8 = 0x0c,
  kPcrel = 0x10, kOmit = 0xff
};

// A cursor over one record; every read is bounded by the record's end.
struct Reader {
  const unsigned char *p, *end;
  uint64_t link; // patch-link address of p
  bool ok = true;

  bool take(void *out, size_t n) {
    if (!ok || size_t(end - p) < n)
      return ok = false;
    memcpy(out, p, n);
    p += n;
    link += n;
    return true;
  }
  uint8_t u8() {
    uint8_t v = 0;
    take(&v, 1);
    return v;
  }
  uint64_t uleb() {
    uint64_t v = 0;
    for (unsigned shift = 0; ok; shift += 7) {
      uint8_t b = u8();
      if (shift < 64)
        v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80))
        break;
      if (shift > 63)
        ok = false;
    }
    return v;
  }
  // A pointer in `enc`; pc-relative ones resolve to a patch-link address.
  bool pointer(uint8_t enc, uint64_t &out) {
    uint64_t at = link;
    int64_t v = 0;
    switch (enc & 0x0f) {
    case kPtrAbs: case kUdata8: case kSdata8: { uint64_t x = 0; take(&x, 8); v = int64_t(x); break; }
    case kUdata4: { uint32_t x = 0; take(&x, 4); v = x; break; }
    case kSdata4: { int32_t x = 0; take(&x, 4); v = x; break; }
    case kUdata2: { uint16_t x = 0; take(&x, 2); v = x; break; }
    case kSdata2: { int16_t x = 0; take(&x, 2); v = x; break; }
    case kUleb: v = int64_t(uleb()); break;
    default: return ok = false;
    }
    switch (enc & 0x70) {
    case 0: out = uint64_t(v); break;
    case kPcrel: out = at + uint64_t(v); break;
    default: return ok = false; // datarel, textrel, funcrel: not emitted by lld for x86-64
    }
    return ok && !(enc & 0x80);
  }
};

struct Cie {
  uint8_t fde_enc = kPtrAbs;
  uint8_t lsda_enc = kOmit;
  bool z = false; // FDEs carry augmentation data
};

// Checks an FDE's call frame instructions: every opcode known, every
// operand inside the record, registers those of x86-64 (0-16), no
// restore_state without a remember_state, and every advance inside the
// FDE's range.
bool check_instructions(Reader r, uint64_t range) {
  uint64_t loc = 0;
  int depth = 0;
  auto reg_ok = [&](uint64_t reg) { return reg <= 16; };
  auto advance = [&](uint64_t delta) {
    if (delta > range - loc)
      return r.ok = false;
    loc += delta;
    return true;
  };
  while (r.ok && r.p < r.end) {
    uint8_t op = r.u8();
    switch (op & 0xc0) {
    case 0x40: advance(op & 0x3f); continue;              // advance_loc
    case 0x80: if (!reg_ok(op & 0x3f)) return false; r.uleb(); continue; // offset
    case 0xc0: if (!reg_ok(op & 0x3f)) return false; continue;         // restore
    }
    switch (op) {
    case 0x00: break;                                     // nop
    case 0x02: advance(r.u8()); break;                    // advance_loc1
    case 0x03: { uint16_t d = 0; r.take(&d, 2); advance(d); break; }
    case 0x04: { uint32_t d = 0; r.take(&d, 4); advance(d); break; }
    case 0x05: case 0x09: case 0x0c: case 0x11: case 0x12: case 0x14: case 0x15: case 0x2f:
      if (!reg_ok(r.uleb()))                              // register, then a number
        return false;
      r.uleb();
      break;
    case 0x06: case 0x07: case 0x08: case 0x0d:           // one register
      if (!reg_ok(r.uleb()))
        return false;
      break;
    case 0x0e: case 0x13: case 0x2e: r.uleb(); break;     // one number
    case 0x0a: ++depth; break;                            // remember_state
    case 0x0b: if (--depth < 0) return false; break;      // restore_state
    case 0x10: case 0x16:                                 // register, expression
      if (!reg_ok(r.uleb()))
        return false;
      [[fallthrough]];
    case 0x0f: {                                          // expression
      uint64_t n = r.uleb();
      if (n > uint64_t(r.end - r.p))
        return false;
      r.p += n;
      r.link += n;
      break;
    }
    default: return false; // set_loc and anything unknown
    }
  }
  return r.ok;
}

// Reads a CIE: its augmentation, the encodings of its FDEs' pointers, and
// its initial instructions.
bool read_cie(Reader r, Cie &cie) {
  uint8_t version = r.u8();
  if (version != 1 && version != 3)
    return false;
  const unsigned char *aug = r.p;
  while (r.ok && r.u8() != 0) {
  }
  if (!r.ok)
    return false;
  std::string augmentation(reinterpret_cast<const char *>(aug));
  // x86-64: code alignment 1, data alignment -8 (sleb128 0x78), return
  // address in register 16; anything else unwinds wrongly.
  uint64_t code_align = r.uleb();
  uint8_t data_align = r.u8();
  uint64_t return_reg = version == 1 ? r.u8() : r.uleb();
  if (code_align != 1 || data_align != 0x78 || return_reg != 16)
    return false;
  if (!augmentation.empty()) {
    if (augmentation[0] != 'z')
      return false;
    cie.z = true;
    uint64_t aug_length = r.uleb();
    const unsigned char *aug_data = r.p;
    for (size_t i = 1; i < augmentation.size() && r.ok; ++i) {
      switch (augmentation[i]) {
      case 'R': cie.fde_enc = r.u8(); break;
      case 'L': cie.lsda_enc = r.u8(); break;
      case 'P': {
        uint8_t enc = r.u8();
        uint64_t personality;
        if (enc != kOmit && !r.pointer(enc & 0x7f, personality))
          return false;
        break;
      }
      case 'S': case 'B': break;
      default: return false;
      }
    }
    if (!r.ok || cie.fde_enc == kOmit || uint64_t(r.p - aug_data) != aug_length)
      return false;
  }
  // Every x86-64 CIE starts the same: CFA = rsp + 8, return address at
  // CFA - 8 (DW_CFA_def_cfa 7 8; DW_CFA_offset 16 1); padding follows.
  static const unsigned char initial[] = {0x0c, 0x07, 0x08, 0x90, 0x01};
  if (size_t(r.end - r.p) < sizeof initial || memcmp(r.p, initial, sizeof initial))
    return false;
  for (const unsigned char *p = r.p + sizeof initial; p < r.end; ++p)
    if (*p != 0)
      return false;
  return true;
}

// Reads an FDE of `cie`; its code range must be the patch's, its LSDA (if
// any) in the patch, the program or an earlier patch, its instructions
// sound.
std::string read_fde(Reader r, const Cie &cie, bool (*in_code)(const void *, uint64_t, uint64_t),
                     bool (*known)(const void *, uint64_t, uint64_t), const void *ctx,
                     std::vector<CodeRange> &covered) {
  uint64_t begin, range;
  if (!r.pointer(cie.fde_enc, begin) || !r.pointer(cie.fde_enc & 0x0f, range))
    return "an FDE of its unwind table is malformed";
  if (!in_code(ctx, begin, range))
    return "its unwind table describes code that is not the patch's";
  if (cie.z) {
    uint64_t n = r.uleb();
    if (!r.ok || n > uint64_t(r.end - r.p))
      return "an FDE of its unwind table is malformed";
    Reader aug{r.p, r.p + n, r.link};
    uint64_t lsda;
    if (cie.lsda_enc != kOmit && n &&
        (!aug.pointer(cie.lsda_enc, lsda) || (lsda && !known(ctx, lsda, 1))))
      return "an FDE of its unwind table names exception tables outside the patch, the program "
             "and the patches before it";
    r.p += n;
    r.link += n;
  }
  if (!check_instructions(r, range))
    return "an FDE of its unwind table has instructions this runtime does not accept";
  covered.push_back({begin, range});
  return "";
}

std::string check_one(const ImageSection &s, const unsigned char *bytes,
                      bool (*in_code)(const void *, uint64_t, uint64_t),
                      bool (*known)(const void *, uint64_t, uint64_t), const void *ctx,
                      bool &terminated, std::vector<CodeRange> &covered) {
  std::map<uint64_t, Cie> cies; // by offset in the section
  uint64_t size = s.hdr.sh_size, off = 0;
  terminated = false;
  while (off < size) {
    if (size - off < 4)
      return "a record of its unwind table is cut short";
    uint32_t length;
    memcpy(&length, bytes + off, 4);
    if (length == 0) {
      terminated = true;
      return "";
    }
    if (length == 0xffffffffu)
      return "its unwind table has a 64-bit record, which this runtime does not read";
    if (length < 4 || length > size - off - 4)
      return "a record of its unwind table runs past the table";
    uint32_t id;
    memcpy(&id, bytes + off + 4, 4);
    Reader r{bytes + off + 8, bytes + off + 4 + length, s.hdr.sh_addr + off + 8};
    if (id == 0) {
      Cie cie;
      if (!read_cie(r, cie))
        return "a CIE of its unwind table is malformed";
      cies[off] = cie;
    } else {
      uint64_t cie = off + 4 - id; // the id is the distance back to the CIE
      auto it = id <= off + 4 ? cies.find(cie) : cies.end();
      if (it == cies.end())
        return "an FDE of its unwind table names no CIE of the table";
      std::string err = read_fde(r, it->second, in_code, known, ctx, covered);
      if (!err.empty())
        return err;
    }
    off += 4 + uint64_t(length);
  }
  return "";
}

} // namespace

std::string check_unwind(const PatchImage &image,
                         const unsigned char *(*mapped)(const void *, uint64_t, uint64_t),
                         bool (*in_code)(const void *, uint64_t, uint64_t),
                         bool (*known)(const void *, uint64_t, uint64_t), const void *ctx,
                         std::vector<UnwindTable> &out, std::vector<CodeRange> &covered) {
  for (const ImageSection &s : image.sections) {
    if (s.name != ".eh_frame" || !(s.hdr.sh_flags & SHF_ALLOC) || s.hdr.sh_size == 0)
      continue;
    const unsigned char *bytes = mapped(ctx, s.hdr.sh_addr, s.hdr.sh_size);
    if (!bytes)
      return "its unwind table lies outside its segments";
    bool terminated;
    std::string err = check_one(s, bytes, in_code, known, ctx, terminated, covered);
    if (!err.empty())
      return err;
    if (!terminated) {
      // The unwinder stops at a zero length: it must follow the table.
      const unsigned char *after = mapped(ctx, s.hdr.sh_addr + s.hdr.sh_size, 4);
      uint32_t zero = 1;
      if (after)
        memcpy(&zero, after, 4);
      if (zero != 0)
        return "its unwind table has no terminator";
    }
    out.push_back({s.hdr.sh_addr});
  }
  // A compiler describes each piece of code once: two records for the same
  // bytes mean one was moved, and the unwinder would pick either.
  std::vector<CodeRange> sorted = covered;
  std::sort(sorted.begin(), sorted.end(),
            [](const CodeRange &a, const CodeRange &b) { return a.begin < b.begin; });
  for (size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i].begin - sorted[i - 1].begin < sorted[i - 1].size)
      return "two of its unwind records describe the same code";
  return "";
}

UnwindRegistration::~UnwindRegistration() {
  if (!keep_)
    for (void *f : frames_)
      __deregister_frame(f);
}

void UnwindRegistration::add(void *eh_frame) {
  frames_.reserve(frames_.size() + 1); // cannot fail after registering
  __register_frame(eh_frame);
  frames_.push_back(eh_frame);
}

} // namespace hotpatch_rt
