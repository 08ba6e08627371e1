/* hotpatch/control_protocol.h - the control socket contract.
 *
 * Spoken by the runtime (server_linux.cpp, control_protocol.cpp) and by the
 * `hotpatch` tool (tools/ControlClient.cpp, which links no LLVM). Change it
 * only together with HOTPATCH_CONTROL_VERSION.
 *
 * Where. Every process listens on a Unix stream socket in the abstract
 * namespace (no file: it disappears with the process, and no directory
 * exists that another user could create first):
 *
 *   "\0hotpatch/<uid>/<pid>"            (shown as @hotpatch/<uid>/<pid>)
 *
 * with <uid> the process's real uid and <pid> its pid as it sees it. Anyone
 * can bind any abstract name, so a name says nothing about who listens:
 *  - when the name is taken (another user bound it first, or a process of
 *    another pid namespace sharing this network namespace has the same
 *    pid), the runtime listens on "hotpatch/<uid>/<pid>.<16 hex digits>",
 *    random, instead;
 *  - clients find listeners in /proc/net/unix by the prefix
 *    "@hotpatch/<uid>/" and believe only SO_PEERCRED: a listener whose uid
 *    is not theirs is never sent anything, and a process's pid is the one
 *    the kernel reports, not the one in the name;
 *  - the runtime answers only peers of its own uid (SO_PEERCRED).
 *
 * What. One request per connection, one line each way ('\n'-terminated,
 * at most HOTPATCH_CONTROL_MAX_REQUEST bytes):
 *
 *   hello                  -> hotpatch <version> <pid> <build-id hex|-> <patches applied>
 *   apply <absolute path>  -> ok <chain index> <functions> <check ms> <map ms> <total ms>
 *                           | error <status>: <message>
 *   event <name> [message] -> ok            (after the program's event hooks ran)
 *
 * Event names: patch-starting, patch-applied, rebuild-starting,
 * rebuild-failed, restart-needed, shutdown. Any request may also be answered
 * "error busy: ..." (too many clients at once: ask again shortly) or
 * "error timeout: ..." (the request line did not arrive in time).
 * A client checks <version> in the reply to hello and talks to no process
 * of another version.
 */
#ifndef HOTPATCH_CONTROL_PROTOCOL_H
#define HOTPATCH_CONTROL_PROTOCOL_H

/* 1: sockets in /tmp/hotpatch-<uid>/; 2: abstract names, peers checked. */
#define HOTPATCH_CONTROL_VERSION 2u

/* The abstract socket name of a process, without the leading NUL:
 * printf(HOTPATCH_CONTROL_NAME_FORMAT, uid, pid). */
#define HOTPATCH_CONTROL_NAME_FORMAT "hotpatch/%u/%d"
/* Every name a process of user <uid> may listen on starts with this. */
#define HOTPATCH_CONTROL_PREFIX_FORMAT "hotpatch/%u/"

#define HOTPATCH_CONTROL_MAX_REQUEST 4096u
/* The runtime waits this long for a request line, and for its reply to be
 * taken. */
#define HOTPATCH_CONTROL_REQUEST_MS 5000
#define HOTPATCH_CONTROL_REPLY_MS 5000

#endif /* HOTPATCH_CONTROL_PROTOCOL_H */
