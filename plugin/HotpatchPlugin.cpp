//===- HotpatchPlugin.cpp - the Clang half of hotpatch.so -----------------===//
//
// Loaded with -fplugin=hotpatch.so. This file:
//   - parses the plugin arguments (-fplugin-arg-hotpatch-<arg>);
//   - turns off constructor/destructor aliases, so that C1 and C2 each get a
//     body of their own that can be patched (where nothing inlines C2 into
//     C1, HotFunctionPass sends calls of a forwarding C1 to C2);
//   - diagnoses uses of the HOTPATCH annotation that cannot work, through
//     Clang's DiagnosticsEngine, at the annotation's location;
//   - registers HotFunctionPass at the start of the optimisation pipeline,
//     before the inliner: registered later, calls to same-file functions are
//     already inlined and the slot would be bypassed; in all mode, also
//     HotCallLoweringPass at its end, which routes through the slots the
//     calls between hot functions that the inliner left.
//
// The plugin runs as an extra action before the main one
// (AddBeforeMainAction), so `clang -fplugin=hotpatch.so -c x.c` compiles as
// usual with the rewrite added.
//
//===----------------------------------------------------------------------===//
#include "HotCallLowering.h"
#include "HotFunctionPass.h"

#include "clang/AST/ASTConsumer.h"
#include "clang/AST/Attr.h"
#include "clang/AST/Mangle.h"
#include "clang/AST/RecordLayout.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendPluginRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <set>

using namespace clang;

namespace hotpatch {
namespace {

const AnnotateAttr *hotAnnotation(const Decl *D) {
  for (const auto *A : D->specific_attrs<AnnotateAttr>())
    if (A->getAnnotation() == "hotpatch")
      return A;
  return nullptr;
}

/// Checks every declaration carrying the annotation. Each check names the
/// declaration, why it cannot be hot, and what to do instead.
class AnnotationChecker : public RecursiveASTVisitor<AnnotationChecker> {
public:
  explicit AnnotationChecker(DiagnosticsEngine &Diags) : Diags(Diags) {
    NotAFunction = Diags.getCustomDiagID(
        DiagnosticsEngine::Error,
        "'HOTPATCH' applies to functions only; %0 is %1: annotate the "
        "functions that use it instead");
    Main = Diags.getCustomDiagID(
        DiagnosticsEngine::Error,
        "'main' cannot be hot: it is already running when a patch arrives, "
        "and a patch only changes calls that start later; move the body of "
        "the loop into a HOTPATCH function");
    Consteval = Diags.getCustomDiagID(
        DiagnosticsEngine::Error,
        "consteval function %0 cannot be hot: it has no code at run time; "
        "remove 'HOTPATCH' or make it constexpr");
    AlwaysInline = Diags.getCustomDiagID(
        DiagnosticsEngine::Error,
        "%0 cannot be both 'HOTPATCH' and always_inline: its calls are "
        "inlined into their callers, leaving no call to redirect; remove one "
        "of the two");
    Naked = Diags.getCustomDiagID(
        DiagnosticsEngine::Error,
        "naked function %0 cannot be hot: it has no prologue the compiler "
        "may move behind a slot; call a HOTPATCH function from it instead");
    Deleted = Diags.getCustomDiagID(DiagnosticsEngine::Error,
                                    "deleted function %0 cannot be hot");
    Weak = Diags.getCustomDiagID(
        DiagnosticsEngine::Error,
        "weak function %0 cannot be hot: another definition may replace it "
        "at link time and the slot would keep the replaced one; make it a "
        "normal (strong) definition");
    MultiVersion = Diags.getCustomDiagID(
        DiagnosticsEngine::Error,
        "multiversioned function %0 cannot be hot: its symbol is chosen by a "
        "resolver at load time; annotate the functions it dispatches to");
    IFunc = Diags.getCustomDiagID(
        DiagnosticsEngine::Error,
        "ifunc %0 cannot be hot: its symbol is chosen by a resolver at load "
        "time; annotate the functions the resolver returns");
    Coroutine = Diags.getCustomDiagID(
        DiagnosticsEngine::Warning,
        "patching coroutine %0 changes only coroutines started after the "
        "patch; suspended ones resume in the code they started with");
  }

  bool shouldVisitTemplateInstantiations() const { return true; }
  bool shouldVisitImplicitCode() const { return false; }

  bool VisitDecl(Decl *D) {
    const AnnotateAttr *A = hotAnnotation(D);
    if (!A || isa<FunctionDecl>(D))
      return true;
    // Annotations on a lambda's call operator are attached to the operator,
    // which is a FunctionDecl; anything else is data or a type.
    StringRef Kind = isa<VarDecl>(D)     ? "a variable"
                     : isa<FieldDecl>(D) ? "a field"
                     : isa<TagDecl>(D)   ? "a type"
                     : isa<NamespaceDecl>(D) ? "a namespace"
                                         : "not a function";
    auto Diag = Diags.Report(A->getLocation(), NotAFunction);
    if (const auto *ND = dyn_cast<NamedDecl>(D))
      Diag << ND;
    else
      Diag << "this declaration";
    Diag << Kind;
    return true;
  }

  bool VisitFunctionDecl(FunctionDecl *FD) {
    const AnnotateAttr *A = hotAnnotation(FD);
    if (!A || !Reported.insert(FD->getCanonicalDecl()).second)
      return true;
    SourceLocation Loc = A->getLocation();
    if (FD->isMain())
      Diags.Report(Loc, Main);
    else if (FD->isConsteval())
      Diags.Report(Loc, Consteval) << FD;
    else if (FD->hasAttr<AlwaysInlineAttr>())
      Diags.Report(Loc, AlwaysInline) << FD;
    else if (FD->hasAttr<NakedAttr>())
      Diags.Report(Loc, Naked) << FD;
    else if (FD->isDeleted())
      Diags.Report(Loc, Deleted) << FD;
    else if (FD->hasAttr<WeakAttr>() || FD->hasAttr<WeakRefAttr>())
      Diags.Report(Loc, Weak) << FD;
    else if (FD->isMultiVersion() || FD->hasAttr<TargetClonesAttr>())
      Diags.Report(Loc, MultiVersion) << FD;
    else if (FD->hasAttr<IFuncAttr>())
      Diags.Report(Loc, IFunc) << FD;
    else if (const FunctionDecl *Def = FD->getDefinition();
             Def && isa_and_nonnull<CoroutineBodyStmt>(Def->getBody()))
      Diags.Report(Loc, Coroutine) << FD;
    return true;
  }

private:
  DiagnosticsEngine &Diags;
  llvm::SmallPtrSet<const Decl *, 16> Reported;
  unsigned NotAFunction, Main, Consteval, AlwaysInline, Naked, Deleted, Weak,
      MultiVersion, IFunc, Coroutine;
};

/// Collects the mangled names of the functions the user wrote, for the `all`
/// argument: making libstdc++'s inline functions hot would cost every
/// container call a thunk and is never what a patch changes. A template
/// instantiation belongs to the file of its pattern, an implicit member to
/// its class, a lambda's call operator to the lambda.
class UserFunctionCollector : public RecursiveASTVisitor<UserFunctionCollector> {
public:
  UserFunctionCollector(ASTContext &Ctx, llvm::StringSet<> &Names)
      : SM(Ctx.getSourceManager()), Mangler(Ctx), Names(Names) {}

  bool shouldVisitTemplateInstantiations() const { return true; }
  bool shouldVisitImplicitCode() const { return true; }

  bool VisitFunctionDecl(FunctionDecl *FD) {
    if (FD->isDependentContext() || !FD->isThisDeclarationADefinition() ||
        FD->getDescribedFunctionTemplate())
      return true;
    const FunctionDecl *Pattern = FD->getTemplateInstantiationPattern();
    SourceLocation Loc = (Pattern ? Pattern : FD)->getLocation();
    if (isa<CXXMethodDecl>(FD) && FD->isImplicit())
      Loc = cast<CXXMethodDecl>(FD)->getParent()->getLocation();
    if (Loc.isInvalid() || SM.isInSystemHeader(SM.getExpansionLoc(Loc)))
      return true;
    if (isa<CXXConstructorDecl>(FD) || isa<CXXDestructorDecl>(FD)) {
      for (const std::string &N : Mangler.getAllManglings(FD))
        Names.insert(N);
    } else {
      Names.insert(Mangler.getName(FD));
    }
    return true;
  }

private:
  SourceManager &SM;
  ASTNameGenerator Mangler;
  llvm::StringSet<> &Names;
};

/// Records the layout of every record the user defined (not in a system
/// header): size, alignment, bases and fields with their offsets and types.
/// thinlink compares them with the base's and refuses a patch that changes
/// the layout of a type existing code already uses. Format, one line each:
///   T <type> size=<bytes> align=<bytes>
///   B <base type> offset=<bytes>          (C++ bases, virtual marked)
///   F <field> offset=<bits> type=<type>
///   E                                      (end of the record)
/// Names never carry a source position, which moves with every line added
/// above: an unnamed struct or union inside a record is named by its place
/// among the unnamed records of the enclosing one,
/// `union TString::(anonymous union #1)`, and its fields are listed with the
/// enclosing record's, so a change inside it is a change of that record,
/// named by the field.
class LayoutCollector : public RecursiveASTVisitor<LayoutCollector> {
public:
  LayoutCollector(ASTContext &Ctx, std::string &Out)
      : Ctx(Ctx), SM(Ctx.getSourceManager()), Out(Out) {}

  bool shouldVisitTemplateInstantiations() const { return true; }

  static bool unnamed(const RecordDecl *RD) {
    return !RD->getIdentifier() && !RD->getTypedefNameForAnonDecl();
  }

  /// The name of an unnamed record nested in a record, or "" for one that
  /// is not (an unnamed type at namespace scope has no name to compare by).
  std::string positionalName(const RecordDecl *RD) {
    const auto *Parent = dyn_cast<RecordDecl>(RD->getDeclContext());
    if (!Parent)
      return "";
    std::string Base;
    if (unnamed(Parent))
      Base = positionalName(Parent);
    else {
      PrintingPolicy P = Policy();
      P.SuppressTagKeyword = true;
      Base = Ctx.getTypeDeclType(Parent).getCanonicalType().getAsString(P);
    }
    if (Base.empty())
      return "";
    unsigned K = 0;
    for (const Decl *D : Parent->decls())
      if (const auto *R = dyn_cast<RecordDecl>(D); R && !R->isLambda() && unnamed(R)) {
        ++K;
        if (R == RD)
          break;
      }
    return Base + "::(anonymous " + RD->getKindName().str() + " #" + std::to_string(K) + ")";
  }

  /// A record's name with its tag keyword (`struct Particle`,
  /// `union TString::(anonymous union #1)`), or "" for an unnamed record
  /// that has none.
  std::string recordName(const RecordDecl *RD) {
    if (!unnamed(RD))
      return Ctx.getTypeDeclType(RD).getCanonicalType().getAsString(Policy());
    std::string N = positionalName(RD);
    return N.empty() ? N : RD->getKindName().str() + " " + N;
  }

  std::string typeName(QualType T) {
    T = T.getCanonicalType();
    if (const auto *RT = T->getAs<RecordType>())
      if (std::string N = recordName(RT->getDecl()); !N.empty()) {
        std::string Quals = T.getLocalQualifiers().getAsString();
        return Quals.empty() ? N : Quals + " " + N;
      }
    if (const ConstantArrayType *AT = Ctx.getAsConstantArrayType(T))
      if (const auto *RT = AT->getElementType()->getAs<RecordType>(); RT && unnamed(RT->getDecl()))
        return typeName(AT->getElementType()) + "[" +
               std::to_string(AT->getSize().getZExtValue()) + "]";
    return T.getAsString(Policy());
  }

  bool VisitRecordDecl(RecordDecl *RD) {
    if (!RD->isCompleteDefinition() || RD->isDependentType() || RD->isInvalidDecl() ||
        RD->isLambda())
      return true;
    SourceLocation Loc = RD->getLocation();
    if (auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD))
      if (ClassTemplateDecl *T = Spec->getSpecializedTemplate())
        Loc = T->getLocation();
    if (Loc.isInvalid() || SM.isInSystemHeader(SM.getExpansionLoc(Loc)))
      return true;
    if (RD->getParentFunctionOrMethod())
      return true;
    if (unnamed(RD))
      return true; // described with the record that holds it
    std::string Name = recordName(RD);
    if (!Seen.insert(Name).second)
      return true;
    const ASTRecordLayout &L = Ctx.getASTRecordLayout(RD);
    llvm::raw_string_ostream OS(Out);
    OS << "T " << Name << " size=" << L.getSize().getQuantity()
       << " align=" << L.getAlignment().getQuantity() << "\n";
    if (auto *CXX = dyn_cast<CXXRecordDecl>(RD)) {
      if (L.hasOwnVFPtr())
        OS << "V vptr offset=0\n";
      for (const CXXBaseSpecifier &B : CXX->bases()) {
        const CXXRecordDecl *BD = B.getType()->getAsCXXRecordDecl();
        if (!BD)
          continue;
        OS << "B " << typeName(B.getType())
           << (B.isVirtual() ? " virtual" : " offset=")
           << (B.isVirtual() ? std::string() : std::to_string(L.getBaseClassOffset(BD).getQuantity()))
           << "\n";
      }
    }
    fields(OS, RD, 0, "");
    OS << "E\n";
    return true;
  }

private:
  /// The fields of RD at bit offset Base in the record being described. The
  /// fields of an unnamed struct or union (or of an array of one) follow the
  /// field that holds it, at their offsets in the outer record: by the
  /// member's own name for an anonymous member (`v.i`), by a path otherwise
  /// (`pos.line`, `cells[].x`). A change inside one is then named by its
  /// field.
  void fields(llvm::raw_ostream &OS, const RecordDecl *RD, uint64_t Base,
              const std::string &Prefix) {
    const ASTRecordLayout &L = Ctx.getASTRecordLayout(RD);
    unsigned I = 0;
    for (const FieldDecl *F : RD->fields()) {
      uint64_t Offset = Base + L.getFieldOffset(I++);
      QualType T = F->getType().getCanonicalType();
      const RecordDecl *Inner = nullptr;
      std::string Element;
      if (const auto *RT = T->getAs<RecordType>())
        Inner = RT->getDecl();
      else if (const ConstantArrayType *AT = Ctx.getAsConstantArrayType(T))
        if (const auto *RT = AT->getElementType()->getAs<RecordType>()) {
          Inner = RT->getDecl();
          Element = "[]";
        }
      if (Inner && (!unnamed(Inner) || !Inner->isCompleteDefinition()))
        Inner = nullptr;
      std::string Name = F->getName().str();
      if (Name.empty()) {
        std::string N = Inner ? positionalName(Inner) : "";
        Name = !N.empty() ? N.substr(N.rfind("::(") + 2)
                          : "<unnamed #" + std::to_string(I) + ">";
      }
      OS << "F " << Prefix << Name << " offset=" << Offset << " type=" << typeName(T)
         << "\n";
      if (Inner)
        fields(OS, Inner, Offset,
               F->isAnonymousStructOrUnion() ? Prefix : Prefix + Name + Element + ".");
    }
  }

  PrintingPolicy Policy() const {
    PrintingPolicy P(Ctx.getLangOpts());
    P.SuppressTagKeyword = false;
    P.FullyQualifiedName = true;
    P.AnonymousTagLocations = false;
    return P;
  }
  ASTContext &Ctx;
  SourceManager &SM;
  std::string &Out;
  std::set<std::string> Seen;
};

/// Runs before the code generator's consumer (AddBeforeMainAction), so both
/// the diagnostics and the set of user functions exist before any IR pass.
class HotpatchConsumer : public ASTConsumer {
public:
  HotpatchConsumer(CompilerInstance &CI,
                   std::shared_ptr<llvm::StringSet<>> UserFunctions,
                   std::shared_ptr<std::string> Layouts)
      : CI(CI), UserFunctions(std::move(UserFunctions)), Layouts(std::move(Layouts)) {}

  void HandleTranslationUnit(ASTContext &Ctx) override {
    AnnotationChecker(CI.getDiagnostics()).TraverseDecl(Ctx.getTranslationUnitDecl());
    if (CI.getDiagnostics().hasErrorOccurred())
      return;
    if (UserFunctions)
      UserFunctionCollector(Ctx, *UserFunctions)
          .TraverseDecl(Ctx.getTranslationUnitDecl());
    if (Layouts)
      LayoutCollector(Ctx, *Layouts).TraverseDecl(Ctx.getTranslationUnitDecl());
  }

private:
  CompilerInstance &CI;
  std::shared_ptr<llvm::StringSet<>> UserFunctions;
  std::shared_ptr<std::string> Layouts;
};

class HotpatchAction : public PluginASTAction {
public:
  ActionType getActionType() override { return AddBeforeMainAction; }

  bool ParseArgs(const CompilerInstance &CI,
                 const std::vector<std::string> &Args) override {
    DiagnosticsEngine &D = CI.getDiagnostics();
    for (const std::string &Arg : Args) {
      llvm::StringRef A(Arg);
      if (A == "all") {
        Opts.AllFunctions = true;
      } else if (A == "annotated") {
        Opts.AllFunctions = false;
      } else if (A.consume_front("mode=")) {
        if (A == "both")
          Opts.Mode = RewriteMode::Both;
        else if (A == "thunk")
          Opts.Mode = RewriteMode::Thunk;
        else if (A == "callsite")
          Opts.Mode = RewriteMode::CallSite;
        else {
          D.Report(D.getCustomDiagID(
              DiagnosticsEngine::Error,
              "unknown hotpatch mode '%0'; use -fplugin-arg-hotpatch-mode="
              "both, thunk or callsite"))
              << A;
          return false;
        }
      } else {
        D.Report(D.getCustomDiagID(
            DiagnosticsEngine::Error,
            "unknown hotpatch plugin argument '%0'; known arguments: all, "
            "annotated, mode=both|thunk|callsite"))
            << Arg;
        return false;
      }
    }
    return true;
  }

  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &CI,
                                                 llvm::StringRef InFile) override {
    // Complete and base constructors (and destructors) as separate bodies:
    // an alias would leave one of them unpatchable.
    CI.getCodeGenOpts().CXXCtorDtorAliases = false;
    // One section per function and per variable: thinlink compares objects
    // section by section, so this is what makes a patch function-sized.
    CI.getCodeGenOpts().FunctionSections = true;
    CI.getCodeGenOpts().DataSections = true;
    // A WebAssembly patch is a position-independent side module that reaches
    // the program's slots and data through imports (GOT.mem), which exist
    // only for code built -fPIC and for symbols that are not hidden; clang
    // makes everything hidden on wasm unless told otherwise. Without both,
    // a patch would silently use fresh copies of the program's globals.
    // (-fPIE is not enough: it binds the file's own globals locally.)
    if (CI.getTarget().getTriple().isWasm() &&
        (CI.getLangOpts().PICLevel == 0 || CI.getLangOpts().PIE ||
         CI.getLangOpts().getValueVisibilityMode() != DefaultVisibility)) {
      DiagnosticsEngine &D = CI.getDiagnostics();
      D.Report(D.getCustomDiagID(
          DiagnosticsEngine::Error,
          "hot-patching WebAssembly needs -fPIC -fvisibility=default: a patch "
          "reaches the program's globals and slots through the symbols they "
          "export"));
    }

    PluginOptions PassOpts = Opts;
    llvm::SmallString<256> Unit(InFile);
    if (!InFile.empty() && InFile != "-") {
      llvm::sys::fs::make_absolute(Unit);
      llvm::sys::path::remove_dots(Unit, /*remove_dot_dot=*/true);
    }
    PassOpts.Unit = std::string(Unit);
    if (PassOpts.AllFunctions)
      PassOpts.UserFunctions = std::make_shared<llvm::StringSet<>>();
    PassOpts.Layouts = std::make_shared<std::string>();
    // In all mode, calls between hot functions are left to the inliner and
    // the rest routed after it (HotCallLoweringPass), where the pipeline
    // inlines and ends in this compile. An LTO pre-link does not: its module
    // is optimised again at link time, with no plugin to route the calls the
    // link-time inliner leaves, so it keeps the rewrite of pipeline start.
    bool InlineWhenOptimising = PassOpts.AllFunctions && !CI.getCodeGenOpts().PrepareForLTO &&
                                !CI.getCodeGenOpts().PrepareForThinLTO;
    CI.getCodeGenOpts().PassBuilderCallbacks.push_back(
        [PassOpts, InlineWhenOptimising](llvm::PassBuilder &PB) {
          PB.registerPipelineStartEPCallback(
              [PassOpts, InlineWhenOptimising](llvm::ModulePassManager &MPM,
                                               llvm::OptimizationLevel Level) {
                PluginOptions Opts = PassOpts;
                Opts.OptLevel = Level.getSizeLevel() == 2   ? "Oz"
                                : Level.getSizeLevel() == 1 ? "Os"
                                                            : "O" + std::to_string(
                                                                        Level.getSpeedupLevel());
                Opts.InlineHotCalls = InlineWhenOptimising && Level != llvm::OptimizationLevel::O0;
                MPM.addPass(HotFunctionPass(std::move(Opts)));
              });
          if (InlineWhenOptimising)
            PB.registerOptimizerLastEPCallback(
                [](llvm::ModulePassManager &MPM, llvm::OptimizationLevel Level) {
                  if (Level != llvm::OptimizationLevel::O0)
                    MPM.addPass(HotCallLoweringPass());
                });
        });
    return std::make_unique<HotpatchConsumer>(CI, PassOpts.UserFunctions,
                                              PassOpts.Layouts);
  }

private:
  PluginOptions Opts;
};

} // namespace
} // namespace hotpatch

static FrontendPluginRegistry::Add<hotpatch::HotpatchAction>
    X("hotpatch", "route calls to hot functions through a patchable jump table");
