/* hotpatch/patch_format.h - the patch file contract.
 *
 * Written by `thinlink --patch`, read by the runtime. Change it only together
 * with HOTPATCH_PATCH_VERSION.
 *
 * A patch file is
 *
 *   struct hotpatch_patch_header      (72 bytes)
 *   struct hotpatch_patch_update[n]   (the slot updates, 32 bytes each)
 *   uint64_t initialisers[init_count] (patch addresses of the constructors of
 *                                      the globals the patch adds, in order)
 *   char strings[strings_size]        (NUL-terminated names, referenced by offset)
 *   ELF image[image_size]             (the patch, linked by lld; see below)
 *
 * and `checksum` is the FNV-1a 64 of every byte after the header.
 *
 * The base. `build_id` names the image the patch was made for: the
 * executable or a shared library the process loaded (at start or with
 * dlopen). Each image has its own chain of patches (chain_index counts the
 * patches of that image), placed relative to that image's load address. A
 * library's patch is linked as a shared object: its dynamic relocations
 * against the library's exported symbols are bound as the dynamic linker
 * bound the library's own (the global scope first, then the library), and
 * its thread-locals live in the library's TLS block (R_X86_64_DTPMOD64 names
 * the library's module).
 *
 * Addresses. The patch was linked in the base image's address space shifted
 * up by HOTPATCH_PATCH_BIAS: a base address A (link-time virtual address of
 * the base) is at A + HOTPATCH_PATCH_BIAS in the patch's ELF image, and the
 * patch's own segments lie below the bias, in the window where 32-bit
 * PC-relative references from the patch still reach the base. At run time,
 * with the base loaded at `load`, an address X of the patch image lives at
 * load + X - HOTPATCH_PATCH_BIAS. Because only the distance to the base
 * matters, one patch file applies to every running instance of the build,
 * whatever its ASLR slide.
 */
#ifndef HOTPATCH_PATCH_FORMAT_H
#define HOTPATCH_PATCH_FORMAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HOTPATCH_PATCH_MAGIC "HPPATCH"  /* 8 bytes with the NUL */
/* 2: the place of every RELATIVE relocation holds its addend. */
#define HOTPATCH_PATCH_VERSION 2u
#define HOTPATCH_PATCH_BIAS 0x80000000ull /* 2 GiB */

/* The patches of a chain share one window below the program,
 * [BIAS - GAP - WINDOW, BIAS - GAP) in patch-link addresses (64 MiB to
 * 1984 MiB below the program, where 32-bit PC-relative references from a
 * patch still reach all of it). They are packed upward in chain order: the
 * first at the window's bottom, each next one from the page after the
 * previous one's last segment (the thin link's chain state records where),
 * so a one-function patch takes the three pages of its three segments. The
 * runtime checks that every segment lies in the window; the mapping, made
 * with MAP_FIXED_NOREPLACE, cannot overlap an earlier patch. */
#define HOTPATCH_PATCH_GAP 0x4000000ull     /* 64 MiB */
#define HOTPATCH_PATCH_WINDOW 0x78000000ull /* 1920 MiB */

/* A shared library's patches cannot go below it, where the process maps
 * thread stacks and malloc arenas: thinlink gives each library that links
 * the runtime a patch area of its own, an uncommitted NOBITS section at the
 * end of its image between these two exported symbols, and the library's
 * patches are packed in it one after the other (page-aligned), each within
 * reach of the library's code. */
#define HOTPATCH_ARENA_BEGIN "__hotpatch_arena_begin"
#define HOTPATCH_ARENA_END "__hotpatch_arena_end"
#define HOTPATCH_ARENA_SIZE 0x4000000ull /* 64 MiB of address space */

struct hotpatch_patch_header {
  char magic[8];            /* HOTPATCH_PATCH_MAGIC */
  uint32_t version;         /* HOTPATCH_PATCH_VERSION */
  uint32_t chain_index;     /* 1 for the first patch of a base, 2 next, ... */
  uint8_t build_id[20];     /* the base's build-id, zero-padded */
  uint32_t build_id_size;
  uint32_t update_count;    /* struct hotpatch_patch_update records */
  uint32_t strings_size;
  uint64_t image_size;      /* bytes of the ELF image */
  uint64_t checksum;        /* FNV-1a 64 of everything after the header */
  uint32_t init_count;      /* initialisers to run before publishing */
  uint32_t reserved;        /* 0 */
};

/* One changed function: its slot (a patch-link address) gets the address
 * of the new body. A function that is not hot has no slot; the runtime
 * records its new address for hotpatch_current(). */
struct hotpatch_patch_update {
  uint64_t slot;            /* patch-link address (base addresses are biased) of the slot */
  uint64_t old_body;        /* base address of the body it replaces (0: new) */
  uint64_t new_body;        /* patch-image address of the new body */
  uint32_t name;            /* offset of the function's name in strings */
  uint32_t flags;           /* HOTPATCH_UPDATE_* */
};

enum {
  HOTPATCH_UPDATE_NEW_FUNCTION = 1u << 0, /* not in the base */
  HOTPATCH_UPDATE_NOT_HOT = 1u << 1,      /* no slot (slot == 0): only reachable
                                             through hotpatch_current() */
  HOTPATCH_UPDATE_INTERPOSABLE = 1u << 2, /* the slot is an exported symbol of a
                                             shared library: the dynamic linker
                                             may have bound every image to
                                             another image's copy, which is the
                                             one to write */
  HOTPATCH_UPDATE_VTABLE = 1u << 3        /* not a function: a vtable whose
                                             entries changed (an override added
                                             or removed) is rewritten in place,
                                             so that objects that exist call
                                             the new functions. `slot` is the
                                             running vtable (a base address in
                                             its read-only-after-relocation
                                             data), `new_body` the patch's
                                             relocated copy, `old_body` the
                                             size in bytes (a multiple of 8),
                                             `name` the vtable's symbol */
};

/* Source lines. When the rebuilt objects carry DWARF line tables, the image
 * has a section (not loaded) named HOTPATCH_LINES_SECTION: the rows of those
 * tables that lie in the patch's code, as the thin link resolved them, for
 * hotpatch_describe_address() (debuggers read the DWARF itself):
 *
 *   struct hotpatch_lines_header
 *   struct hotpatch_line rows[row_count]  (by address, ascending)
 *   char files[files_size]                (NUL-terminated paths)
 *
 * A row's line holds from its address to the next row's; line 0 ends a
 * sequence of code (no line there). Optional: a runtime that does not know
 * the section ignores it, so it came without a change of version. */
#define HOTPATCH_LINES_SECTION ".hotpatch_lines"

struct hotpatch_lines_header {
  uint32_t row_count;
  uint32_t files_size;
};

struct hotpatch_line {
  uint64_t addr;            /* patch-image address, in an executable segment
                               (or at its end, for a row of line 0) */
  uint32_t file;            /* offset of the file's path in files */
  uint32_t line;            /* 1-based; 0: the end of a sequence */
};

/* The checksum of a patch file: FNV-1a 64 of the bytes after the header. */
static inline uint64_t hotpatch_patch_checksum(const unsigned char *p, uint64_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t i = 0; i < n; ++i)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

#ifdef __cplusplus
}
#endif

#endif /* HOTPATCH_PATCH_FORMAT_H */
