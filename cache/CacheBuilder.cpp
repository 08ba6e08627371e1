//===- CacheBuilder.cpp - describe a linked image for later thin links ----===//
//
// In two steps. Taking a snapshot (LinkSnapshot::take) is quick and done
// before thinlink returns to the build: the output is mapped (links replace
// it by renaming) and the inputs lld's --trace listed are copied into memory
// (a compile may rewrite one in place), the plain objects into one arena of
// huge pages (InputArena.cpp). Describing it is the costly part: the image
// is read (ImageReader.cpp) and every input object is hashed on its own, in
// parallel (ObjectHasher.cpp); the results are then put in link order, which
// decides COMDAT winners, and each record layout is kept from the first
// input that has it (RecordLayouts.cpp).
//
//===----------------------------------------------------------------------===//
#include "CacheBuilder.h"
#include "ImageReader.h"
#include "InputArena.h"

#include "llvm/BinaryFormat/ELF.h"
#include "llvm/BinaryFormat/Magic.h"
#include "llvm/Object/Archive.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Parallel.h"

#include <optional>
#include <set>

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {

bool parseTraceLine(StringRef Line, TracedInput &Out) {
  Line = Line.trim();
  if (Line.empty())
    return false;
  Out = TracedInput();
  if (Line.ends_with(")")) {
    // "lib.a(member)": the archive is the first prefix before a '(' that is
    // a file (a directory's name or the member's may hold parentheses too).
    for (size_t Open = Line.find('('); Open != StringRef::npos; Open = Line.find('(', Open + 1)) {
      StringRef Archive = Line.take_front(Open);
      if (Open > 0 && sys::fs::is_regular_file(Archive)) {
        Out.Path = Archive.str();
        Out.Member = Line.slice(Open + 1, Line.size() - 1).str();
        return true;
      }
    }
  }
  if (!sys::fs::is_regular_file(Line))
    return false;
  Out.Path = Line.str();
  return true;
}

struct LinkSnapshot::Impl {
  std::string Output;
  std::unique_ptr<MemoryBuffer> OutputBuffer;
  struct Job {
    std::string Path, Member;
    MemoryBufferRef Ref;
    std::optional<InputFile> Result;
    std::string Error;
  };
  std::vector<Job> Jobs;
  std::vector<std::unique_ptr<MemoryBuffer>> Buffers;
  std::vector<std::unique_ptr<Archive>> Archives;
  /// The plain objects' copies, one after the other (InputArena).
  std::unique_ptr<InputArena> Arena;
};

/// The file's bytes as they are now, in heap memory: never a mapping, which
/// would show whatever is written to the file later. (MemoryBuffer maps a
/// file of 16 KiB or more even when it is marked volatile, unless a null
/// terminator is asked for too.)
static ErrorOr<std::unique_ptr<MemoryBuffer>> readIntoMemory(const Twine &Path) {
  return MemoryBuffer::getFile(Path, /*IsText=*/false,
                               /*RequiresNullTerminator=*/true,
                               /*IsVolatile=*/true);
}

LinkSnapshot::LinkSnapshot() : I(std::make_unique<Impl>()) {}
LinkSnapshot::~LinkSnapshot() = default;

Expected<std::unique_ptr<LinkSnapshot>>
LinkSnapshot::take(StringRef Output, ArrayRef<TracedInput> Inputs,
                   StringRef WorkingDirectory) {
  auto S = std::unique_ptr<LinkSnapshot>(new LinkSnapshot());
  Impl &I = *S->I;
  I.Output = absolutePath(Output, WorkingDirectory);
  // The output is renamed into place by every link, so a mapping of this one
  // stays intact; inputs may be rewritten in place by the next compile (`cp`
  // over an object truncates and rewrites the same inode), so they are
  // copied into memory now, before thinlink returns to the build.
  auto Buf = MemoryBuffer::getFile(Output, /*IsText=*/false,
                                   /*RequiresNullTerminator=*/false);
  if (!Buf)
    return createStringError(Buf.getError(), "cannot read the linked output '" +
                                                 Output + "': " +
                                                 Buf.getError().message());
  I.OutputBuffer = std::move(*Buf);
  StringMap<Archive *> Archives;
  std::vector<uint64_t> Sizes(Inputs.size(), 0);
  uint64_t Total = 0;
  for (size_t K = 0; K < Inputs.size(); ++K)
    if (Inputs[K].Member.empty() &&
        !sys::fs::file_size(absolutePath(Inputs[K].Path, WorkingDirectory), Sizes[K]))
      Total += (Sizes[K] + 15) & ~uint64_t(15);
  I.Arena = std::make_unique<InputArena>(Total);
  for (size_t K = 0; K < Inputs.size(); ++K) {
    const TracedInput &T = Inputs[K];
    Impl::Job J;
    J.Path = absolutePath(T.Path, WorkingDirectory);
    J.Member = T.Member;
    if (T.Member.empty()) {
      if (std::optional<StringRef> Bytes = I.Arena->copy(J.Path, Sizes[K])) {
        J.Ref = MemoryBufferRef(*Bytes, J.Path);
      } else {
        auto B = readIntoMemory(J.Path);
        if (!B)
          continue; // gone since the link: nothing to describe
        J.Ref = (*B)->getMemBufferRef();
        I.Buffers.push_back(std::move(*B));
      }
    } else {
      Archive *&A = Archives[J.Path];
      if (!A) {
        auto B = readIntoMemory(J.Path);
        if (!B)
          continue;
        auto AOrErr = Archive::create((*B)->getMemBufferRef());
        if (!AOrErr) {
          consumeError(AOrErr.takeError());
          continue;
        }
        I.Buffers.push_back(std::move(*B));
        I.Archives.push_back(std::move(*AOrErr));
        A = I.Archives.back().get();
      }
      Error Err = Error::success();
      for (const Archive::Child &Child : A->children(Err)) {
        auto Name = Child.getName();
        if (!Name || *Name != T.Member) {
          if (!Name)
            consumeError(Name.takeError());
          continue;
        }
        auto MB = Child.getMemoryBufferRef();
        if (MB)
          J.Ref = *MB;
        else
          consumeError(MB.takeError());
        break;
      }
      if (Err)
        return std::move(Err);
    }
    if (!J.Ref.getBufferSize() ||
        identify_magic(J.Ref.getBuffer()) != file_magic::elf_relocatable)
      continue; // shared libraries, scripts, bitcode: not hashed
    I.Jobs.push_back(std::move(J));
  }
  return std::move(S);
}

Expected<ModuleCache> LinkSnapshot::describe(ArrayRef<std::string> LinkArgs,
                                             StringRef WorkingDirectory) {
  ModuleCache C;
  C.Output = I->Output;
  C.WorkingDirectory = WorkingDirectory.str();
  C.LinkArgs.assign(LinkArgs.begin(), LinkArgs.end());
  auto Img = ELFFile<ELF64LE>::create(I->OutputBuffer->getBuffer());
  if (!Img)
    return Img.takeError();
  if (Img->getHeader().e_machine != ELF::EM_X86_64)
    return createStringError(inconvertibleErrorCode(),
                             "thinlink supports x86-64 ELF images only");
  if (Error E = readImage(*Img, C))
    return std::move(E);

  // Every input is hashed on its own, in parallel; the results are then put
  // in link order, which decides COMDAT winners.
  parallelFor(0, I->Jobs.size(), [&](size_t K) {
    Impl::Job &J = I->Jobs[K];
    auto In = hashObject(J.Ref, J.Path, J.Member);
    if (In)
      J.Result = std::move(*In);
    else
      J.Error = toString(In.takeError());
  });
  StringMap<uint32_t> SeenGroups;
  std::set<std::string> SeenLayouts;
  for (Impl::Job &J : I->Jobs) {
    if (!J.Result)
      return createStringError(inconvertibleErrorCode(),
                               "cannot read input '" + J.Path +
                                   (J.Member.empty() ? "" : "(" + J.Member + ")") +
                                   "': " + J.Error);
    InputFile &In = *J.Result;
    uint32_t Index = C.Inputs.size();
    for (const InputSection &S : In.Sections)
      if (!S.Group.empty() && SeenGroups.try_emplace(S.Group, Index).second)
        C.Comdats.push_back({S.Group, Index});
    for (auto &[Type, Layout] : In.Layouts)
      if (SeenLayouts.insert(Type).second)
        C.Layouts.push_back({Type, Layout});
    In.Layouts.clear();
    C.Inputs.push_back(std::move(In));
  }
  return C;
}

Expected<ModuleCache> buildModuleCache(StringRef Output,
                                       ArrayRef<TracedInput> Inputs,
                                       ArrayRef<std::string> LinkArgs,
                                       StringRef WorkingDirectory) {
  auto S = LinkSnapshot::take(Output, Inputs, WorkingDirectory);
  if (!S)
    return S.takeError();
  return (*S)->describe(LinkArgs, WorkingDirectory);
}

} // namespace hotpatch
