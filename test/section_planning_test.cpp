// Section planning (patchlink/SectionPlanning.cpp): for each section of a
// rebuilt object, whether it stays in the running program (a ghost, and
// where), comes with the patch, or is dropped; the edits it refuses, each
// with its message; the users of changed constants carried along
// (propagate); exception tables of functions that stay, dropped.
//
// The inputs are what the passes before planning leave in the context: a
// base program's cache (written, then read through a CacheView, and its
// symbols indexed by indexBaseSymbols), the base's input the object was
// linked from, and the rebuilt object's section hashes and symbols.
#include "CacheView.h"
#include "ModuleCache.h"
#include "PatchContext.h"
#include "TempDir.h"

#include "hotpatch/patch_format.h"
#include "hotpatch/slot_table.h"

#include "llvm/BinaryFormat/ELF.h"
#include "llvm/Support/Error.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

using namespace hotpatch;
using namespace hotpatch::patchlink;
using namespace llvm;

namespace {

constexpr uint64_t Code = ELF::SHF_ALLOC | ELF::SHF_EXECINSTR;
constexpr uint64_t Const = ELF::SHF_ALLOC;
constexpr uint64_t Data = ELF::SHF_ALLOC | ELF::SHF_WRITE;
constexpr uint64_t Tls = ELF::SHF_ALLOC | ELF::SHF_WRITE | ELF::SHF_TLS;
constexpr uint64_t Strings = ELF::SHF_ALLOC | ELF::SHF_MERGE | ELF::SHF_STRINGS;
constexpr uint64_t TlsBlock = 0x4000; // the base's PT_TLS address

/// A base program linked from /work/a.o (source a.cpp), and a rebuild of
/// that object.
class Planning : public ::testing::Test {
protected:
  Planning() : C(Opts) {
    Program.Output = "/work/app";
    Program.WorkingDirectory = "/work";
    Program.Image.BuildId = {1, 2, 3, 4};
    Program.Image.HasTls = true;
    Program.Image.Tls.Type = ELF::PT_TLS;
    Program.Image.Tls.VAddr = TlsBlock;
    Program.Files = {"main.cpp", "a.cpp"};
    BaseObject.Path = "/work/a.o";
    Object.Path = "a.o";
    Object.Abs = "/work/a.o";
    Object.SourceFile = "a.cpp";
  }

  /// A section of a.o as the program was linked from it.
  void baseSection(StringRef Name, uint64_t Flags, uint64_t Size, uint64_t Hash,
                   uint32_t Type = ELF::SHT_PROGBITS) {
    BaseObject.Sections.push_back(
        {Name.str(), uint32_t(BaseObject.Sections.size() + 1), Type, Flags, Size, "", Hash});
  }
  /// A symbol of the program, defined in a.cpp when local.
  void baseSymbol(StringRef Name, uint64_t Address, uint64_t Size, SymbolKind Kind,
                  SymbolBinding Binding = SymbolBinding::Global) {
    uint32_t File = Binding == SymbolBinding::Local ? 1 : Symbol::NoFile;
    Program.Symbols.push_back(
        {Name.str(), File, ".data", Address, Size, Kind, Binding, ELF::STV_DEFAULT});
  }
  /// A section of the rebuilt a.o; returns its index.
  unsigned section(StringRef Name, uint64_t Flags, uint64_t Size, uint64_t Hash,
                   uint32_t Type = ELF::SHT_PROGBITS) {
    unsigned Index = Object.Hashed.Sections.size() + 1;
    Object.Hashed.Sections.push_back({Name.str(), Index, Type, Flags, Size, "", Hash});
    return Index;
  }
  /// A symbol of the rebuilt a.o, defined in section `Index` at `Value`.
  void symbol(unsigned Index, StringRef Name, uint64_t Value = 0,
              uint8_t Type = ELF::STT_OBJECT, uint8_t Binding = ELF::STB_GLOBAL) {
    Object.Symbols.push_back({Names.emplace_back(Name.str()), Index, Value, Type, Binding});
  }
  /// Section `From`'s relocations name section `To`.
  void refersTo(unsigned From, unsigned To) { Object.RefersTo[From].insert(To); }

  /// Writes and opens the base's cache and does what the passes before
  /// planning do (loadBase, loadObjects, indexBaseSymbols): the object
  /// matched to its base input, the base's symbols it names indexed.
  void load() {
    Program.Inputs = {BaseObject};
    std::string Path = Dir.file("app.hpcache");
    ASSERT_FALSE(bool(writeModuleCache(Program, Path)));
    auto View = CacheView::open(Path);
    ASSERT_TRUE(bool(View)) << toString(View.takeError());
    C.Base = std::move(*View);
    auto At = C.Base->objectsAt("/work/a.o");
    ASSERT_EQ(At.size(), 1u);
    C.BaseInputRecords.push_back(C.Base->input(At[0], true));
    Object.BaseInput = &C.BaseInputRecords.back();
    for (const ObjSymbol &S : Object.Symbols)
      if (S.Section)
        Object.BySection[S.Section].push_back(&S);
    C.Objects.push_back(std::move(Object));
    indexBaseSymbols(C);
  }
  Rebuilt &rebuilt() { return C.Objects.front(); }

  /// plan() on the object: "" when it planned, else the refusal.
  std::string plan() {
    load();
    if (HasFatalFailure())
      return "(not loaded)";
    if (Error E = patchlink::plan(C, rebuilt()))
      return toString(std::move(E));
    return "";
  }
  void planOk() { ASSERT_EQ(plan(), ""); }
  const SectionPlan &of(unsigned Index) {
    static const SectionPlan None{Fate::Discard, ~0ull, true, true, true};
    auto It = rebuilt().Plans.find(Index);
    EXPECT_NE(It, rebuilt().Plans.end()) << "section " << Index << " has no plan";
    return It == rebuilt().Plans.end() ? None : It->second;
  }

  hotpatch_test::TempDir Dir{"hotpatch-planning-test"};
  ModuleCache Program;
  InputFile BaseObject;
  Rebuilt Object;
  std::deque<std::string> Names; // what the object's symbols name
  PatchOptions Opts;
  PatchContext C;
};

// --- The fate of each section ------------------------------------------------

TEST_F(Planning, SectionsThatAreNotLoadedAreLeftToTheLinker) {
  baseSection(".debug_info", 0, 100, 0);
  unsigned Debug = section(".debug_info", 0, 120, 0);
  unsigned Comment = section(".comment", ELF::SHF_MERGE | ELF::SHF_STRINGS, 20, 0);
  planOk();
  EXPECT_EQ(rebuilt().Plans.count(Debug), 0u);
  EXPECT_EQ(rebuilt().Plans.count(Comment), 0u);
}

TEST_F(Planning, ConstructorAndDestructorListsAreDiscarded) {
  baseSection(".init_array", Data, 8, 1, ELF::SHT_INIT_ARRAY);
  unsigned Init = section(".init_array", Data, 8, 1, ELF::SHT_INIT_ARRAY);
  unsigned Fini = section(".fini_array.101", Data, 8, 2, ELF::SHT_FINI_ARRAY);
  unsigned Ctors = section(".ctors", Data, 8, 3);
  unsigned Dtors = section(".dtors.65535", Data, 8, 4);
  planOk();
  for (unsigned I : {Init, Fini, Ctors, Dtors})
    EXPECT_EQ(of(I).F, Fate::Discard) << "section " << I;
}

TEST_F(Planning, EmptySectionsAreKeptAsTheyAre) {
  // .text, .data and .bss of an object built with -ffunction-sections.
  unsigned Text = section(".text", Code, 0, 7);
  unsigned Bss = section(".bss", Data, 0, 8, ELF::SHT_NOBITS);
  planOk();
  for (unsigned I : {Text, Bss}) {
    EXPECT_EQ(of(I).F, Fate::Include);
    EXPECT_FALSE(of(I).Changed);
    EXPECT_FALSE(of(I).New);
  }
}

TEST_F(Planning, AnUnchangedFunctionStaysInTheProgram) {
  baseSection(".text._Z1fv", Code, 32, 0x111);
  baseSymbol("_Z1fv", 0x1100, 16, SymbolKind::Func);
  baseSymbol("_Z5helpv", 0x1110, 16, SymbolKind::Func);
  // A numbered label of the same name names something else in the base.
  baseSymbol(".Ltmp0", 0x9000, 0, SymbolKind::NoType, SymbolBinding::Local);
  unsigned F = section(".text._Z1fv", Code, 32, 0x111);
  symbol(F, ".Ltmp0", 0, ELF::STT_NOTYPE, ELF::STB_LOCAL);
  symbol(F, "_Z5helpv", 16, ELF::STT_FUNC);
  symbol(F, "_Z1fv", 0, ELF::STT_FUNC);
  planOk();
  EXPECT_EQ(of(F).F, Fate::Ghost);
  // Found through its first symbol the base defines, less that symbol's
  // offset in the section.
  EXPECT_EQ(of(F).Address, 0x1100 + Bias);
  EXPECT_FALSE(of(F).Changed);
  EXPECT_FALSE(of(F).New);
}

TEST_F(Planning, AStaticFunctionIsFoundInItsOwnFile) {
  baseSection(".text._ZL4stepv", Code, 16, 0x222);
  baseSymbol("_ZL4stepv", 0x1200, 16, SymbolKind::Func, SymbolBinding::Local);
  Program.Symbols.back().File = 0; // main.cpp's, not a.cpp's
  baseSymbol("_ZL4stepv", 0x1300, 16, SymbolKind::Func, SymbolBinding::Local);
  unsigned F = section(".text._ZL4stepv", Code, 16, 0x222);
  symbol(F, "_ZL4stepv", 0, ELF::STT_FUNC, ELF::STB_LOCAL);
  planOk();
  EXPECT_EQ(of(F).F, Fate::Ghost);
  EXPECT_EQ(of(F).Address, 0x1300 + Bias);
}

TEST_F(Planning, AChangedFunctionComesWithThePatch) {
  baseSection(".text._Z1fv", Code, 32, 0x111);
  baseSymbol("_Z1fv", 0x1100, 32, SymbolKind::Func);
  unsigned F = section(".text._Z1fv", Code, 32, 0x112);
  symbol(F, "_Z1fv", 0, ELF::STT_FUNC);
  planOk();
  EXPECT_EQ(of(F).F, Fate::Include);
  EXPECT_TRUE(of(F).Changed);
  EXPECT_FALSE(of(F).New);
}

TEST_F(Planning, ANewFunctionComesWithThePatch) {
  baseSection(".text._Z1fv", Code, 32, 0x111);
  unsigned G = section(".text._Z1gv", Code, 16, 0x333);
  symbol(G, "_Z1gv", 0, ELF::STT_FUNC);
  planOk();
  EXPECT_EQ(of(G).F, Fate::Include);
  EXPECT_TRUE(of(G).Changed);
  EXPECT_TRUE(of(G).New);
}

TEST_F(Planning, SectionsAreComparedWithWhatEarlierPatchesPlaced) {
  baseSection(".text._Z1fv", Code, 32, 0x111);
  baseSection(".text._Z1gv", Code, 32, 0x444);
  baseSymbol("_Z1fv", 0x1100, 32, SymbolKind::Func);
  baseSymbol("_Z1gv", 0x1200, 32, SymbolKind::Func);
  // An earlier patch replaced f (now at 0x7000 in the patch's window) and
  // g; this rebuild has f as that patch had it, and g as the base has it.
  C.Chain.Sections[chainSectionKey("/work/a.o", ".text._Z1fv", "")] = {0x112, 0x7000, 32};
  C.Chain.Sections[chainSectionKey("/work/a.o", ".text._Z1gv", "")] = {0x445, 0x7100, 32};
  unsigned F = section(".text._Z1fv", Code, 32, 0x112);
  symbol(F, "_Z1fv", 0, ELF::STT_FUNC);
  unsigned G = section(".text._Z1gv", Code, 32, 0x444);
  symbol(G, "_Z1gv", 0, ELF::STT_FUNC);
  planOk();
  EXPECT_EQ(of(F).F, Fate::Ghost);
  EXPECT_EQ(of(F).Address, 0x7000u);
  EXPECT_FALSE(of(F).Changed);
  EXPECT_EQ(of(G).F, Fate::Include);
  EXPECT_TRUE(of(G).Changed);
  EXPECT_FALSE(of(G).New);
}

TEST_F(Planning, UnwindTablesAndLiteralsAreAlwaysThePatchsOwn) {
  baseSection(".eh_frame", Const, 64, 0x55, ELF::SHT_X86_64_UNWIND);
  baseSection(".rodata.str1.1", Strings, 12, 0x66);
  // Even when a symbol would locate the running copy.
  baseSymbol("greeting", 0x2200, 12, SymbolKind::Object);
  unsigned Eh = section(".eh_frame", Const, 64, 0x55, ELF::SHT_X86_64_UNWIND);
  unsigned Str = section(".rodata.str1.1", Strings, 12, 0x66);
  symbol(Str, "greeting");
  unsigned NewStr = section(".rodata.str1.1", Strings, 12, 0x67);
  Object.Hashed.Sections.back().Group = "g"; // another section of that name
  planOk();
  for (unsigned I : {Eh, Str}) {
    EXPECT_EQ(of(I).F, Fate::Include);
    EXPECT_FALSE(of(I).Changed);
    EXPECT_FALSE(of(I).New);
  }
  EXPECT_EQ(of(NewStr).F, Fate::Include);
  EXPECT_TRUE(of(NewStr).New);
}

TEST_F(Planning, AnUnchangedSectionNoSymbolLocatesIsCopied) {
  // A jump table: no symbol names it, in the base or in the object.
  baseSection(".rodata._Z1fv", Const, 40, 0x77);
  unsigned Table = section(".rodata._Z1fv", Const, 40, 0x77);
  planOk();
  EXPECT_EQ(of(Table).F, Fate::Include);
  EXPECT_FALSE(of(Table).Changed);
  EXPECT_FALSE(of(Table).New);
}

TEST_F(Planning, AChangedConstantComesWithThePatch) {
  baseSection(".rodata.limits", Const, 16, 0x88);
  baseSymbol("limits", 0x2000, 16, SymbolKind::Object);
  unsigned L = section(".rodata.limits", Const, 24, 0x89);
  symbol(L, "limits");
  planOk();
  EXPECT_EQ(of(L).F, Fate::Include);
  EXPECT_TRUE(of(L).Changed);
  EXPECT_FALSE(of(L).New);
  EXPECT_TRUE(C.Notes.empty());
}

TEST_F(Planning, AVariableWithANewInitialValueKeepsItsRunningValue) {
  baseSection(".data.counter", Data, 4, 0x99);
  baseSymbol("counter", 0x3000, 4, SymbolKind::Object);
  unsigned V = section(".data.counter", Data, 4, 0x9a);
  symbol(V, "counter");
  planOk();
  EXPECT_EQ(of(V).F, Fate::Ghost);
  EXPECT_EQ(of(V).Address, 0x3000 + Bias);
  EXPECT_TRUE(of(V).Changed);
  ASSERT_EQ(C.Notes.size(), 1u);
  EXPECT_EQ(C.Notes[0], "initial value of '.data.counter' in a.cpp changed; the running "
                        "program keeps its current value");
}

TEST_F(Planning, AnUnchangedVariableStaysWithoutANote) {
  baseSection(".bss.counter", Data, 4, 0x99, ELF::SHT_NOBITS);
  baseSymbol("counter", 0x3000, 4, SymbolKind::Object);
  unsigned V = section(".bss.counter", Data, 4, 0x99, ELF::SHT_NOBITS);
  symbol(V, "counter");
  planOk();
  EXPECT_EQ(of(V).F, Fate::Ghost);
  EXPECT_EQ(of(V).Address, 0x3000 + Bias);
  EXPECT_FALSE(of(V).Changed);
  EXPECT_TRUE(C.Notes.empty());
}

TEST_F(Planning, AVariableWhoseSectionChangedNameIsStillTheProgramsVariable) {
  // `int g = 0` was in .bss.g; `int g = 5` is in .data.g.
  baseSection(".bss.g", Data, 4, 0xa1, ELF::SHT_NOBITS);
  baseSymbol("g", 0x3100, 4, SymbolKind::Object);
  unsigned G = section(".data.g", Data, 4, 0xa2);
  symbol(G, "g");
  // Changed whatever its hash: the running copy's section had another
  // name, so there is no hash of it to compare with.
  baseSection(".bss.h", Data, 8, 0xa3, ELF::SHT_NOBITS);
  baseSymbol("h", 0x3108, 8, SymbolKind::Object);
  unsigned H = section(".data.h", Data, 8, 0);
  symbol(H, "h");
  planOk();
  EXPECT_EQ(of(G).F, Fate::Ghost);
  EXPECT_EQ(of(G).Address, 0x3100 + Bias);
  EXPECT_TRUE(of(G).Changed);
  EXPECT_FALSE(of(G).New);
  EXPECT_EQ(of(H).F, Fate::Ghost);
  EXPECT_EQ(of(H).Address, 0x3108 + Bias);
  EXPECT_TRUE(of(H).Changed);
  ASSERT_EQ(C.Notes.size(), 2u);
  EXPECT_EQ(C.Notes[0], "initial value of '.data.g' in a.cpp changed; the running "
                        "program keeps its current value");
  EXPECT_EQ(C.Notes[1], "initial value of '.data.h' in a.cpp changed; the running "
                        "program keeps its current value");
}

TEST_F(Planning, AVtableWithChangedEntriesIsRewrittenInPlace) {
  baseSection(".data.rel.ro._ZTV6Square", Data, 32, 0xb1);
  baseSymbol("_ZTV6Square", 0x5000, 32, SymbolKind::Object);
  unsigned V = section(".data.rel.ro._ZTV6Square", Data, 32, 0xb2);
  symbol(V, "_ZTV6Square");
  planOk();
  EXPECT_EQ(of(V).F, Fate::Include);
  EXPECT_TRUE(of(V).InPlace);
  EXPECT_TRUE(of(V).Changed);
  ASSERT_EQ(C.Vtables.size(), 1u);
  EXPECT_EQ(C.Vtables[0].Symbol, "_ZTV6Square");
  EXPECT_EQ(C.Vtables[0].Class, "class Square");
  EXPECT_EQ(C.Vtables[0].Address, 0x5000 + Bias);
  EXPECT_EQ(C.Vtables[0].Size, 32u);
}

TEST_F(Planning, AnUnchangedVtableStays) {
  baseSection(".data.rel.ro._ZTV6Square", Data, 32, 0xb1);
  baseSymbol("_ZTV6Square", 0x5000, 32, SymbolKind::Object);
  unsigned V = section(".data.rel.ro._ZTV6Square", Data, 32, 0xb1);
  symbol(V, "_ZTV6Square");
  planOk();
  EXPECT_EQ(of(V).F, Fate::Ghost);
  EXPECT_FALSE(of(V).InPlace);
  EXPECT_TRUE(C.Vtables.empty());
}

TEST_F(Planning, ThePluginsTableIsNotUserData) {
  // It grows with new functions: neither a refusal nor a note.
  baseSection(HOTPATCH_TABLE_SECTION, Data, 64, 0xc1);
  baseSymbol("__hotpatch_table_a", 0x6000, 64, SymbolKind::Object, SymbolBinding::Local);
  unsigned T = section(HOTPATCH_TABLE_SECTION, Data, 96, 0xc2);
  symbol(T, "__hotpatch_table_a", 0, ELF::STT_OBJECT, ELF::STB_LOCAL);
  planOk();
  EXPECT_EQ(of(T).F, Fate::Ghost);
  EXPECT_EQ(of(T).Address, 0x6000 + Bias);
  EXPECT_TRUE(C.Notes.empty());
}

TEST_F(Planning, AThreadLocalIsFoundInTheBasesTlsBlock) {
  baseSection(".tbss.depth", Tls, 4, 0xd1, ELF::SHT_NOBITS);
  baseSymbol("depth", 0x10, 4, SymbolKind::Tls);
  unsigned T = section(".tbss.depth", Tls, 4, 0xd1, ELF::SHT_NOBITS);
  symbol(T, "depth", 0, ELF::STT_TLS);
  planOk();
  EXPECT_EQ(of(T).F, Fate::Ghost);
  EXPECT_EQ(of(T).Address, TlsBlock + 0x10 + Bias);
}

TEST_F(Planning, ANewStaticWithANameOfItsOwnComesWithThePatch) {
  baseSection(".bss._ZZ4tickvE5count", Data, 4, 0xe1, ELF::SHT_NOBITS);
  baseSymbol("_ZZ4tickvE5count", 0x3200, 4, SymbolKind::Object, SymbolBinding::Local);
  unsigned Count = section(".bss._ZZ4tickvE5count", Data, 4, 0xe1, ELF::SHT_NOBITS);
  symbol(Count, "_ZZ4tickvE5count", 0, ELF::STT_OBJECT, ELF::STB_LOCAL);
  unsigned Total = section(".bss._ZZ4tickvE5total", Data, 4, 0xe2, ELF::SHT_NOBITS);
  symbol(Total, "_ZZ4tickvE5total", 0, ELF::STT_OBJECT, ELF::STB_LOCAL);
  // Two statics of one name, both new: neither can be the running one.
  unsigned Last = section(".bss._ZZ4tockvE4last", Data, 4, 0xe3, ELF::SHT_NOBITS);
  symbol(Last, "_ZZ4tockvE4last", 0, ELF::STT_OBJECT, ELF::STB_LOCAL);
  unsigned Last0 = section(".bss._ZZ4tockvE4last_0", Data, 4, 0xe4, ELF::SHT_NOBITS);
  symbol(Last0, "_ZZ4tockvE4last_0", 0, ELF::STT_OBJECT, ELF::STB_LOCAL);
  planOk();
  EXPECT_EQ(of(Count).F, Fate::Ghost);
  for (unsigned I : {Total, Last, Last0}) {
    EXPECT_EQ(of(I).F, Fate::Include) << "section " << I;
    EXPECT_TRUE(of(I).New) << "section " << I;
    EXPECT_TRUE(of(I).Changed) << "section " << I;
  }
}

// --- Refusals ------------------------------------------------------------------

TEST_F(Planning, RefusesANewThreadLocal) {
  unsigned T = section(".tbss.scratch", Tls, 64, 0xf1, ELF::SHT_NOBITS);
  symbol(T, "scratch", 0, ELF::STT_TLS);
  EXPECT_EQ(plan(), "'a.o' adds the thread-local variable in '.tbss.scratch'; a patch "
                    "cannot add thread_local variables (threads already running have no "
                    "storage for them): rebuild the program and restart it");
}

TEST_F(Planning, RefusesAThreadLocalItCannotLocate) {
  baseSection(".tdata.seed", Tls, 8, 0xf2);
  section(".tdata.seed", Tls, 8, 0xf2); // no symbol names it
  EXPECT_EQ(plan(), "cannot find where section '.tdata.seed' of 'a.o' lives in the "
                    "running program (no symbol of it is in the base); rebuild and "
                    "restart the program");
}

TEST_F(Planning, RefusesANewStaticThatSharesItsNameWithAnother) {
  // tick() had one `static int count`; a second one, declared before it,
  // is numbered first: the running one's name now belongs to the new one.
  baseSection(".bss._ZZ4tickvE5count", Data, 4, 0xe1, ELF::SHT_NOBITS);
  baseSymbol("_ZZ4tickvE5count", 0x3200, 4, SymbolKind::Object, SymbolBinding::Local);
  unsigned Count = section(".bss._ZZ4tickvE5count", Data, 4, 0xe1, ELF::SHT_NOBITS);
  symbol(Count, "_ZZ4tickvE5count", 0, ELF::STT_OBJECT, ELF::STB_LOCAL);
  unsigned Count0 = section(".bss._ZZ4tickvE5count_0", Data, 4, 0xe5, ELF::SHT_NOBITS);
  symbol(Count0, "_ZZ4tickvE5count_0", 0, ELF::STT_OBJECT, ELF::STB_LOCAL);
  EXPECT_EQ(plan(), "'a.o' adds a static variable 'tick()::count' to a function that "
                    "already has one of that name: the compiler numbers them in source "
                    "order, so the running program's variable can no longer be told from "
                    "the new one, and its value could go to the wrong one; give the new "
                    "static another name, or rebuild the program and restart it");
}

TEST_F(Planning, RefusesANewCStaticThatSharesItsNameWithAnother) {
  baseSection(".bss.tick.count", Data, 4, 0xe1, ELF::SHT_NOBITS);
  baseSymbol("tick.count", 0x3200, 4, SymbolKind::Object, SymbolBinding::Local);
  unsigned Count = section(".bss.tick.count", Data, 4, 0xe1, ELF::SHT_NOBITS);
  symbol(Count, "tick.count", 0, ELF::STT_OBJECT, ELF::STB_LOCAL);
  unsigned Count1 = section(".bss.tick.count.1", Data, 4, 0xe5, ELF::SHT_NOBITS);
  symbol(Count1, "tick.count.1", 0, ELF::STT_OBJECT, ELF::STB_LOCAL);
  std::string Refusal = plan();
  EXPECT_NE(Refusal.find("'a.o' adds a static variable 'tick()::count' to a function that "
                         "already has one of that name"),
            std::string::npos)
      << Refusal;
}

TEST_F(Planning, RefusesAVariableThatChangedSize) {
  baseSection(".data.counter", Data, 4, 0x99);
  baseSymbol("counter", 0x3000, 4, SymbolKind::Object);
  unsigned V = section(".data.counter", Data, 8, 0x9b);
  symbol(V, "counter");
  EXPECT_EQ(plan(), "the variable 'counter' (section .data.counter) in 'a.o' changed size "
                    "(4 to 8 bytes); it holds state of the running program (a global or "
                    "static variable), and a patch cannot resize it: rebuild the program "
                    "and restart it");
}

TEST_F(Planning, RefusesAVariableThatChangedSectionAndSize) {
  // The base's size is its symbol's, whatever section held it.
  baseSection(".bss.g", Data, 4, 0xa1, ELF::SHT_NOBITS);
  baseSymbol("g", 0x3100, 4, SymbolKind::Object);
  unsigned G = section(".data.g", Data, 8, 0xa2);
  symbol(G, "g");
  EXPECT_EQ(plan(), "the variable 'g' (section .data.g) in 'a.o' changed size (4 to 8 "
                    "bytes); it holds state of the running program (a global or static "
                    "variable), and a patch cannot resize it: rebuild the program and "
                    "restart it");
}

TEST_F(Planning, RefusesAVtableThatChangedSize) {
  baseSection(".data.rel.ro._ZTV6Square", Data, 32, 0xb1);
  baseSymbol("_ZTV6Square", 0x5000, 32, SymbolKind::Object);
  unsigned V = section(".data.rel.ro._ZTV6Square", Data, 40, 0xb3);
  symbol(V, "_ZTV6Square");
  EXPECT_EQ(plan(), "the virtual functions of class Square changed in 'a.o' (a virtual "
                    "function added or removed: its vtable grows from 4 to 5 entries): "
                    "objects of it that already exist cannot get the new entries; rebuild "
                    "the program and restart it");
}

// --- Users of changed constants (propagate) ------------------------------------

TEST_F(Planning, WhatReadsAChangedConstantComesAlong) {
  baseSection(".text._Z1fv", Code, 32, 0x111);
  baseSection(".data.rel.ro.cells", Data, 16, 0x222);
  baseSection(".rodata.limits", Const, 16, 0x333);
  baseSection(".data.ptrs", Data, 8, 0x444);
  baseSymbol("_Z1fv", 0x1100, 32, SymbolKind::Func);
  baseSymbol("cells", 0x2100, 16, SymbolKind::Object);
  baseSymbol("limits", 0x2000, 16, SymbolKind::Object);
  baseSymbol("ptrs", 0x3000, 8, SymbolKind::Object);
  // f reads cells, whose entries point into limits; ptrs (state) too.
  unsigned F = section(".text._Z1fv", Code, 32, 0x111);
  symbol(F, "_Z1fv", 0, ELF::STT_FUNC);
  unsigned Cells = section(".data.rel.ro.cells", Data, 16, 0x222);
  symbol(Cells, "cells");
  unsigned Limits = section(".rodata.limits", Const, 16, 0x334);
  symbol(Limits, "limits");
  unsigned Ptrs = section(".data.ptrs", Data, 8, 0x444);
  symbol(Ptrs, "ptrs");
  refersTo(F, Cells);
  refersTo(Cells, Limits);
  refersTo(Ptrs, Limits);
  planOk();
  EXPECT_EQ(of(F).F, Fate::Ghost);
  EXPECT_EQ(of(Cells).F, Fate::Ghost);
  EXPECT_EQ(of(Limits).F, Fate::Include);
  ASSERT_FALSE(bool(propagate(C, rebuilt())));
  // The table that points at the new constant, then the code that reads
  // the table: to a fixed point.
  EXPECT_EQ(of(Cells).F, Fate::Include);
  EXPECT_TRUE(of(Cells).Changed);
  EXPECT_EQ(of(F).F, Fate::Include);
  EXPECT_TRUE(of(F).Changed);
  // State keeps pointing where it did.
  EXPECT_EQ(of(Ptrs).F, Fate::Ghost);
  EXPECT_FALSE(of(Ptrs).Changed);
}

TEST_F(Planning, LiteralsAndUnwindTablesDoNotCarryTheirUsersAlong) {
  // Literals are compared by content in the hashes of their users, and
  // the patch always has its own: an unchanged user stays.
  baseSection(".text._Z1fv", Code, 32, 0x111);
  baseSection(".rodata.str1.1", Strings, 12, 0x66);
  baseSection(".eh_frame", Const, 64, 0x55, ELF::SHT_X86_64_UNWIND);
  baseSymbol("_Z1fv", 0x1100, 32, SymbolKind::Func);
  unsigned F = section(".text._Z1fv", Code, 32, 0x111);
  symbol(F, "_Z1fv", 0, ELF::STT_FUNC);
  unsigned Str = section(".rodata.str1.1", Strings, 14, 0x67);
  unsigned Eh = section(".eh_frame", Const, 64, 0x56, ELF::SHT_PROGBITS);
  refersTo(F, Str);
  refersTo(F, Eh);
  planOk();
  EXPECT_TRUE(of(Str).Changed);
  EXPECT_TRUE(of(Eh).Changed);
  ASSERT_FALSE(bool(propagate(C, rebuilt())));
  EXPECT_EQ(of(F).F, Fate::Ghost);
  EXPECT_FALSE(of(F).Changed);
}

TEST_F(Planning, AnUnchangedConstantDoesNotCarryItsUsersAlong) {
  baseSection(".text._Z1fv", Code, 32, 0x111);
  baseSection(".rodata._Z1fv", Const, 40, 0x77); // its jump table
  baseSymbol("_Z1fv", 0x1100, 32, SymbolKind::Func);
  unsigned F = section(".text._Z1fv", Code, 32, 0x111);
  symbol(F, "_Z1fv", 0, ELF::STT_FUNC);
  unsigned Table = section(".rodata._Z1fv", Const, 40, 0x77);
  refersTo(F, Table);
  planOk();
  ASSERT_EQ(of(Table).F, Fate::Include); // copied, no symbol locates it
  ASSERT_FALSE(bool(propagate(C, rebuilt())));
  EXPECT_EQ(of(F).F, Fate::Ghost);
  EXPECT_FALSE(of(F).Changed);
}

// --- Exception tables of functions that stay -----------------------------------

TEST_F(Planning, TheExceptionTableOfAFunctionThatStaysIsDropped) {
  for (const char *Fn : {"_Z1fv", "_Z1gv", "_Z1hv"}) {
    baseSection((Twine(".text.") + Fn).str(), Code, 32, 0x100);
    baseSection((Twine(".gcc_except_table.") + Fn).str(), Const, 16, 0x200);
  }
  baseSymbol("_Z1fv", 0x1100, 32, SymbolKind::Func);
  baseSymbol("_Z1gv", 0x1200, 32, SymbolKind::Func);
  baseSymbol("_Z1hv", 0x1300, 32, SymbolKind::Func);
  baseSymbol("GCC_except_table0", 0x8000, 0, SymbolKind::NoType, SymbolBinding::Local);
  // f stays; g changed; h stays but its table changed.
  unsigned F = section(".text._Z1fv", Code, 32, 0x100);
  symbol(F, "_Z1fv", 0, ELF::STT_FUNC);
  unsigned FTable = section(".gcc_except_table._Z1fv", Const, 16, 0x200);
  symbol(FTable, "GCC_except_table0", 0, ELF::STT_NOTYPE, ELF::STB_LOCAL);
  unsigned G = section(".text._Z1gv", Code, 32, 0x101);
  symbol(G, "_Z1gv", 0, ELF::STT_FUNC);
  unsigned GTable = section(".gcc_except_table._Z1gv", Const, 16, 0x200);
  unsigned H = section(".text._Z1hv", Code, 32, 0x100);
  symbol(H, "_Z1hv", 0, ELF::STT_FUNC);
  unsigned HTable = section(".gcc_except_table._Z1hv", Const, 16, 0x201);
  planOk();
  // Numbered labels never locate a section: the tables are copied.
  EXPECT_EQ(of(FTable).F, Fate::Include);
  EXPECT_EQ(of(GTable).F, Fate::Include);
  dropUnusedExceptionTables(C, rebuilt());
  EXPECT_EQ(of(F).F, Fate::Ghost);
  EXPECT_EQ(of(FTable).F, Fate::Discard);
  EXPECT_EQ(of(G).F, Fate::Include);
  EXPECT_EQ(of(GTable).F, Fate::Include);
  EXPECT_EQ(of(H).F, Fate::Ghost);
  EXPECT_EQ(of(HTable).F, Fate::Include);
}

} // namespace
