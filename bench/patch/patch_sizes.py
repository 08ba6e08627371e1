#!/usr/bin/env python3
"""Patch size against the size of the edit: one generated C++ file of 400
functions (each with a string literal, a local std::string and a table
lookup), built with the plugin at -O2 and linked with thinlink; then edits
of 1, 10 and 100 of its functions, each thin-linked against the program.
Prints, for each, the patch's size, the rebuilt object's size and their
ratio, and the patch's size per changed function. docs/performance.md
("Patch size") quotes its output.

Usage: patch_sizes.py --build <hotpatch build dir> [--functions N] [--opt O2] [--debug]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

CLANGXX = "/usr/lib/llvm-19/bin/clang++"


def source(n, edited):
    out = ["#include <cstdio>", "#include <string>",
           "static const int kTable[] = {3, 1, 4, 1, 5, 9, 2, 6};"]
    for i in range(n):
        k = 7 if i in edited else 3
        out.append("std::string fn%d(int x) {" % i)
        out.append("  std::string s = \"fn%d:\";" % i)
        out.append("  s += std::to_string(x * %d + kTable[x & 7]);" % k)
        out.append("  return s;")
        out.append("}")
    out.append("int main() {")
    out.append("  long total = 0;")
    for i in range(n):
        out.append("  total += fn%d(%d).size();" % (i, i))
    out.append("  std::printf(\"%ld\\n\", total);")
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--functions", type=int, default=400)
    ap.add_argument("--opt", default="O2")
    ap.add_argument("--debug", action="store_true",
                    help="compile with -g: the patch carries the rebuilt object's DWARF")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cxx = [CLANGXX, "-I" + os.path.join(root, "runtime/include"),
           "-fplugin=" + os.path.join(build, "lib/hotpatch.so"),
           "-fplugin-arg-hotpatch-all", "-" + args.opt, "-c"] + (["-g"] if args.debug else [])
    thinlink = os.path.join(build, "bin/thinlink")
    with tempfile.TemporaryDirectory(prefix="hp-sizes-") as d:
        src, obj, prog = (os.path.join(d, f) for f in ("app.cpp", "app.o", "app"))
        open(src, "w").write(source(args.functions, set()))
        subprocess.run(cxx + [src, "-o", obj], check=True)
        subprocess.run([CLANGXX, "-fuse-ld=lld", "--ld-path=" + thinlink, obj,
                        "-L" + os.path.join(build, "lib"), "-lhotpatch", "-o", prog],
                       check=True)
        print("program: %d functions in one file, -%s%s" % (args.functions, args.opt,
                                                             " -g" if args.debug else ""))
        print("%-10s %12s %12s %8s %14s" % ("changed", "patch bytes", "object bytes",
                                            "ratio", "bytes/function"))
        for k in (1, 10, 100):
            if k > args.functions:
                continue
            # Each edit is made against the program as linked: no chain.
            for f in (prog + ".hpchain", prog + ".hpjournal"):
                if os.path.exists(f):
                    os.remove(f)
            edited = set(range(0, args.functions, max(1, args.functions // k)))
            edited = set(sorted(edited)[:k])
            open(src, "w").write(source(args.functions, edited))
            subprocess.run(cxx + [src, "-o", obj], check=True)
            patch = os.path.join(d, "p%d.hpp" % k)
            out = subprocess.run([thinlink, "--patch", "--base", prog, "-o", patch, obj],
                                 check=True, capture_output=True, text=True).stdout
            m = re.search(r"(\d+) changed", out)
            size, osize = os.path.getsize(patch), os.path.getsize(obj)
            print("%-10s %12d %12d %8.3f %14.0f" % (m.group(1) if m else k, size, osize,
                                                    size / osize, size / k))
    return 0


if __name__ == "__main__":
    sys.exit(main())
