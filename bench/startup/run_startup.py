#!/usr/bin/env python3
"""Start-up of the commands: a process that starts, does next to nothing and
exits, timed fork to exit (wall) and by its CPU time (user + system, from
wait4), the commands interleaved so that each sees the same machine.
docs/performance.md ("Start-up of the commands") quotes its output.

Usage: run_startup.py --build <build dir> [--runs N]

  thinlink --version          bin/thinlink, the front without LLVM, which
                              execs thinlink-lld: both starts
  thinlink-lld --version      libexec/hotpatch/thinlink-lld alone: LLVM and
                              lld linked statically
  thinlink-shared --version   the same program on libLLVM.so (what thinlink
                              was), bench/patch/thinlink-shared; absent when
                              HOTPATCH_STATIC_THINLINK is off
  hotpatch (usage)            bin/hotpatch: no LLVM (apply, list)
  hotpatch-dev (usage)        libexec/hotpatch/hotpatch-dev: libLLVM.so and
                              libclang-cpp.so, as bin/hotpatch was before it
                              was split
  hotpatch list               with whatever listens on this machine
  /bin/true                   the floor: a process start
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import die, machine, loadavg  # noqa: E402
benchlib.NAME = "startup"


def once(cmd):
    """Wall ms and CPU ms (user + system) of one run of cmd."""
    # posix_spawn (vfork and exec): no copy of this Python process to pay.
    actions = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_DUP2, 1, 2)]
    t0 = time.perf_counter()
    try:
        pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=actions)
    except OSError as e:
        die("cannot run %s: %s" % (cmd[0], e))
    _, status, ru = os.wait4(pid, 0)
    wall = (time.perf_counter() - t0) * 1000.0
    return wall, (ru.ru_utime + ru.ru_stime) * 1000.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--runs", type=int, default=40)
    a = ap.parse_args()
    if a.runs < 1:
        die("--runs needs at least 1")
    b = os.path.abspath(a.build)
    cmds = [
        ("thinlink --version (front, then thinlink-lld)", [b + "/bin/thinlink", "--version"]),
        ("thinlink-lld --version", [b + "/libexec/hotpatch/thinlink-lld", "--version"]),
        ("thinlink-shared --version (libLLVM.so)", [b + "/bench/patch/thinlink-shared", "--version"]),
        ("hotpatch (usage)", [b + "/bin/hotpatch"]),
        ("hotpatch-dev (usage; libLLVM, libclang-cpp)", [b + "/libexec/hotpatch/hotpatch-dev"]),
        ("hotpatch list", [b + "/bin/hotpatch", "list"]),
        ("/bin/true", ["/bin/true"]),
    ]
    cmds = [(label, c) for label, c in cmds if os.path.exists(c[0])]
    for label, c in cmds:
        once(c)  # warm the page cache
    wall = {label: [] for label, _ in cmds}
    cpu = {label: [] for label, _ in cmds}
    load_before = loadavg()
    for _ in range(a.runs):
        for label, c in cmds:
            w, u = once(c)
            wall[label].append(w)
            cpu[label].append(u)
    print("Start-up, %d runs each, interleaved; %s; load average %s before, %s after"
          % (a.runs, machine(), load_before, loadavg()))
    print()
    print("| command                                      | wall median | wall min | CPU median |")
    print("|----------------------------------------------|------------:|---------:|-----------:|")
    for label, _ in cmds:
        print("| %-44s | %8.2f ms | %5.2f ms | %7.2f ms |" % (
            label, statistics.median(wall[label]), min(wall[label]),
            statistics.median(cpu[label])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
