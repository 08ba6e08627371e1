//===- ChainState.cpp - read and write <program>.hpchain ------------------===//
#include "ChainState.h"

#include "ModuleCache.h"

#include "hotpatch/journal_format.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <mutex>
#include <unistd.h>
#include <optional>

using namespace llvm;

namespace hotpatch {

static Error corrupt(StringRef Path, const Twine &What) {
  return createStringError(inconvertibleErrorCode(),
                           "chain state '" + Path + "' is corrupted (" + What +
                               "); delete it, rebuild the program and restart it");
}

static Expected<uint64_t> unsignedField(const json::Object &O, StringRef Key,
                                        StringRef Where, StringRef Path) {
  std::optional<int64_t> V = O.getInteger(Key);
  if (!V || *V < 0)
    return corrupt(Path, Where + ": '" + Key + "' is not a non-negative integer");
  return uint64_t(*V);
}

Expected<ChainState> ChainState::parse(StringRef Text, StringRef Path) {
  auto V = json::parse(Text);
  if (!V)
    return corrupt(Path, toString(V.takeError()));
  const json::Object *O = V->getAsObject();
  if (!O)
    return corrupt(Path, "not a JSON object");
  if (O->getString("format").value_or("") != "hotpatch-chain")
    return corrupt(Path, "no \"format\": \"hotpatch-chain\"");
  std::optional<int64_t> Ver = O->getInteger("version");
  if (!Ver)
    return corrupt(Path, "no version");
  if (*Ver != Version)
    return createStringError(
        inconvertibleErrorCode(),
        "chain state '" + Path + "' has version " + Twine(*Ver) + ", this thinlink reads version " +
            Twine(Version) + ": it was written by another Hotpatch release; "
            "rebuild the program with this release and restart it");
  ChainState S;
  std::optional<StringRef> Id = O->getString("build_id");
  if (!Id)
    return corrupt(Path, "no build_id");
  S.BuildId = Id->str();
  auto Count = unsignedField(*O, "count", "top level", Path);
  if (!Count)
    return Count.takeError();
  if (*Count > UINT32_MAX)
    return corrupt(Path, "count out of range");
  S.Count = *Count;
  // Absent from chains written before patches were packed: the next patch
  // starts at the window's bottom, under the bands those used (a patch that
  // would overlap one is refused by the runtime, which never maps over
  // anything).
  if (O->get("next_free")) {
    auto Next = unsignedField(*O, "next_free", "top level", Path);
    if (!Next)
      return Next.takeError();
    S.NextFree = *Next;
  }
  const json::Object *Secs = O->getObject("sections");
  const json::Object *Globs = O->getObject("globals");
  if (!Secs || !Globs)
    return corrupt(Path, "no \"sections\" or \"globals\" object");
  for (const auto &[K, V] : *Secs) {
    const json::Object *P = V.getAsObject();
    std::string Where = ("section '" + K.str() + "'");
    if (!P)
      return corrupt(Path, Where + " is not an object");
    std::optional<StringRef> HashText = P->getString("hash");
    Placed Pl;
    if (!HashText || HashText->empty() || HashText->getAsInteger(16, Pl.Hash))
      return corrupt(Path, Where + ": 'hash' is not a hexadecimal number");
    auto A = unsignedField(*P, "address", Where, Path);
    if (!A)
      return A.takeError();
    auto Sz = unsignedField(*P, "size", Where, Path);
    if (!Sz)
      return Sz.takeError();
    Pl.Address = *A;
    Pl.Size = *Sz;
    S.Sections[K.str()] = Pl;
  }
  for (const auto &[K, V] : *Globs) {
    std::optional<int64_t> A = V.getAsInteger();
    if (!A || *A < 0)
      return corrupt(Path, "global '" + K.str() + "' has no address");
    S.Globals[K.str()] = uint64_t(*A);
  }
  return S;
}

namespace {
/// The chain state this process saved last, and the file it saved it to: a
/// long-running process (hotpatch dev) reads it back without parsing while
/// the file is still that one.
struct FileStamp {
  sys::fs::UniqueID Id;
  uint64_t Size = 0;
  sys::TimePoint<> MTime;
  bool operator==(const FileStamp &O) const {
    return Id == O.Id && Size == O.Size && MTime == O.MTime;
  }
};
std::optional<FileStamp> stampOf(StringRef Path) {
  sys::fs::file_status St;
  if (sys::fs::status(Path, St))
    return std::nullopt;
  return FileStamp{St.getUniqueID(), St.getSize(), St.getLastModificationTime()};
}
std::optional<ChainState::JournalStamp> journalStamp(StringRef Path, size_t Listed) {
  sys::fs::file_status St;
  if (sys::fs::status(Path, St))
    return std::nullopt;
  return ChainState::JournalStamp{St.getUniqueID(), St.getSize(),
                                  St.getLastModificationTime(), Listed};
}

/// Both files: the chain file and the journal that lists its patches.
struct SavedChain {
  std::string Path;
  FileStamp Chain, Journal;
  ChainState State;
};
std::mutex SavedLock;
std::optional<SavedChain> Saved;
} // namespace

Expected<ChainState> ChainState::load(StringRef Program, StringRef BuildId) {
  std::string Path = pathFor(Program);
  ChainState Empty;
  Empty.BuildId = BuildId.str();
  {
    std::lock_guard<std::mutex> G(SavedLock);
    if (Saved && Saved->Path == Path) {
      auto Chain = stampOf(Path), Journal = stampOf(journalPathFor(Program));
      if (Chain && Journal && *Chain == Saved->Chain && *Journal == Saved->Journal)
        return Saved->State.BuildId == BuildId ? Saved->State : Empty;
    }
  }
  auto Buf = MemoryBuffer::getFile(Path, /*IsText=*/false,
                                   /*RequiresNullTerminator=*/false);
  if (!Buf) {
    if (Buf.getError() == std::errc::no_such_file_or_directory)
      return Empty; // no patch yet
    return createStringError(Buf.getError(), "cannot read chain state '" + Path +
                                                 "': " + Buf.getError().message());
  }
  auto S = parse((*Buf)->getBuffer(), Path);
  if (!S)
    return S.takeError();
  if (S->BuildId != BuildId)
    return Empty; // made for an earlier build of the base: start a new chain
  if (Error E = S->readPatches(journalPathFor(Program), Path))
    return std::move(E);
  return S;
}

Error ChainState::readPatches(StringRef JournalPath, StringRef Path) {
  Patches.clear();
  if (Count == 0)
    return Error::success();
  auto Buf = MemoryBuffer::getFile(JournalPath, /*IsText=*/false,
                                   /*RequiresNullTerminator=*/false);
  if (!Buf)
    return corrupt(Path, "its " + Twine(Count) + " patches are listed in " + JournalPath +
                             ", which cannot be read (" + Buf.getError().message() + ")");
  SmallVector<StringRef, 0> Lines;
  (*Buf)->getBuffer().split(Lines, '\n', -1, /*KeepEmpty=*/false);
  std::string Head = (Twine(HOTPATCH_JOURNAL_MAGIC) + " " + Twine(HOTPATCH_JOURNAL_VERSION) +
                      " " + BuildId)
                         .str();
  if (Lines.empty() || Lines[0] != Head)
    return corrupt(Path, "the journal " + JournalPath + " is not this chain's");
  for (size_t I = 1; I < Lines.size(); ++I) {
    auto [Number, File] = Lines[I].split(' ');
    unsigned N = 0;
    if (Number.getAsInteger(10, N) || N != I || File.empty())
      return corrupt(Path, "line " + Twine(I + 1) + " of the journal " + JournalPath +
                               " is not '" + Twine(I) + " <patch file>'");
    Patches.push_back(File.str());
  }
  if (Patches.size() != Count)
    return corrupt(Path, "the journal " + JournalPath + " lists " + Twine(Patches.size()) +
                             " patch files for " + Twine(Count) + " patches");
  JournalSeen = journalStamp(JournalPath, Patches.size());
  return Error::success();
}

std::string ChainState::serialize() const {
  json::Object Secs, Globs;
  for (const auto &[K, P] : Sections)
    Secs[K] = json::Object{{"hash", utohexstr(P.Hash)},
                           {"address", int64_t(P.Address)},
                           {"size", int64_t(P.Size)}};
  for (const auto &[K, A] : Globals)
    Globs[K] = int64_t(A);
  json::Value V(json::Object{{"format", "hotpatch-chain"},
                             {"version", Version},
                             {"build_id", BuildId},
                             {"count", int64_t(Count)},
                             {"next_free", int64_t(NextFree)},
                             {"sections", std::move(Secs)},
                             {"globals", std::move(Globs)}});
  return formatv("{0:2}", V).str() + "\n";
}

std::string ChainState::journal() const {
  std::string J = (Twine(HOTPATCH_JOURNAL_MAGIC) + " " + Twine(HOTPATCH_JOURNAL_VERSION) +
                   " " + BuildId + "\n")
                      .str();
  for (size_t I = 0; I < Patches.size(); ++I)
    J += (Twine(I + 1) + " " + Patches[I] + "\n").str();
  return J;
}

std::string ChainState::journalPathFor(StringRef Program) {
  return (Program + HOTPATCH_JOURNAL_SUFFIX).str();
}

void ChainState::remove(StringRef Program) {
  {
    std::lock_guard<std::mutex> G(SavedLock);
    Saved.reset();
  }
  sys::fs::remove(pathFor(Program));
  sys::fs::remove(journalPathFor(Program));
}

Error ChainState::save(StringRef Program) const {
  std::string Text = serialize();
  std::string Path = pathFor(Program);
  {
    std::lock_guard<std::mutex> G(SavedLock);
    Saved.reset();
  }
  if (Error E = writeFileAtomically(Path, [&](raw_ostream &OS) { OS << Text; }))
    return E;

  std::string JPath = journalPathFor(Program);
  if (!appendToJournal(JPath)) {
    std::string J = journal();
    if (Error E = writeFileAtomically(JPath, [&](raw_ostream &OS) { OS << J; }))
      return E;
  }
  ChainState Now = *this;
  Now.JournalSeen = journalStamp(JPath, Patches.size());
  auto Chain = stampOf(Path), Journal = stampOf(JPath);
  if (Chain && Journal && Now.JournalSeen) {
    std::lock_guard<std::mutex> G(SavedLock);
    Saved = SavedChain{Path, *Chain, *Journal, Now};
  }
  return Error::success();
}

bool ChainState::appendToJournal(StringRef JPath) const {
  // Only the one line of a patch added to the journal this state read or
  // wrote, unchanged since. Written with one append: a process starting
  // meanwhile reads the journal with or without the line (the kernel updates
  // the size after the bytes); a write across a page boundary could show it
  // half, which the runtime reports as a patch it could not apply.
  if (!JournalSeen || Patches.empty() || JournalSeen->Listed + 1 != Patches.size())
    return false;
  auto Stamp = journalStamp(JPath, JournalSeen->Listed);
  if (!Stamp || Stamp->Id != JournalSeen->Id || Stamp->Size != JournalSeen->Size ||
      Stamp->MTime != JournalSeen->MTime)
    return false;
  std::string Line = (Twine(Patches.size()) + " " + Patches.back() + "\n").str();
  int FD;
  if (sys::fs::openFileForWrite(JPath, FD, sys::fs::CD_OpenExisting, sys::fs::OF_Append))
    return false;
  ssize_t N = ::write(FD, Line.data(), Line.size());
  ::close(FD);
  return N == ssize_t(Line.size());
}

std::string chainSectionKey(StringRef Object, StringRef Section, StringRef Group) {
  return (Object + "|" + Section + "|" + Group).str();
}

} // namespace hotpatch
