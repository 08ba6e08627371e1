//===- CacheView.cpp - read a HotpatchModuleCache where it lies -----------===//
//
// Opening a view (the mapping, then the checks of the records, then the core
// stream), the searches by name and by address, which compare the names the
// index's records hold before decoding them, and the whole cache decoded.
//
//===----------------------------------------------------------------------===//
#include "CacheView.h"
#include "CacheIndex.h"

#include "llvm/ADT/STLExtras.h"

using namespace llvm;

namespace hotpatch {
namespace cf = cacheformat;

Expected<std::unique_ptr<CacheView>> CacheView::open(StringRef Path) {
  if (Error E = waitForCacheWriter(Path))
    return std::move(E);
  std::unique_ptr<CacheView> V(new CacheView);
  if (Error E = V->Map.open(Path))
    return std::move(E);
  if (Error E = V->Records.checkInputs())
    return std::move(E);
  if (Error E = V->Records.readCore(V->Core))
    return std::move(E);
  return std::move(V);
}

bool CacheView::hasFile(StringRef Name) const {
  for (uint32_t I = 0; I < numFiles(); ++I)
    if (file(I) == Name)
      return true;
  return false;
}

SmallVector<uint32_t, 1> CacheView::filesNamed(StringRef Name) const {
  SmallVector<uint32_t, 1> Out;
  for (uint32_t I = 0; I < numFiles(); ++I)
    if (file(I) == Name)
      Out.push_back(I);
  return Out;
}

SmallVector<Symbol, 2> CacheView::symbolsNamed(StringRef Name) const {
  SmallVector<Symbol, 2> Out;
  SmallVector<uint32_t, 2> Records =
      CacheIndex(Map, cf::SymbolIndex).lookup(cf::keyHash(Name));
  llvm::sort(Records);
  for (uint32_t I : Records)
    if (uint64_t R = Map.record(cf::Symbols, I, cf::SymbolSize); R && Map.str(R) == Name)
      Out.push_back(symbol(I));
  return Out;
}

SmallVector<Symbol, 2> CacheView::symbolsNamed(StringRef Name,
                                               ArrayRef<uint32_t> LocalFiles) const {
  SmallVector<uint32_t, 4> Records =
      CacheIndex(Map, cf::SymbolIndex).symbolsFrom(cf::keyHash(Name), LocalFiles);
  SmallVector<Symbol, 2> Out;
  for (uint32_t I : Records)
    if (uint64_t R = Map.record(cf::Symbols, I, cf::SymbolSize); R && Map.str(R) == Name)
      Out.push_back(symbol(I));
  return Out;
}

SmallVector<uint32_t, 1> CacheView::objectsAt(StringRef P) const {
  SmallVector<uint32_t, 1> Out;
  for (uint32_t I : CacheIndex(Map, cf::InputIndex).lookup(cf::keyHash(P)))
    if (uint64_t R = Map.record(cf::Inputs, I, cf::InputSize);
        R && Map.str(R) == P && Map.str(R + 8).empty())
      Out.push_back(I);
  return Out;
}

std::optional<SlotRecord> CacheView::slotAt(uint64_t SlotAddress) const {
  for (uint32_t I : CacheIndex(Map, cf::SlotIndex).lookup(SlotAddress)) {
    SlotRecord S = slot(I);
    if (S.SlotAddress == SlotAddress)
      return S;
  }
  return std::nullopt;
}

std::optional<StringRef> CacheView::layoutOf(StringRef Type) const {
  for (uint32_t I : CacheIndex(Map, cf::LayoutIndex).lookup(cf::keyHash(Type)))
    if (uint64_t R = Map.record(cf::Layouts, I, cf::LayoutSize); R && Map.str(R) == Type)
      return Map.str(R + 8);
  return std::nullopt;
}

ModuleCache CacheView::decode() const {
  ModuleCache C;
  C.Output = Core.Output;
  C.Image = Core.Image;
  C.WorkingDirectory = Core.WorkingDirectory;
  C.LinkArgs = Core.LinkArgs;
  for (uint32_t I = 0; I < numFiles(); ++I)
    C.Files.push_back(file(I).str());
  C.Symbols.reserve(numSymbols());
  for (uint32_t I = 0; I < numSymbols(); ++I)
    C.Symbols.push_back(symbol(I));
  C.Inputs.reserve(numInputs());
  for (uint32_t I = 0; I < numInputs(); ++I)
    C.Inputs.push_back(input(I, /*WithSections=*/true));
  for (uint32_t I = 0; I < numSlots(); ++I)
    C.Slots.push_back(slot(I));
  for (uint32_t I = 0; I < numComdats(); ++I)
    C.Comdats.push_back(comdat(I));
  for (uint32_t I = 0; I < numLayouts(); ++I)
    C.Layouts.push_back(layout(I));
  return C;
}

} // namespace hotpatch
