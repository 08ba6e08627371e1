/// A WebAssembly patch reaches the program's globals and slots through
/// imports, which exist only for -fPIC code (not -fPIE, which binds a file's
/// own globals locally) and symbols that are not hidden (clang hides
/// everything on wasm by default): the plugin says so.
// REQUIRES: wasm
// RUN: not %clangxx --target=wasm32-wasi --sysroot=/usr -fno-exceptions %plugin -c %s -o /dev/null 2>&1 | FileCheck %s
// RUN: not %clangxx --target=wasm32-wasi --sysroot=/usr -fno-exceptions -fPIC %plugin -c %s -o /dev/null 2>&1 | FileCheck %s
// RUN: not %clangxx --target=wasm32-wasi --sysroot=/usr -fno-exceptions -fvisibility=default %plugin -c %s -o /dev/null 2>&1 | FileCheck %s
// RUN: not %clangxx --target=wasm32-wasi --sysroot=/usr -fno-exceptions -fPIE -fvisibility=default %plugin -c %s -o /dev/null 2>&1 | FileCheck %s
// RUN: %clangxx --target=wasm32-wasi --sysroot=/usr -fno-exceptions -fPIC -fvisibility=default %plugin -c %s -o /dev/null
// CHECK: error: hot-patching WebAssembly needs -fPIC -fvisibility=default
int f() { return 1; }
