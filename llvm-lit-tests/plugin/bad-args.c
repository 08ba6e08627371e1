/// Unknown plugin arguments and modes are errors that list what is accepted.
// RUN: not %clang %plugin -fplugin-arg-hotpatch-everything -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=ARG
// RUN: not %clang %plugin -fplugin-arg-hotpatch-mode=fast -c %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=MODE
// ARG: error: unknown hotpatch plugin argument 'everything'; known arguments: all, annotated, mode=both|thunk|callsite
// MODE: error: unknown hotpatch mode 'fast'; use -fplugin-arg-hotpatch-mode=both, thunk or callsite
int x;
