//===- Invocation.h - a compile command as a CompilerInvocation -----------===//
//
// Turns one compile command of compile_commands.json into what Clang's cc1
// would have run, by running Clang's own driver in process: the same
// CompilerInvocation the command-line clang builds. Or says why the command
// cannot be honoured in process (another compiler, a wrapper, options the
// driver refuses, more than one compile job, ...), so that the caller runs
// the command itself.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_COMPILER_INVOCATION_H
#define HOTPATCH_COMPILER_INVOCATION_H

#include "clang/Frontend/CompilerInvocation.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/VirtualFileSystem.h"

#include <memory>
#include <string>
#include <vector>

namespace hotpatch {

/// One compile command, as compile_commands.json gives it.
struct CompileCommandLine {
  std::string Directory;         // where the command runs
  std::string Source;            // absolute
  std::string Object;            // absolute: where the build expects the object
  std::vector<std::string> Args; // Args[0] is the compiler
};

/// What the resident compiler needs to compile a command in process.
struct ResidentInvocation {
  std::shared_ptr<clang::CompilerInvocation> Invocation;
  /// A view of the real file system whose working directory is the
  /// command's: every relative path of the command resolves as it would in
  /// its own process, without changing this process's working directory.
  llvm::IntrusiveRefCntPtr<llvm::vfs::FileSystem> FS;
  std::vector<std::string> Plugins; // -fplugin= libraries, real paths
};

/// The clang whose commands are compiled in process (real path).
llvm::StringRef residentClang();

/// Builds the invocation, or an error whose message is the reason the
/// command must run as a command ("ccache is a compiler wrapper", "unknown
/// argument '-foo'", ...).
llvm::Expected<ResidentInvocation> makeInvocation(const CompileCommandLine &C);

} // namespace hotpatch

#endif
