#!/usr/bin/env python3
"""The thin link on a project whose code lives in libraries.

    run_libraries.py --build BUILD [--rounds N] [--work DIR]

Generates a CMake project of a few thousand lines (bench/libraries: a
static library linked into a shared one, a second shared library, a module
loaded with dlopen, and the program), builds it with the Hotpatch package
from BUILD, starts the program, and for one edited function in each image
measures, in the same run:

  - the compile of the edited file (its command from compile_commands.json);
  - `thinlink --patch` against that image (median of N rounds);
  - the baseline: relinking that image with ld.lld (median of N rounds);
  - applying the patch in the running program, whose output must show the
    new code (the benchmark fails otherwise).

Prints one line per image and the ratio thin link / ld.lld relink.
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402

benchlib.NAME = "run_libraries"
FILES = 4          # per library
FUNCTIONS = 50     # per file

LIBS = [
    # name, kind, probe symbol
    ("core", "STATIC"),
    ("physics", "SHARED"),
    ("render", "SHARED"),
    ("ai", "MODULE"),
]


def gen_file(lib, index):
    out = ['#include "common.h"', "#include <cstdint>", "namespace %s {" % lib]
    out += ["int f%d_%d(int x);" % (index, f) for f in range(FUNCTIONS)]
    for f in range(FUNCTIONS):
        out.append("struct Item%d_%d { int a, b; double w; };" % (index, f))
        out.append("int f%d_%d(int x) {" % (index, f))
        out.append("  Item%d_%d it{x, x * %d, 0.5};" % (index, f, f + 1))
        out.append("  int acc = mix(it.a, it.b);")
        out.append("  for (int i = 0; i < (x & 3); ++i) acc += clamp(acc ^ i, %d);" % (f + 7))
        if f + 1 < FUNCTIONS:
            out.append("  return acc + (x > 1000000 ? f%d_%d(x - 1) : 0);" % (index, f + 1))
        else:
            out.append("  return acc;")
        out.append("}")
    out.append("}  // namespace %s" % lib)
    if index == 0:
        c_name = "%s_probe" % lib
        out.append('extern "C" int %s(int x) { return %s::f0_0(x) * 0 + x * 10 + 1; }' % (c_name, lib))
    return "\n".join(out) + "\n"


def generate(src):
    os.makedirs(os.path.join(src, "common"), exist_ok=True)
    with open(os.path.join(src, "common", "common.h"), "w") as f:
        f.write("#pragma once\ninline int mix(int a, int b) { return a * 31 + b; }\n"
                "inline int clamp(int v, int hi) { return v > hi ? hi : v; }\n")
    cm = ["cmake_minimum_required(VERSION 3.20)", "project(libbench CXX)",
          "find_package(Hotpatch CONFIG REQUIRED)", "include_directories(common)"]
    for lib, kind in LIBS:
        d = os.path.join(src, lib)
        os.makedirs(d, exist_ok=True)
        files = []
        for i in range(FILES):
            name = "%s%d.cpp" % (lib, i)
            with open(os.path.join(d, name), "w") as f:
                f.write(gen_file(lib, i))
            files.append("%s/%s" % (lib, name))
        cm.append("add_library(%s %s %s)" % (lib, kind, " ".join(files)))
    cm.append("target_link_libraries(physics core)")
    cm.append("add_executable(app main.cpp)")
    cm.append("target_link_libraries(app physics render ${CMAKE_DL_LIBS})")
    cm.append('target_compile_definitions(app PRIVATE AI="$<TARGET_FILE:ai>")')
    cm.append("add_dependencies(app ai)")
    cm.append("hotpatch_enable_all()")
    with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
        f.write("\n".join(cm) + "\n")
    with open(os.path.join(src, "main.cpp"), "w") as f:
        f.write(r'''#include <cstdio>
#include <dlfcn.h>
extern "C" int core_probe(int), physics_probe(int), render_probe(int);
int main() {
  void *h = dlopen(AI, RTLD_NOW);
  if (!h) { std::printf("dlopen: %s\n", dlerror()); return 1; }
  auto ai = (int (*)(int))dlsym(h, "ai_probe");
  char line[16];
  while (std::fgets(line, sizeof line, stdin)) {
    std::printf("core=%d physics=%d render=%d ai=%d\nok\n", core_probe(1), physics_probe(1),
                render_probe(1), ai(1));
    std::fflush(stdout);
  }
}
''')
    # physics exports core's probe too (core is linked into it).
    with open(os.path.join(src, "physics", "physics0.cpp"), "a") as f:
        f.write('extern "C" int core_probe(int);\n'
                '__attribute__((used)) static int (*keep_core)(int) = core_probe;\n')


def median_ms(fn, rounds):
    times = []
    for _ in range(rounds):
        t = benchlib.now_ms()
        fn()
        times.append(benchlib.now_ms() - t)
    return statistics.median(times)


class Program:
    def __init__(self, path, env):
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, env=env)

    def step(self):
        self.p.stdin.write("x\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline().strip()
        ok = self.p.stdout.readline().strip()
        if ok != "ok":
            benchlib.die("the program said %r %r" % (line, ok))
        return line

    def stop(self):
        self.p.stdin.close()
        self.p.wait(timeout=20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--work", default="")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    work = os.path.abspath(args.work or os.path.join(build, "bench", "libraries", "work"))
    thinlink = os.path.join(build, "bin", "thinlink")
    hotpatch = os.path.join(build, "bin", "hotpatch")
    shutil.rmtree(work, ignore_errors=True)
    src, out = os.path.join(work, "src"), os.path.join(work, "build")
    generate(src)
    lines = sum(open(os.path.join(dp, f)).read().count("\n")
                for dp, _, fs in os.walk(src) for f in fs if f.endswith((".cpp", ".h")))
    clang = "/usr/lib/llvm-19/bin/clang"
    benchlib.run(["cmake", "-S", src, "-B", out, "-G", "Ninja",
                  "-DCMAKE_CXX_COMPILER=%s++" % clang, "-DCMAKE_C_COMPILER=" + clang,
                  "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DHotpatch_DIR=" + build])
    benchlib.run(["cmake", "--build", out, "-j", "2"])
    commands = {os.path.abspath(os.path.join(c["directory"], c["file"])): c
                for c in json.load(open(os.path.join(out, "compile_commands.json")))}
    env = dict(os.environ, HOTPATCH_NO_CATCH_UP="1")
    prog = Program(os.path.join(out, "app"), env)
    first = prog.step()
    print("machine: %s; load %s" % (benchlib.machine(), benchlib.loadavg()))
    print("project: %d lines in %d files, %d images; %d rounds per figure" %
          (lines, len(commands), len(LIBS), args.rounds))
    print("%-22s %9s %12s %14s %7s %10s %9s  %s" %
          ("image", "compile", "thin link", "ld.lld relink", "ratio", "patch", "apply", "output"))
    images = {"core": "libphysics.so", "physics": "libphysics.so",
              "render": "librender.so", "ai": "libai.so"}
    ratios = []
    for lib, _ in LIBS:
        source = os.path.join(src, lib, "%s0.cpp" % lib)
        text = open(source).read()
        open(source, "w").write(text.replace("x * 10 + 1;", "x * 10 + 2;"))
        cmd = commands[source]
        argv = shlex.split(cmd["command"]) if "command" in cmd else cmd["arguments"]
        obj = os.path.join(cmd["directory"], argv[argv.index("-o") + 1])
        compile_ms = median_ms(lambda: benchlib.run(argv, cwd=cmd["directory"]), 1)
        image = os.path.join(out, images[lib])
        patch = os.path.join(work, "%s.hpp" % lib)

        # Each round starts from the chain as it was (an earlier image's
        # patch may be in it), so the last round's patch is the next one.
        saved = {}
        for suffix in (".hpchain", ".hpjournal"):
            path = os.path.realpath(image) + suffix
            saved[path] = open(path, "rb").read() if os.path.exists(path) else None

        def thin():
            for path, data in saved.items():
                if data is None:
                    if os.path.exists(path):
                        os.remove(path)
                else:
                    open(path, "wb").write(data)
            benchlib.run([thinlink, "--patch", "--base", image, "-o", patch, obj])
        thin_ms = median_ms(thin, args.rounds)
        # The baseline: the same image linked again, by ld.lld.
        target = os.path.basename(image)[3:-3] if lib != "core" else "physics"
        link = benchlib.run(["ninja", "-C", out, "-t", "commands", target]).stdout.strip().splitlines()[-1]
        parts = [p.strip() for p in link.split("&&")]
        link = next(p for p in parts if " -o " in p)
        relink = [a for a in shlex.split(link) if not a.startswith("--ld-path=")]
        relink[relink.index("-o") + 1] = os.path.join(work, "relinked.so")
        relink_ms = median_ms(lambda: benchlib.run(relink, cwd=out), args.rounds)
        t = benchlib.now_ms()
        reply = benchlib.run([hotpatch, "apply", "--pid", str(prog.p.pid), patch]).stdout
        apply_ms = benchlib.now_ms() - t
        after = prog.step()
        want = "%s=12" % lib
        verified = want in after.split()
        if not verified:
            benchlib.die("after patching %s the program printed %r (%s)" % (lib, after, reply))
        ratios.append(thin_ms / relink_ms)
        print("%-22s %7.0f ms %9.1f ms %11.1f ms %6.2fx %8d B %6.1f ms  %s" %
              ("%s (%s)" % (lib, os.path.basename(image)), compile_ms, thin_ms, relink_ms,
               thin_ms / relink_ms, os.path.getsize(patch), apply_ms, want))
    prog.stop()
    print("first output: %s" % first)
    print("thin link / ld.lld relink of the same image: median %.2fx" % statistics.median(ratios))


if __name__ == "__main__":
    main()
