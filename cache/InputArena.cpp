//===- InputArena.cpp - the link's objects, copied into huge pages --------===//
//
// One anonymous mapping that asks for huge pages, and the link's plain
// objects read into it one after the other, each at a 16-byte boundary. A
// file that has not the size it had when the arena was sized is not copied:
// its caller reads it the usual way.
//
//===----------------------------------------------------------------------===//
#include "InputArena.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace llvm;

namespace hotpatch {

InputArena::InputArena(size_t Bytes) {
  constexpr size_t Huge = 2u << 20;
  Size = (Bytes + Huge - 1) / Huge * Huge;
  if (!Size)
    return;
  void *P = mmap(nullptr, Size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (P == MAP_FAILED) {
    Size = 0;
    return;
  }
  Base = static_cast<char *>(P);
  madvise(Base, Size, MADV_HUGEPAGE); // a hint: 4 KiB pages work too
}

InputArena::~InputArena() {
  if (Base)
    munmap(Base, Size);
}

std::optional<StringRef> InputArena::copy(const std::string &Path, uint64_t Expected) {
  if (!Base || Size - Used < Expected)
    return std::nullopt;
  int FD = ::open(Path.c_str(), O_RDONLY | O_CLOEXEC);
  if (FD < 0)
    return std::nullopt;
  size_t Got = 0;
  while (Got < Expected) {
    ssize_t N = ::read(FD, Base + Used + Got, Expected - Got);
    if (N < 0 && errno == EINTR)
      continue;
    if (N <= 0)
      break;
    Got += size_t(N);
  }
  char Extra;
  bool Whole = Got == Expected && ::read(FD, &Extra, 1) == 0;
  ::close(FD);
  if (!Whole)
    return std::nullopt;
  StringRef Bytes(Base + Used, Expected);
  Used += (Expected + 15) & ~size_t(15);
  return Bytes;
}

} // namespace hotpatch
