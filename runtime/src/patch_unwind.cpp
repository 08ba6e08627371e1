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

// Reads a CIE's augmentation; sets the encoding of its FDEs' addresses.
bool read_cie(Reader r, uint8_t &fde_enc) {
  uint8_t version = r.u8();
  if (version != 1 && version != 3)
    return false;
  const unsigned char *aug = r.p;
  while (r.ok && r.u8() != 0) {
  }
  if (!r.ok)
    return false;
  std::string augmentation(reinterpret_cast<const char *>(aug));
  r.uleb();                 // code alignment
  (void)r.uleb();           // data alignment (sleb: the bytes are what matter)
  version == 1 ? (void)r.u8() : (void)r.uleb(); // return address register
  fde_enc = kPtrAbs;
  if (augmentation.empty())
    return r.ok;
  if (augmentation[0] != 'z')
    return false;
  r.uleb(); // augmentation data length
  for (size_t i = 1; i < augmentation.size() && r.ok; ++i) {
    switch (augmentation[i]) {
    case 'R': fde_enc = r.u8(); break;
    case 'L': r.u8(); break;
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
  return r.ok && fde_enc != kOmit;
}

std::string check_one(const ImageSection &s, const unsigned char *bytes,
                      bool (*in_code)(const void *, uint64_t, uint64_t), const void *ctx,
                      bool &terminated) {
  std::map<uint64_t, uint8_t> cies; // offset in the section -> FDE encoding
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
      uint8_t enc;
      if (!read_cie(r, enc))
        return "a CIE of its unwind table is malformed";
      cies[off] = enc;
    } else {
      uint64_t cie = off + 4 - id; // the id is the distance back to the CIE
      auto it = id <= off + 4 ? cies.find(cie) : cies.end();
      if (it == cies.end())
        return "an FDE of its unwind table names no CIE of the table";
      uint64_t begin, range;
      if (!r.pointer(it->second, begin) || !r.pointer(it->second & 0x0f, range))
        return "an FDE of its unwind table is malformed";
      if (!in_code(ctx, begin, range))
        return "its unwind table describes code that is not the patch's";
    }
    off += 4 + uint64_t(length);
  }
  return "";
}

} // namespace

std::string check_unwind(const PatchImage &image,
                         const unsigned char *(*mapped)(const void *, uint64_t, uint64_t),
                         bool (*in_code)(const void *, uint64_t, uint64_t), const void *ctx,
                         std::vector<UnwindTable> &out) {
  for (const ImageSection &s : image.sections) {
    if (s.name != ".eh_frame" || !(s.hdr.sh_flags & SHF_ALLOC) || s.hdr.sh_size == 0)
      continue;
    const unsigned char *bytes = mapped(ctx, s.hdr.sh_addr, s.hdr.sh_size);
    if (!bytes)
      return "its unwind table lies outside its segments";
    bool terminated;
    std::string err = check_one(s, bytes, in_code, ctx, terminated);
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
