//===- DevSaves.cpp - which saves make a change, and when it is complete --===//
//
// The queue of saves (DevSaves.h), and the line --stats prints for a change.
//
//===----------------------------------------------------------------------===//
#include "DevSaves.h"

#include "llvm/Support/FormatVariadic.h"

namespace hotpatch {

/// A file written to (not yet closed) this recently holds back a compile
/// that would read it; one written to longer ago than this is left open by
/// a program that is not saving it.
constexpr double WritingMs = 1000;

void SaveQueue::take(const FileEvents &E) {
  if (E.Overflowed)
    LostEvents = true;
  if (!E.Saved.empty() && Pending.empty())
    PendingSince = DevClock::now();
  auto Now = DevClock::now();
  for (const std::string &F : E.Touched)
    if (E.Saved.count(F)) {
      Pending.insert(F);
      Writing.erase(F);
    } else {
      Writing[F] = Now;
    }
}

/// Whether a watched file is being written: its save has not ended yet.
bool SaveQueue::writingAny() {
  for (auto It = Writing.begin(); It != Writing.end();)
    if (msSince(It->second) > WritingMs)
      It = Writing.erase(It);
    else
      return true;
  return false;
}

Change SaveQueue::next() {
  Change C;
  C.Saved.swap(Pending);
  C.Since = PendingSince;
  C.Recompiles = PendingRecompiles;
  C.CompileMs = PendingCompileMs;
  PendingRecompiles = 0;
  PendingCompileMs = 0;
  return C;
}

void SaveQueue::retry(const Change &C) {
  Pending.insert(C.Saved.begin(), C.Saved.end());
  PendingSince = C.Since;
  PendingRecompiles = C.Recompiles + 1;
  PendingCompileMs = C.CompileMs;
}

bool SaveQueue::takeLostEvents() {
  if (!LostEvents || writingAny())
    return false;
  LostEvents = false;
  Pending.clear();
  return true;
}

std::string timingLine(const Change &C, double LinkMs, double ApplyMs, double DeliverMs,
                       size_t Commands, size_t Watched) {
  double Total = msSince(C.Since);
  return llvm::formatv("stats: timing total_ms={0:F2} compile_ms={1:F2} link_ms={2:F2} "
                       "apply_ms={3:F2} deliver_ms={4:F2} other_ms={5:F2} recompiles={6} "
                       "commands={7} watched={8}",
                       Total, C.CompileMs, LinkMs, ApplyMs, DeliverMs,
                       Total - C.CompileMs - LinkMs - DeliverMs, C.Recompiles, Commands, Watched)
      .str();
}

} // namespace hotpatch
