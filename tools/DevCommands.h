//===- DevCommands.h - which command builds which object, from what ------===//
//
// hotpatch dev's picture of the build: the compile commands of
// compile_commands.json and, per command, the files it depends on (its
// source and the headers it read), with the reverse map from a file to the
// commands that read it. Read once when hotpatch dev starts (every depfile,
// and Ninja's own record); after that, a compile updates only its own
// command's entry, from what that compile read: the cost of a save follows
// the saved file, not the size of the build.
//
//===----------------------------------------------------------------------===//
#ifndef HOTPATCH_TOOLS_DEVCOMMANDS_H
#define HOTPATCH_TOOLS_DEVCOMMANDS_H

#include "llvm/ADT/StringRef.h"

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace hotpatch {

struct CompileCommand {
  std::string Directory, Source, Object;
  std::vector<std::string> Args;
  std::set<std::string> Deps; // source + headers, absolute, without /usr
};

/// The depfile a command writes (`-MF`, else `<object>.d`).
std::string depfileOf(const CompileCommand &C);

/// The files of a Makefile-style depfile ("obj: dep dep \\\n dep"),
/// absolute (relative ones against Dir). Empty if it cannot be read.
std::vector<std::string> readDepfile(llvm::StringRef Path, llvm::StringRef Dir);

class BuildGraph {
public:
  /// Reads compile_commands.json in BuildDir and every command's
  /// dependencies: its depfile, and `ninja -t deps` for a Ninja build
  /// (CMake's Ninja generator keeps depfiles in .ninja_deps). Prints why
  /// not and returns false if there are no commands.
  bool load(llvm::StringRef BuildDir);

  /// The commands that depend on one of Files.
  std::vector<CompileCommand *> affectedBy(const std::set<std::string> &Files);

  /// After a compile of C: its dependencies are now Read (what the compile
  /// read; system headers under /usr are left out, they are not edited).
  void update(CompileCommand &C, const std::set<std::string> &Read);

  /// Files that became dependencies since the last call (all of them after
  /// load()): what the watcher has to add.
  std::vector<std::string> takeNewFiles();

  std::deque<CompileCommand> &commands() { return Commands; }

  /// Whether Other has the same commands (the same objects, each from the
  /// same source and directory with the same arguments), in any order.
  bool sameCommands(const BuildGraph &Other) const;

private:
  void add(CompileCommand &C, const std::string &File);
  void readNinjaDeps(llvm::StringRef BuildDir);

  std::deque<CompileCommand> Commands; // stable addresses
  std::map<std::string, CompileCommand *> ByObject;
  std::map<std::string, std::set<CompileCommand *>> Readers; // file -> commands
  std::vector<std::string> NewFiles;
};

} // namespace hotpatch

#endif
