//===- CacheViewMemo.cpp - the cache views a process keeps ----------------===//
//
// openCacheView() (CacheView.h): a long-running process (hotpatch dev, the
// resident thin linker) maps a program's cache once and reuses the view
// while the file at its path is the same one (device, inode, size,
// modification time). A few views are kept, most recently used first, so
// that an executable and its libraries each keep theirs.
//
//===----------------------------------------------------------------------===//
#include "CacheView.h"

#include "llvm/Support/FileSystem.h"

#include <list>
#include <mutex>

using namespace llvm;

namespace hotpatch {

Expected<std::shared_ptr<const CacheView>> openCacheView(StringRef Path) {
  // A few programs' caches at once (an executable and its libraries).
  static constexpr size_t Kept = 8;
  static std::mutex Lock;
  static std::list<std::shared_ptr<const CacheView>> Views; // most recent first
  if (Error E = waitForCacheWriter(Path))
    return std::move(E);
  sys::fs::file_status St;
  if (!sys::fs::status(Path, St)) {
    CacheView::Identity Now{St.getUniqueID().getDevice(), St.getUniqueID().getFile(),
                            St.getSize(),
                            int64_t(St.getLastModificationTime().time_since_epoch().count())};
    std::lock_guard<std::mutex> G(Lock);
    for (auto It = Views.begin(); It != Views.end(); ++It)
      if ((*It)->path() == Path && (*It)->identity() == Now) {
        Views.splice(Views.begin(), Views, It);
        return Views.front();
      }
  }
  auto V = CacheView::open(Path);
  if (!V)
    return V.takeError();
  std::shared_ptr<const CacheView> Shared = std::move(*V);
  std::lock_guard<std::mutex> G(Lock);
  Views.remove_if([&](const auto &O) { return O->path() == Path; });
  Views.push_front(Shared);
  if (Views.size() > Kept)
    Views.pop_back();
  return Shared;
}

} // namespace hotpatch
