/* hotpatch/slot_table.h - the slot table contract.
 *
 * This header is the one definition of what the hotpatch.so plugin emits into
 * every object file and what the runtime and thinlink read back.
 * Change it only together with HOTPATCH_SLOT_TABLE_VERSION.
 *
 * For every hot function F (mangled name N) a plugin-built object contains:
 *
 *   N.hotpatch.slot   a pointer-sized, pointer-aligned writable global holding
 *                     the address calls to F jump to. For non-local F it is
 *                     linkonce_odr in its own COMDAT group, so the linker keeps
 *                     one per image and the dynamic linker merges the copies of
 *                     the executable and its shared libraries into one. For a
 *                     file-local F it is local to the object.
 *   N.hotpatch.body   the original body of F (thunk modes), the slot's
 *                     initial value.
 *   N                 in thunk modes, a thunk that jumps through the slot, so
 *                     every reference (function pointers, vtables, callers
 *                     built without the plugin) reaches the current code.
 *                     Thunks live in the section HOTPATCH_THUNK_SECTION.
 *   N.hotpatch.entry  one struct hotpatch_slot_entry in HOTPATCH_TABLE_SECTION.
 *
 * Both section names are C identifiers, so the static linker defines
 * __start_<name> and __stop_<name> for them in every image. Each plugin-built
 * object also carries one COMDAT constructor (kept once per image) that hands
 * the image's [__start, __stop) range of entries to hotpatch_register_table(),
 * declared weak: without the runtime, nothing happens.
 *
 * Slot stores are release stores; slot loads (call sites and thunks) are
 * acquire loads. On x86-64 both are plain moves.
 */
#ifndef HOTPATCH_SLOT_TABLE_H
#define HOTPATCH_SLOT_TABLE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HOTPATCH_SLOT_TABLE_VERSION 1u

#define HOTPATCH_TABLE_SECTION "hotpatch_table"
#define HOTPATCH_THUNK_SECTION "hotpatch_thunks"

/* Suffixes appended to the mangled name of a hot function. */
#define HOTPATCH_SLOT_SUFFIX ".hotpatch.slot"
#define HOTPATCH_BODY_SUFFIX ".hotpatch.body"
#define HOTPATCH_ENTRY_SUFFIX ".hotpatch.entry"

/* The per-image registration constructor and the runtime function it calls. */
#define HOTPATCH_MODULE_CTOR "hotpatch.module_ctor"
#define HOTPATCH_REGISTER_FN "hotpatch_register_table"

/* hotpatch_slot_entry.flags */
enum {
  /* F is file-local (static / anonymous namespace): `unit` names its file. */
  HOTPATCH_ENTRY_LOCAL = 1u << 0,
  /* F's public symbol is a thunk through the slot (modes thunk and both). */
  HOTPATCH_ENTRY_THUNK = 1u << 1,
  /* Calls in the defining file load the slot directly (modes callsite, both). */
  HOTPATCH_ENTRY_CALLSITE = 1u << 2,
  /* The thunk is a naked `jmp *slot` (by-value aggregate arguments). */
  HOTPATCH_ENTRY_NAKED_THUNK = 1u << 3,
  /* F was made hot by the HOTPATCH annotation, not by the `all` argument. */
  HOTPATCH_ENTRY_ANNOTATED = 1u << 4,
  /* F is an inline/template function that several objects may emit. */
  HOTPATCH_ENTRY_ODR = 1u << 5
};

/* One entry per hot function per object file (one per image after COMDAT
 * deduplication for non-local functions). 48 bytes on LP64. */
struct hotpatch_slot_entry {
  uint32_t version;   /* HOTPATCH_SLOT_TABLE_VERSION */
  uint32_t flags;     /* HOTPATCH_ENTRY_* */
  const char *name;   /* mangled name of F, NUL-terminated */
  void **slot;        /* the slot; accessed atomically */
  void *body;         /* original body: the slot's initial value */
  void *symbol;       /* address of the symbol N as the linker resolved it:
                         the thunk, unless a copy of F emitted by a file built
                         without the plugin won the COMDAT */
  const char *unit;   /* source file of the defining object */
};

/* Implemented by the runtime; called once per image from its constructor.
 * Registers entries [begin, end). Safe to call before main. */
void hotpatch_register_table(const struct hotpatch_slot_entry *begin,
                             const struct hotpatch_slot_entry *end);

/* Called by the same constructor with the image's thunk section range;
 * entries whose `symbol` lies outside every registered thunk range had their
 * thunk replaced by a copy built without the plugin. */
void hotpatch_register_thunks(const void *begin, const void *end);

#ifdef __cplusplus
}
#endif

#endif /* HOTPATCH_SLOT_TABLE_H */
