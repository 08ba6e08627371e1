//===- ThinlinkServer.h - the resident thin linker -------------------------===//
//
// A thinlink-lld process that stays after a `thinlink --patch` and runs the
// next ones that the thinlink command hands it (ThinlinkProtocol.h), so that
// they pay neither LLVM's start-up nor a cold lld, and find the module cache
// mapped and the chain state read (docs/design.md, "The resident thin
// linker"). One request at a time, each in the client's working directory,
// umask and TMPDIR, writing to the client's own stdout and stderr.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_THINLINKSERVER_H
#define HOTPATCH_TOOLS_THINLINKSERVER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/raw_ostream.h"

namespace hotpatch {

/// Runs one thin link: its arguments (argv[0] first), the client's streams.
using ThinLinkRunner =
    llvm::function_ref<int(llvm::ArrayRef<const char *>, llvm::raw_ostream &, llvm::raw_ostream &)>;

/// Starts a resident thin linker for this thinlink-lld (Self: its path) in
/// the background, detached from this process's session and streams; it
/// warms itself with the thin link this process ran (Args, argv[0] first).
/// Quiet: without one, thin links run in the thinlink command as before.
void startThinLinkServer(const char *Self, llvm::ArrayRef<const char *> Args);

/// `thinlink-lld --serve-thin-links <socket dir> <key> [<dir> <thin link's
/// arguments...>]`: listens, runs the thin link given (in <dir>) up to lld's
/// link and no further (PatchOptions::WarmUpOnly: the cache mapped, lld
/// warm), then serves until idle for $HOTPATCH_THINLINK_IDLE_SECONDS
/// (default 600), until another server holds the key, or until CanGoOn says
/// lld cannot link again. AfterReply runs once the client has its answer:
/// what a thin link leaves to tidy up is done then, off the client's clock.
/// Returns the process's exit code.
int serveThinLinks(llvm::ArrayRef<const char *> Args, ThinLinkRunner Run,
                   llvm::function_ref<bool()> CanGoOn, llvm::function_ref<void()> AfterReply);

} // namespace hotpatch

#endif
