//===- ThinlinkProtocol.h - the thinlink command and its resident thin linker ===//
//
// The contract between `thinlink` (bin/, tools/thinlink.cpp: a small
// program without LLVM) and the resident thin linker, a thinlink-lld
// process (libexec/hotpatch/, tools/thinlink_lld.cpp) that stays after a
// `thinlink --patch` and serves the next ones over a Unix socket, with the
// module cache mapped and lld warm (docs/design.md, "The resident thin
// linker").
//
// Where: a directory of this user only (mode 0700, owned by the user, not a
// symbolic link): $HOTPATCH_THINLINK_SOCKET_DIR, else
// $XDG_RUNTIME_DIR/hotpatch, else /tmp/hotpatch-<uid>. In it, tl-<key>.sock
// and tl-<key>.lock, where <key> names the thinlink-lld file (device,
// inode, size, modification time): a rebuilt or reinstalled thinlink-lld
// never serves with the code of the one before. The server holds an
// exclusive flock on the .lock file for its whole life: one server a key.
//
// A request: one sendmsg carrying the client's stdout and stderr
// (SCM_RIGHTS) and the start of
//   "HPTL" <version> '\n' <payload length, decimal> '\n' <payload>
// where the payload is NUL-terminated fields: the working directory, the
// umask in octal, the count of environment entries, the entries
// ("NAME=value"), the argument count, then the arguments (argv[0] first). The server answers with lines:
//   "accepted\n"          it runs the thin link now (the client waits);
//   "exit <code>\n"       it ran; <code> is the command's exit code;
//   "refused <why>\n"     it ran nothing (another version, a malformed
//                         request): the client links in its own process.
// A connection that closes before "accepted" means the same as "refused";
// one that closes after it is an error that the client reports: the link
// may have written the patch and advanced the chain.
//
// Plain C++ and POSIX: both sides include it.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_THINLINKPROTOCOL_H
#define HOTPATCH_TOOLS_THINLINKPROTOCOL_H

#include <optional>
#include <string>
#include <vector>

namespace hotpatch::thinlink_server {

inline constexpr char kMagic[] = "HPTL";
inline constexpr unsigned kVersion = 1;
/// Bounds of a request that the server checks before it reads the rest.
inline constexpr size_t kMaxPayload = 16u << 20;
inline constexpr size_t kMaxFields = 1u << 20; // environment and arguments
/// A resident thin linker ends after this long without a request (seconds;
/// $HOTPATCH_THINLINK_IDLE_SECONDS changes it).
inline constexpr unsigned kDefaultIdleSeconds = 600;

struct Request {
  std::string Cwd;
  unsigned Umask = 022;
  std::vector<std::string> Env; // "NAME=value", the client's environment
  std::vector<std::string> Args;
};

/// Whether the resident thin linker may be used at all
/// ($HOTPATCH_THINLINK_SERVER=0 turns it off).
bool enabled();

/// The socket directory (see above), created if missing. Empty, with Why
/// set, when it cannot be made or is not this user's alone.
std::string socketDir(std::string &Why);

/// The key of the thinlink-lld file at Path; empty if it cannot be read.
std::string keyOf(const std::string &Path);

std::string socketPath(const std::string &Dir, const std::string &Key);
std::string lockPath(const std::string &Dir, const std::string &Key);

/// The request's bytes: the header line and the payload.
std::string encode(const Request &R);

/// Reads a payload (after its header). Empty, with Why set, when it is
/// malformed.
std::optional<Request> decodePayload(const std::string &Payload, std::string &Why);

/// Writes Bytes from From on to the socket Fd, whole; false if it closed.
bool sendAll(int Fd, const std::string &Bytes, size_t From = 0);

/// Parses the header line "HPTL <version>\n<length>\n" at the start of
/// Bytes. Returns the header's size, 0 if more bytes are needed, or -1 with
/// Why set.
long parseHeader(const std::string &Bytes, size_t &PayloadLength, std::string &Why);

} // namespace hotpatch::thinlink_server

#endif
