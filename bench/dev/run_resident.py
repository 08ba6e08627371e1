#!/usr/bin/env python3
"""The resident compiler's benchmark: per file, the command-line compile
against save-to-new-code-running under `hotpatch dev`, first save and later
saves, in the same run.

Usage: run_resident.py --config <build>/bench/dev/dev-config.json
                       [--rounds N] [--keep-preambles N] [--raw]

Files (each a standalone CMake project using the Hotpatch package, built in
the benchmark's work directory):
  server.cpp   examples/http-server: cpp-httplib, header-heavy C++
  stdlib.cpp   a file including a large part of the C++ standard library
  small.c      a small C file
  (stdlib.cpp and small.c are one program, with main.cpp)

For each file, `hotpatch dev --stats` runs the program; the first save of
the file, then --rounds more saves (alternating two texts of one string
literal, each the whole file in one write), are timed on CLOCK_MONOTONIC
from the write's close to the "[hotpatch] patched" line (the new code is
published). Between saves, the file's compile_commands.json command runs
alone (its object written elsewhere): the command-line compile. Printed:
medians and minimums, the ratios later save / compile and first save /
compile, the memory hotpatch dev reports and the size of each kept preamble.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import die, now_ms, run, machine, loadavg, Lines  # noqa: E402
benchlib.NAME = "dev-resident"

TARGET = {"header-heavy": 0.5, "small": 0.9}
PATCHED_RE = re.compile(r"^\[hotpatch\] patched .* \(compile ([0-9.]+) ms, thin link ([0-9.]+) ms")

STDLIB_CPP = r'''#include <algorithm>
#include <any>
#include <array>
#include <atomic>
#include <bitset>
#include <chrono>
#include <complex>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iomanip>
#include <iostream>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <queue>
#include <random>
#include <regex>
#include <set>
#include <shared_mutex>
#include <sstream>
#include <stack>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <valarray>
#include <variant>
#include <vector>

std::string heavy_text(int n) {
  std::map<std::string, int> m{{"a", n}};
  std::ostringstream os;
  os << "heavy-A " << m["a"];
  return os.str();
}
'''

SMALL_C = r'''#include <stdio.h>

const char *small_text(void) {
  return "small-A";
}
'''

MAIN_CPP = r'''#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
std::string heavy_text(int n);
extern "C" const char *small_text(void);
int main() {
  for (int i = 0;; ++i) {
    std::printf("%s %s\n", heavy_text(i).c_str(), small_text());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}
'''

MIXED_CMAKE = r'''cmake_minimum_required(VERSION 3.20)
project(mixed C CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(Hotpatch CONFIG REQUIRED)
add_executable(mixed main.cpp stdlib.cpp small.c)
hotpatch_enable(mixed)
'''


def configure(cfg, src, build, extra=()):
    run([cfg["cmake"], "-S", src, "-B", build, "-G", "Ninja",
         "-DCMAKE_CXX_COMPILER=" + cfg["clangxx"], "-DCMAKE_C_COMPILER=" + cfg["clang"],
         "-DHotpatch_DIR=" + cfg["hotpatch_dir"]] + list(extra))
    run([cfg["cmake"], "--build", build])


def command_of(build, source):
    for e in json.load(open(os.path.join(build, "compile_commands.json"))):
        if os.path.realpath(os.path.join(e["directory"], e["file"])) == os.path.realpath(source):
            args = e.get("arguments") or shlex.split(e["command"])
            i = args.index("-o")
            args = args[:i + 1] + [os.path.join(build, "bench-alone.o")] + args[i + 2:]
            return e["directory"], args
    die("no compile command for " + source)


def compile_alone(build, source):
    d, args = command_of(build, source)
    t = now_ms()
    run(args, cwd=d)
    return now_ms() - t


def bench_files(cfg, a, build, program, files, results):
    """files: (source, kind, old, new); one hotpatch dev session for all."""
    env = dict(os.environ)
    p = subprocess.Popen([cfg["hotpatch"], "dev", "--stats", "--keep-preambles",
                          str(a.keep_preambles), "-p", build, "--"] + program,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    out = Lines(p.stdout)
    try:
        i, _ = out.wait_for(0, lambda l: l.startswith("[hotpatch] started"), 60)
        if i is None:
            die("hotpatch dev did not start:\n" + out.text())
        for source, kind, old, new in files:
            texts = [open(source).read()]
            if old not in texts[0]:
                die("%s does not hold %r" % (source, old))
            texts.append(texts[0].replace(old, new, 1))
            saves, own, alone = [], [], []
            for r in range(a.rounds + 1):
                alone.append(compile_alone(build, source))
                start = out.count()
                text = texts[(r + 1) % 2]
                with open(source, "w") as f:
                    f.write(text)
                t = now_ms()
                j, got = out.wait_for(start, lambda l: l.startswith("[hotpatch] patched") or
                                      "error" in l or l.startswith("[hotpatch] no function"),
                                      60)
                if j is None or not got[1].startswith("[hotpatch] patched"):
                    die("no patch for %s:\n%s" % (source, out.text(start)))
                saves.append(got[0] - t)
                m = PATCHED_RE.match(got[1])
                own.append(float(m.group(1)) if m else 0.0)
                out.wait_for(j, lambda l: l.startswith("[hotpatch] stats: resident"), 5)
                time.sleep(a.pause)
                stats = [l for _, l in out.lines[j:] if l.startswith("[hotpatch] stats:")]
            results.append({"file": os.path.basename(source), "kind": kind, "first": saves[0],
                            "later": saves[1:], "own_first": own[0], "own_later": own[1:],
                            "alone": alone, "stats": stats})
    finally:
        os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--keep-preambles", type=int, default=4)
    ap.add_argument("--pause", type=float, default=1.5,
                    help="seconds between saves (the background preamble build)")
    ap.add_argument("--raw", action="store_true")
    a = ap.parse_args()
    cfg = json.load(open(a.config))
    cfg.setdefault("clang", os.path.join(os.path.dirname(cfg["clangxx"]), "clang"))
    examples = os.path.dirname(cfg["example"])
    work = os.path.join(cfg["work_dir"], "resident")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    http_src = os.path.join(work, "http-server")
    shutil.copytree(os.path.join(examples, "http-server"), http_src)
    configure(cfg, http_src, os.path.join(work, "http-build"))
    mixed_src = os.path.join(work, "mixed")
    os.makedirs(mixed_src)
    for name, text in (("CMakeLists.txt", MIXED_CMAKE), ("stdlib.cpp", STDLIB_CPP),
                       ("small.c", SMALL_C), ("main.cpp", MAIN_CPP)):
        open(os.path.join(mixed_src, name), "w").write(text)
    configure(cfg, mixed_src, os.path.join(work, "mixed-build"))

    print("machine: %s; load average before: %s" % (machine(), loadavg()))
    results = []
    http_build = os.path.join(work, "http-build")
    bench_files(cfg, a, http_build,
                [os.path.join(http_build, "http-server"), "--port", "0"],
                [(os.path.join(http_src, "server.cpp"), "header-heavy", '"hello, "', '"HELLO, "')],
                results)
    mixed_build = os.path.join(work, "mixed-build")
    bench_files(cfg, a, mixed_build, [os.path.join(mixed_build, "mixed")],
                [(os.path.join(mixed_src, "stdlib.cpp"), "header-heavy", "heavy-A", "heavy-B"),
                 (os.path.join(mixed_src, "small.c"), "small", "small-A", "small-B")],
                results)
    print("load average after: %s" % loadavg())

    print()
    print("| file | kind | compile alone (median / min ms) | first save | later saves (median / min) "
          "| of which compile (later, median) | later / compile | first / compile | target |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    met = True
    for r in results:
        ca, cm = statistics.median(r["alone"]), min(r["alone"])
        lm, ln = statistics.median(r["later"]), min(r["later"])
        ratio = lm / ca
        ok = ratio <= TARGET[r["kind"]]
        met &= ok
        print("| %s | %s | %.0f / %.0f | %.0f | %.0f / %.0f | %.0f | %.2fx | %.2fx | <= %.1fx: %s |" % (
            r["file"], r["kind"], ca, cm, r["first"], lm, ln, statistics.median(r["own_later"]),
            ratio, r["first"] / ca, TARGET[r["kind"]], "met" if ok else "MISSED"))
    print()
    for r in results:
        print("%s, hotpatch dev --stats after the last save:" % r["file"])
        for s in r["stats"]:
            print("  " + s)
        if a.raw:
            print("  compile alone: " + " ".join("%.0f" % x for x in r["alone"]))
            print("  saves: first %.0f, later %s" % (r["first"], " ".join("%.0f" % x for x in r["later"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
