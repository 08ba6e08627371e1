//===- DevCommands.cpp - which command builds which object, from what ----===//
#include "DevCommands.h"

#include "ModuleCache.h" // absolutePath

#include "clang/Tooling/JSONCompilationDatabase.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace hotpatch {

static bool isSystemFile(StringRef F) { return F.starts_with("/usr/"); }

std::string depfileOf(const CompileCommand &C) {
  for (size_t I = 0; I + 1 < C.Args.size(); ++I)
    if (C.Args[I] == "-MF")
      return absolutePath(C.Args[I + 1], C.Directory);
  return C.Object + ".d";
}

std::vector<std::string> readDepfile(StringRef Path, StringRef Dir) {
  std::vector<std::string> Deps;
  auto Buf = MemoryBuffer::getFile(Path);
  if (!Buf)
    return Deps;
  StringRef Text = (*Buf)->getBuffer();
  size_t Colon = Text.find(": ");
  if (Colon == StringRef::npos)
    return Deps;
  std::string Cur;
  auto Flush = [&] {
    if (!Cur.empty())
      Deps.push_back(absolutePath(Cur, Dir)), Cur.clear();
  };
  for (size_t I = Colon + 2; I < Text.size(); ++I) {
    char C = Text[I];
    if (C == '\\' && I + 1 < Text.size() && (Text[I + 1] == '\n' || Text[I + 1] == ' ')) {
      if (Text[++I] == ' ')
        Cur += ' ';
      else
        Flush();
      continue;
    }
    // The first rule ends at its first unescaped newline; what follows
    // (-MP's "header:" rules) names no further input.
    if (C == '\n')
      break;
    if (C == ' ' || C == '\t')
      Flush();
    else
      Cur += C;
  }
  Flush();
  return Deps;
}

bool BuildGraph::load(StringRef BuildDir) {
  std::string Path = (BuildDir + "/compile_commands.json").str();
  if (!sys::fs::exists(Path)) {
    errs() << "hotpatch dev: error: cannot read " << Path
           << ": no such file; configure the build with CMAKE_EXPORT_COMPILE_COMMANDS=ON "
              "(hotpatch_enable() does) and pass its directory with -p\n";
    return false;
  }
  // Clang's own reader: "arguments" or "command" (split as the shell would),
  // "output" when the build system wrote it.
  std::string Err;
  auto DB = clang::tooling::JSONCompilationDatabase::loadFromFile(
      Path, Err, clang::tooling::JSONCommandLineSyntax::Gnu);
  if (!DB) {
    errs() << "hotpatch dev: error: " << Err << "\n";
    return false;
  }
  Commands.clear();
  ByObject.clear();
  Readers.clear();
  NewFiles.clear();
  for (const clang::tooling::CompileCommand &CC : DB->getAllCompileCommands()) {
    CompileCommand C;
    C.Directory = CC.Directory;
    C.Source = absolutePath(CC.Filename, C.Directory);
    C.Args = CC.CommandLine;
    for (size_t I = 0; I + 1 < C.Args.size(); ++I)
      if (C.Args[I] == "-o")
        C.Object = absolutePath(C.Args[I + 1], C.Directory);
    if (!CC.Output.empty())
      C.Object = absolutePath(CC.Output, C.Directory);
    if (C.Args.empty() || C.Object.empty())
      continue;
    CompileCommand &Kept = Commands.emplace_back(std::move(C));
    ByObject[Kept.Object] = &Kept;
    add(Kept, Kept.Source);
    for (const std::string &D : readDepfile(depfileOf(Kept), Kept.Directory))
      add(Kept, D);
  }
  if (Commands.empty()) {
    errs() << "hotpatch dev: error: " << Path << " has no compile commands\n";
    return false;
  }
  readNinjaDeps(BuildDir);
  return true;
}

bool BuildGraph::sameCommands(const BuildGraph &Other) const {
  if (Other.Commands.size() != Commands.size())
    return false;
  for (const CompileCommand &C : Commands) {
    auto It = Other.ByObject.find(C.Object);
    if (It == Other.ByObject.end() || It->second->Source != C.Source ||
        It->second->Directory != C.Directory || It->second->Args != C.Args)
      return false;
  }
  return true;
}

void BuildGraph::add(CompileCommand &C, const std::string &File) {
  if (isSystemFile(File) || !C.Deps.insert(File).second)
    return;
  auto &R = Readers[File];
  if (R.empty())
    NewFiles.push_back(File);
  R.insert(&C);
}

/// Ninja keeps the depfiles it reads in its own log: ask it, once.
void BuildGraph::readNinjaDeps(StringRef BuildDir) {
  if (!sys::fs::exists(BuildDir + "/build.ninja"))
    return;
  auto Ninja = sys::findProgramByName("ninja");
  if (!Ninja)
    return;
  SmallString<128> OutFile;
  sys::fs::createTemporaryFile("hotpatch-deps", "txt", OutFile);
  std::optional<StringRef> Redirects[] = {std::nullopt, StringRef(OutFile), StringRef("")};
  std::vector<StringRef> Args = {*Ninja, "-C", BuildDir, "-t", "deps"};
  sys::ExecuteAndWait(*Ninja, Args, std::nullopt, Redirects);
  auto Buf = MemoryBuffer::getFile(OutFile);
  sys::fs::remove(OutFile);
  if (!Buf)
    return;
  CompileCommand *Cur = nullptr;
  for (StringRef Line : split((*Buf)->getBuffer(), '\n')) {
    if (Line.empty())
      continue;
    if (!Line.starts_with(" ")) {
      auto It = ByObject.find(absolutePath(Line.split(':').first, BuildDir));
      Cur = It == ByObject.end() ? nullptr : It->second;
    } else if (Cur) {
      add(*Cur, absolutePath(Line.trim(), BuildDir));
    }
  }
}

std::vector<CompileCommand *> BuildGraph::affectedBy(const std::set<std::string> &Files) {
  std::set<CompileCommand *> Seen;
  std::vector<CompileCommand *> Affected;
  for (const std::string &F : Files) {
    auto It = Readers.find(F);
    if (It == Readers.end())
      continue;
    for (CompileCommand *C : It->second)
      if (Seen.insert(C).second)
        Affected.push_back(C);
  }
  return Affected;
}

void BuildGraph::update(CompileCommand &C, const std::set<std::string> &Read) {
  if (Read.empty())
    return; // nothing known: keep what was known
  std::set<std::string> Now = {C.Source};
  for (const std::string &F : Read)
    if (!isSystemFile(F))
      Now.insert(F);
  for (const std::string &Old : C.Deps)
    if (!Now.count(Old)) {
      auto It = Readers.find(Old);
      It->second.erase(&C);
      if (It->second.empty())
        Readers.erase(It); // its directory stays watched: cheap, and it may come back
    }
  std::set<std::string> Before;
  Before.swap(C.Deps);
  for (const std::string &F : Now)
    if (Before.count(F))
      C.Deps.insert(F);
    else
      add(C, F);
}

std::vector<std::string> BuildGraph::takeNewFiles() {
  std::vector<std::string> Files;
  Files.swap(NewFiles);
  return Files;
}

} // namespace hotpatch
