//===- LineTable.cpp - the patch's source lines, for the runtime ----------===//
#include "LineTable.h"

#include "hotpatch/patch_format.h"

#include "llvm/DebugInfo/DWARF/DWARFContext.h"
#include "llvm/Object/ELFObjectFile.h"

#include <algorithm>
#include <map>
#include <vector>

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {

namespace {
struct Row {
  uint64_t Addr;
  std::string File;
  uint32_t Line; // 0: the end of a sequence
  size_t Order;  // as read
};
} // namespace

Expected<std::string> buildLineTable(StringRef Elf) {
  auto Obj = ELF64LEObjectFile::create(MemoryBufferRef(Elf, "patch"));
  if (!Obj)
    return Obj.takeError();
  auto Phdrs = Obj->getELFFile().program_headers();
  if (!Phdrs)
    return Phdrs.takeError();
  std::vector<std::pair<uint64_t, uint64_t>> Code;
  for (const auto &P : *Phdrs)
    if (P.p_type == ELF::PT_LOAD && (P.p_flags & ELF::PF_X))
      Code.push_back({P.p_vaddr, P.p_vaddr + P.p_memsz});
  auto InCode = [&](uint64_t Begin, uint64_t End) {
    for (auto [B, E] : Code)
      if (Begin >= B && End <= E && Begin < End)
        return true;
    return false;
  };

  // Lines are a convenience for messages: DWARF this reader cannot use
  // leaves rows out, it does not fail the patch.
  auto Ctx = DWARFContext::create(*Obj, DWARFContext::ProcessDebugRelocations::Process, nullptr,
                                  "", [](Error E) { consumeError(std::move(E)); },
                                  [](Error E) { consumeError(std::move(E)); });
  std::vector<Row> Rows;
  for (const auto &CU : Ctx->compile_units()) {
    const DWARFDebugLine::LineTable *LT = Ctx->getLineTableForUnit(CU.get());
    if (!LT)
      continue;
    StringRef CompDir = CU->getCompilationDir();
    std::map<uint64_t, std::string> Names; // by file index
    auto NameOf = [&](uint64_t File) -> const std::string & {
      auto [It, New] = Names.try_emplace(File);
      if (New && !LT->getFileNameByIndex(
                     File, CompDir, DILineInfoSpecifier::FileLineInfoKind::AbsoluteFilePath,
                     It->second))
        It->second.clear();
      return It->second;
    };
    for (const DWARFDebugLine::Sequence &S : LT->Sequences) {
      // Sequences of functions that stayed in the program resolve there,
      // outside the patch: those lines are the program's own.
      if (!S.isValid() || !InCode(S.LowPC, S.HighPC))
        continue;
      for (uint32_t I = S.FirstRowIndex; I < S.LastRowIndex && I < LT->Rows.size(); ++I) {
        const DWARFDebugLine::Row &R = LT->Rows[I];
        if (R.EndSequence) {
          Rows.push_back({R.Address.Address, "", 0, Rows.size()});
          continue;
        }
        const std::string &Name = NameOf(R.File);
        if (R.Line && !Name.empty())
          Rows.push_back({R.Address.Address, Name, R.Line, Rows.size()});
      }
    }
  }
  if (Rows.empty())
    return std::string();

  // By address; where rows share one, the last (as DWARF reads) holds, and
  // the end of one sequence gives way to the start of the next.
  std::sort(Rows.begin(), Rows.end(), [](const Row &A, const Row &B) {
    if (A.Addr != B.Addr)
      return A.Addr < B.Addr;
    if ((A.Line == 0) != (B.Line == 0))
      return A.Line == 0;
    return A.Order < B.Order;
  });
  std::vector<Row> Kept;
  for (Row &R : Rows) {
    if (!Kept.empty() && Kept.back().Addr == R.Addr)
      Kept.pop_back();
    if (!Kept.empty() && Kept.back().File == R.File && Kept.back().Line == R.Line)
      continue; // the same line goes on
    if (Kept.empty() && R.Line == 0)
      continue;
    Kept.push_back(std::move(R));
  }

  std::string Files;
  std::map<std::string, uint32_t> FileOffsets;
  std::vector<hotpatch_line> Out;
  for (const Row &R : Kept) {
    auto [It, New] = FileOffsets.try_emplace(R.File, Files.size());
    if (New) {
      Files += R.File;
      Files.push_back('\0');
    }
    Out.push_back({R.Addr, It->second, R.Line});
  }
  hotpatch_lines_header H{static_cast<uint32_t>(Out.size()), static_cast<uint32_t>(Files.size())};
  std::string Section(reinterpret_cast<const char *>(&H), sizeof H);
  Section.append(reinterpret_cast<const char *>(Out.data()), Out.size() * sizeof(hotpatch_line));
  Section += Files;
  return Section;
}

} // namespace hotpatch
