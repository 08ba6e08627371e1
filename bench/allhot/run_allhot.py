#!/usr/bin/env python3
"""The all-hot benchmark's driver: three real-shaped programs built plain and
with every function hot (-fplugin-arg-hotpatch-all), at -O0, -O1 and -O2,
timed in the same run. docs/performance.md ("All-hot builds") quotes its
output.

Usage: run_allhot.py --build <build dir> [--rounds N] [--levels O0,O1,O2]
                     [--target-ms MS] [--raw] [--strict]

  --rounds N      timed runs of each build (default 9); each round runs the
                  plain and the all-hot build of a program back to back, in
                  an order that alternates every round. The ratio of the
                  medians is judged against the target; the ratio of the
                  minimums is printed too (other work on the machine only
                  ever adds time)
  --levels L      optimisation levels, comma-separated (default O0,O1,O2)
  --target-ms MS  the length of one run of the plain build (default 250): the
                  scale factor of each program and level is calibrated on it
  --before PLUGIN also build and time an all-hot build with another
                  hotpatch.so (an earlier version of the plugin), interleaved
                  with the others, and print its ratio to the plain build
  --wall          time by the wall clock instead of the process's CPU time
  --raw           also print every time measured
  --strict        exit with status 2 when a target is missed

The programs (sources in bench/allhot/, compiled one object per file, like a
build system does, then linked by thinlink for the all-hot build and by
ld.lld for the plain one):
  interp   interp.c: a byte-code interpreter, a dispatch loop calling many
           small static helpers
  json     tmpl.cpp + minijson.hpp: a header-only JSON library's parse,
           walk (a lambda), sort (a lambda) and serialise
  frame    frame_main.cpp + frame_systems.cpp + frame.hpp: a game's frame
           loop, small methods on small objects, an entity method defined in
           another file
Each program times its own work (clock_gettime around the loop: the CPU
time of the process by default, which a busy machine disturbs less than the
wall clock; both are printed) and prints a checksum; the builds must agree
on it. Code size is the size of the
executable's code sections (.text and the thunks).
"""
import argparse
import os
import statistics
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import die, now_ms, run, machine, loadavg  # noqa: E402
benchlib.NAME = "allhot"

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLANG = "/usr/lib/llvm-19/bin/clang"
CLANGXX = "/usr/lib/llvm-19/bin/clang++"
TARGETS = {"O0": 1.05, "O1": 1.05, "O2": 1.03}

PROGRAMS = [
    ("interp", ["interp.c"]),
    ("json", ["tmpl.cpp"]),
    ("frame", ["frame_main.cpp", "frame_systems.cpp"]),
]


def code_size(path):
    """Bytes of the executable's code: every SHF_EXECINSTR section."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        die("%s: not an ELF64 file" % path)
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    total = 0
    for i in range(shnum):
        _, _, flags, _, _, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        if flags & 0x4:  # SHF_EXECINSTR
            total += size
    return total


def build(args, name, sources, level, variant):
    out = os.path.join(args.work, "%s-%s-%s" % (name, level, variant))
    os.makedirs(out, exist_ok=True)
    flags = ["-" + level, "-g0", "-I", os.path.join(ROOT, "runtime", "include")]
    if variant != "plain":
        plugin = args.before if variant == "before" else os.path.join(args.build, "lib",
                                                                         "hotpatch.so")
        flags += ["-fplugin=" + plugin, "-fplugin-arg-hotpatch-all"]
    objects = []
    compile_ms = 0.0
    for src in sources:
        cc = CLANG if src.endswith(".c") else CLANGXX
        obj = os.path.join(out, os.path.splitext(src)[0] + ".o")
        t = now_ms()
        run([cc] + flags + ["-c", os.path.join(HERE, src), "-o", obj])
        compile_ms += now_ms() - t
        objects.append(obj)
    exe = os.path.join(out, name)
    link = [CLANGXX, "-fuse-ld=lld"] + objects + ["-o", exe]
    if variant != "plain":
        lib = os.path.join(args.build, "lib")
        link[2:2] = ["--ld-path=" + os.path.join(args.build, "bin", "thinlink")]
        link += ["-L" + lib, "-lhotpatch", "-Wl,-rpath," + lib, "-pthread"]
    run(link)
    return exe, compile_ms


def run_once(args, exe, scale):
    p = run([exe, str(scale)], env=dict(os.environ, HOTPATCH_NO_CATCH_UP="1"))
    fields = dict(kv.split("=", 1) for kv in p.stdout.split())
    return float(fields["ms" if args.wall else "cpu"]), fields["check"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--levels", default="O0,O1,O2")
    ap.add_argument("--target-ms", type=float, default=250.0)
    ap.add_argument("--before", default="")
    ap.add_argument("--wall", action="store_true")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.work = os.path.join(args.build, "bench", "allhot")
    for need in ("lib/hotpatch.so", "lib/libhotpatch.so", "bin/thinlink"):
        if not os.path.exists(os.path.join(args.build, need)):
            die("%s missing: build hotpatch first" % need)
    print("machine: %s; load average at start %s" % (machine(), loadavg()))
    print("%d rounds per build, plain and all-hot interleaved, medians of %s\n" % (
        args.rounds, "wall time" if args.wall else "process CPU time"))
    header = "%-7s %-3s %10s %10s %7s %9s %7s %10s %10s %6s %8s" % (
        "program", "-O", "plain ms", "all ms", "ratio", "min ratio", "target", "plain code",
        "all code", "ratio", "compile")
    if args.before:
        header += " %10s %7s %10s" % ("before ms", "ratio", "code")
    print(header)
    missed = []
    for level in args.levels.split(","):
        for name, sources in PROGRAMS:
            exe_p, comp_p = build(args, name, sources, level, "plain")
            exe_a, comp_a = build(args, name, sources, level, "allhot")
            exes = [("plain", exe_p), ("allhot", exe_a)]
            if args.before:
                exes.append(("before", build(args, name, sources, level, "before")[0]))
            ms1, _ = run_once(args, exe_p, 1)
            scale = max(1, int(round(args.target_ms / max(ms1, 0.01))))
            times = {v: [] for v, _ in exes}
            checks = set()
            for r in range(args.rounds):
                order = exes[r % len(exes):] + exes[:r % len(exes)]
                if r % 2:
                    order.reverse()
                for variant, exe in order:
                    ms, check = run_once(args, exe, scale)
                    times[variant].append(ms)
                    checks.add(check)
            if len(checks) != 1:
                die("%s -%s: the builds disagree on the checksum: %s" % (name, level, checks))
            mp = statistics.median(times["plain"])
            ma = statistics.median(times["allhot"])
            ratio = ma / mp
            sp, sa = code_size(exe_p), code_size(exe_a)
            target = TARGETS.get(level, 1.05)
            ok = ratio <= target
            if not ok:
                missed.append("%s -%s %.3fx" % (name, level, ratio))
            min_ratio = min(times["allhot"]) / min(times["plain"])
            line = "%-7s %-3s %10.1f %10.1f %6.3fx %8.3fx %6.2fx %10d %10d %5.2fx %7.2fx" % (
                name, level, mp, ma, ratio, min_ratio, target, sp, sa, sa / sp, comp_a / comp_p)
            if args.before:
                mb = statistics.median(times["before"])
                line += " %10.1f %6.3fx %9.2fx" % (mb, mb / mp, code_size(exes[2][1]) / sp)
            print(line + ("" if ok else "  MISSED"))
            if args.raw:
                for v in times:
                    print("        %-6s %s" % (v, " ".join("%.1f" % t for t in times[v])))
            sys.stdout.flush()
    print("\nload average at end %s" % loadavg())
    if missed:
        print("targets missed: " + "; ".join(missed))
        if args.strict:
            sys.exit(2)
    else:
        print("every target met")


if __name__ == "__main__":
    main()
