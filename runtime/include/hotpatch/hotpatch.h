/* hotpatch/hotpatch.h - the Hotpatch annotation and runtime API (C and C++).
 *
 * Mark a function hot so that the hotpatch.so Clang plugin routes every call
 * to it through a jump-table slot:
 *
 *     HOTPATCH int update(struct world *w, float dt);
 *
 * Without the plugin (or with another compiler) HOTPATCH is harmless: it is an
 * annotation nobody reads. Build with `-fplugin-arg-hotpatch-all` to make every
 * function defined in a file hot without annotating anything.
 *
 * The functions below are implemented by the runtime library (CMake target
 * hotpatch::runtime, libhotpatch.so). They never abort the host process: each
 * returns a status, and hotpatch_last_error() describes the last failure of
 * the calling thread. All are thread-safe.
 */
#ifndef HOTPATCH_HOTPATCH_H
#define HOTPATCH_HOTPATCH_H

#include <stddef.h>
#include <stdint.h>

#if defined(__clang__)
#define HOTPATCH __attribute__((annotate("hotpatch")))
#else
#define HOTPATCH
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hotpatch_status {
  HOTPATCH_OK = 0,
  HOTPATCH_NOT_FOUND = 1,     /* no hot function has that name */
  HOTPATCH_AMBIGUOUS = 2,     /* several file-local functions share the name:
                                 qualify it as "file:name" */
  HOTPATCH_INVALID_ARGUMENT = 3,
  HOTPATCH_TABLE_CORRUPT = 4, /* an image registered a malformed table */
  HOTPATCH_BUFFER_TOO_SMALL = 5,
  HOTPATCH_BAD_PATCH = 6,     /* unreadable, truncated, corrupted or malformed */
  HOTPATCH_WRONG_BUILD = 7,   /* made for another build of the program */
  HOTPATCH_CHAIN_ORDER = 8,   /* patches of a chain must be applied in order */
  HOTPATCH_MAP_FAILED = 9,    /* the patch's address range is taken */
  HOTPATCH_UNRESOLVED = 10    /* a symbol the patch needs is not in the process */
} hotpatch_status;

/* A readable name for a status ("not found", ...). Never NULL. */
const char *hotpatch_status_string(hotpatch_status status);

/* The message of the last failed call on this thread, naming the symbol and
 * what to do; "" if none. Valid until the next call on this thread. */
const char *hotpatch_last_error(void);

typedef struct hotpatch_function_info {
  const char *name;    /* mangled name */
  const char *unit;    /* source file of the defining object */
  void *current;       /* where calls go now */
  void *original;      /* the original body */
  void *symbol;        /* the public symbol (the thunk in thunk modes) */
  unsigned flags;      /* HOTPATCH_ENTRY_* from hotpatch/slot_table.h */
  int redirected;      /* current != original */
  int unpatched_copy;  /* a copy of the function emitted by a file built
                          without the plugin won at link time: calls from
                          such files and pointers to it are not redirected */
} hotpatch_function_info;

/* Number of hot functions in the process (one per slot). */
size_t hotpatch_count(void);

/* Fills up to `capacity` entries of `out`, sorted by name, and sets *count to
 * the number of hot functions. Returns HOTPATCH_BUFFER_TOO_SMALL (having
 * filled `capacity` entries) when there are more. */
hotpatch_status hotpatch_list(hotpatch_function_info *out, size_t capacity,
                              size_t *count);

/* Looks up one hot function. `symbol` is a mangled name, or "file:name" for
 * a file-local function whose name is not unique. */
hotpatch_status hotpatch_lookup(const char *symbol, hotpatch_function_info *out);

/* Points the hot function `symbol` at `address`, a function with the same
 * signature, with one release store per slot. Threads already executing the
 * old code finish in it; calls that start after the store run `address`. */
hotpatch_status hotpatch_redirect(const char *symbol, void *address);

/* Points `symbol` back at its original body. */
hotpatch_status hotpatch_restore(const char *symbol);

/* Points every hot function back at its original body. */
void hotpatch_restore_all(void);

/* Number of hot functions whose winning copy is not the plugin's thunk (see
 * unpatched_copy). When `report` is non-zero, prints one warning line per
 * such function to stderr. */
size_t hotpatch_check_unpatched(int report);

/* ---- Patches ---------------------------------------------------------- */

typedef struct hotpatch_apply_result {
  unsigned chain_index;    /* position of the patch in its chain (1, 2, ...) */
  unsigned functions;      /* slots published */
  double check_ms;         /* reading and checking the file */
  double map_ms;           /* mapping and relocating */
  double total_ms;         /* everything, publication and hooks included */
} hotpatch_apply_result;

/* Applies a patch file written by `thinlink --patch` for this very build of
 * the program. All or nothing: the file is checked (format, checksum,
 * build-id, chain position, that every segment and relocation stays inside
 * the patch's own mapping, that no page is writable and executable), mapped
 * at its fixed distance below the program, relocated, its unwind information
 * registered, and only then are the slots published, one release store
 * each, and the hooks run. On any failure nothing is published, the program
 * keeps running its current code, and hotpatch_last_error() says why.
 * Patches are never unmapped: threads inside replaced code finish there. */
hotpatch_status hotpatch_apply_file(const char *path, hotpatch_apply_result *result);

/* Number of patches applied so far. */
unsigned hotpatch_patch_count(void);

/* Called after every applied patch, on the thread that applied it, with the
 * patch's chain index: rebuild caches, redraw. At most 32 hooks. */
typedef void (*hotpatch_hook)(unsigned chain_index, void *user);
hotpatch_status hotpatch_add_hook(hotpatch_hook hook, void *user);

/* Events that `hotpatch dev` announces to the running program (through the
 * control socket) around patches and rebuilds. */
typedef enum hotpatch_event {
  HOTPATCH_EVENT_PATCH_STARTING = 1,   /* a patch is about to be applied */
  HOTPATCH_EVENT_PATCH_APPLIED = 2,    /* a patch was applied (hooks run too) */
  HOTPATCH_EVENT_REBUILD_STARTING = 3, /* a change cannot be patched: full rebuild */
  HOTPATCH_EVENT_REBUILD_FAILED = 4,   /* the full rebuild failed: message says why */
  HOTPATCH_EVENT_RESTART_NEEDED = 5,   /* the program will be stopped and restarted */
  HOTPATCH_EVENT_SHUTDOWN = 6          /* hotpatch dev is stopping */
} hotpatch_event;

typedef void (*hotpatch_event_hook)(hotpatch_event event, const char *message, void *user);

/* Called for each event: on the runtime's control-socket thread that serves
 * the request for events that arrive through the control socket (requests
 * of several clients are served at once, so hooks may run concurrently), on
 * the applying thread for patch-applied. At most 32. */
hotpatch_status hotpatch_add_event_hook(hotpatch_event_hook hook, void *user);

/* Delivers an event to the event hooks, as the control socket does. */
void hotpatch_post_event(hotpatch_event event, const char *message);

/* The newest version of a function: for a hot function, where its slot
 * points now; for a function that is not hot, the newest body a patch
 * brought. NULL (and a message) if it is neither hot nor patched, in which
 * case the function's own address is the newest. Cast to the function's type
 * to call it: the C form of hotpatch::call. */
void *hotpatch_current(const char *symbol);

/* Where an address of patched code is: the patch that brought it (its
 * number in its image's chain), that image, the function and the offset in
 * it, and the source file and line of that instruction when the patch was
 * built with debug info (-g). For a crash handler, and the runtime's own
 * messages. */
typedef struct hotpatch_address_info {
  unsigned patch;       /* 1-based, in the chain of `image` */
  const char *image;    /* the program's or the library's path */
  const char *function; /* mangled name */
  uintptr_t offset;     /* from the function's start */
  const char *file;     /* the source file's path; NULL: not known (no -g) */
  unsigned line;        /* 1-based; 0: not known */
} hotpatch_address_info;

/* HOTPATCH_OK and `out` filled if `addr` lies in a function a patch
 * brought; HOTPATCH_NOT_FOUND otherwise. Does not allocate: safe to call
 * from a signal handler once no patch is being applied. */
hotpatch_status hotpatch_describe_address(const void *addr, hotpatch_address_info *out);

/* The name of this process's control socket: "@" and its abstract name
 * (see hotpatch/control_protocol.h), or "" when the runtime is disabled
 * with HOTPATCH_DISABLE=1 or could not listen. */
const char *hotpatch_socket_path(void);

#ifdef __cplusplus
}

namespace hotpatch {
/* Calls the newest version of `fn` (named by its mangled `symbol`, hot or
 * not) with `args`; falls back to `fn` itself when no patch changed it. */
template <class R, class... P, class... A>
R call(const char *symbol, R (*fn)(P...), A &&...args) {
  void *current = hotpatch_current(symbol);
  auto target = current ? reinterpret_cast<R (*)(P...)>(current) : fn;
  return target(static_cast<A &&>(args)...);
}
} // namespace hotpatch
#endif

#endif /* HOTPATCH_HOTPATCH_H */
