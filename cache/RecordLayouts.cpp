//===- RecordLayouts.cpp - the plugin's record layouts, read and compared -===//
//
// The plugin writes the layout of every record an object uses into its
// .hotpatch.layouts section: a block per type ("T <type> size=N align=N",
// its fields "F <name> offset=<bits> type=<type>", bases "B", a vtable
// pointer "V", then "E"). The cache keeps each type's block from the first
// input that has it; a thin link compares a rebuilt object's blocks with
// those and refuses a change, saying what changed.
//
//===----------------------------------------------------------------------===//
#include "CacheBuilder.h"

#include "hotpatch/object_records.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Object/ELF.h"

#include <set>
#include <vector>

using namespace llvm;
using namespace llvm::object;

namespace hotpatch {

std::map<std::string, std::string> parseLayouts(StringRef Text) {
  std::map<std::string, std::string> Out;
  std::string Type, Block;
  for (StringRef Line : split(Text, '\n')) {
    if (Line.starts_with("T ")) {
      Type = Line.drop_front(2).rsplit(" size=").first.str();
      Block.clear();
    }
    if (!Type.empty()) {
      Block += Line;
      Block += '\n';
    }
    if (Line == "E" && !Type.empty()) {
      Out.emplace(Type, Block);
      Type.clear();
    }
  }
  return Out;
}

std::string readLayoutSection(MemoryBufferRef Object) {
  auto Obj = ELFFile<ELF64LE>::create(Object.getBuffer());
  if (!Obj)
    return consumeError(Obj.takeError()), "";
  auto Secs = Obj->sections();
  if (!Secs)
    return consumeError(Secs.takeError()), "";
  std::string Text;
  for (const ELF64LE::Shdr &S : *Secs) {
    auto Name = Obj->getSectionName(S);
    if (!Name || *Name != HOTPATCH_LAYOUTS_SECTION) {
      if (!Name)
        consumeError(Name.takeError());
      continue;
    }
    auto C = Obj->getSectionContents(S);
    if (C)
      Text.append(reinterpret_cast<const char *>(C->data()), C->size());
    else
      consumeError(C.takeError());
  }
  return Text;
}

std::string describeLayoutChange(StringRef Old, StringRef New) {
  struct Parsed {
    std::string Size;
    std::vector<std::string> Order;
    std::map<std::string, std::pair<std::string, std::string>> Fields; // offset, type
    std::vector<std::string> Other; // bases, vptr
  };
  auto Parse = [](StringRef Block) {
    Parsed P;
    for (StringRef Line : split(Block, '\n')) {
      if (Line.starts_with("T "))
        P.Size = Line.rsplit(" size=").second.split(' ').first.str();
      else if (Line.starts_with("F ")) {
        StringRef Rest = Line.drop_front(2);
        auto [Name, Tail] = Rest.split(" offset=");
        auto [Off, Type] = Tail.split(" type=");
        P.Order.push_back(Name.str());
        P.Fields[Name.str()] = {Off.str(), Type.str()};
      } else if (Line.starts_with("B ") || Line.starts_with("V ")) {
        P.Other.push_back(Line.str());
      }
    }
    return P;
  };
  Parsed A = Parse(Old), B = Parse(New);
  std::vector<std::string> What;
  auto Bytes = [](const std::string &Bits) {
    uint64_t N;
    return StringRef(Bits).getAsInteger(10, N) ? "'" + Bits + "' bits" : std::to_string(N / 8);
  };
  // The fields of an unnamed struct held by a field are listed after it as
  // `pos.line`; when `pos` moved, they moved with it and are not repeated.
  std::set<std::string> Moved;
  auto MovedWithParent = [&](StringRef F) {
    for (size_t Dot = F.rfind('.'); Dot != StringRef::npos; Dot = F.rfind('.', Dot - 1)) {
      StringRef Parent = F.take_front(Dot);
      Parent.consume_back("[]");
      if (Moved.count(Parent.str()))
        return true;
      if (Dot == 0)
        break;
    }
    return false;
  };
  for (const std::string &F : B.Order) {
    auto It = A.Fields.find(F);
    if (It == A.Fields.end())
      What.push_back("field '" + F + "' added at offset " + Bytes(B.Fields[F].first));
    else if (It->second.second != B.Fields[F].second)
      What.push_back("field '" + F + "' changed type from " + It->second.second +
                     " to " + B.Fields[F].second);
    else if (It->second.first != B.Fields[F].first) {
      Moved.insert(F);
      if (!MovedWithParent(F))
        What.push_back("field '" + F + "' moved from offset " + Bytes(It->second.first) +
                       " to " + Bytes(B.Fields[F].first));
    }
  }
  for (const std::string &F : A.Order)
    if (!B.Fields.count(F))
      What.push_back("field '" + F + "' removed");
  if (A.Other != B.Other)
    What.push_back("its bases or virtual table pointer changed");
  if (A.Size != B.Size)
    What.push_back("size " + A.Size + " -> " + B.Size + " bytes");
  if (What.empty())
    What.push_back("its layout changed");
  std::string Out;
  for (const std::string &W : What)
    Out += (Out.empty() ? "" : "; ") + W;
  return Out;
}

} // namespace hotpatch
