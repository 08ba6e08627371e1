#!/usr/bin/env python3
"""The dev-loop benchmark's driver: save-to-new-code-running latency of
`hotpatch dev` on examples/counter, against the compile of the changed file
alone and against a rebuild + relink + restart of the same example, all in
one run. docs/performance.md ("Dev loop") quotes its output.

Usage: run_dev.py --config <build>/bench/dev/dev-config.json
                  [--rounds N] [--phases N] [--raw] [--strict]

  --rounds N  rounds (default 11); one round, in an order rotated by one
              every round: one saved edit under `hotpatch dev`, one compile
              of counter.cpp alone, one rebuild + restart of the hot-patching
              build, one rebuild + restart of a build without Hotpatch
  --phases N  extra edits under a second `hotpatch dev` with dev_shim.c
              preloaded, for the timeline of where its time goes (default
              5; 0: none)
  --raw       also print every time measured
  --strict    exit with status 2 when the target is missed

Three copies of examples/counter (the repository's copy is never touched),
each configured as the standalone project it is, with
  cmake -S <copy> -B <dir> -G Ninja -DCMAKE_CXX_COMPILER=<clang++ 19>
        -DHotpatch_DIR=<this Hotpatch build>
  dev      runs under `hotpatch dev -p <dir> -- <dir>/counter`
  restart  the same configuration, rebuilt and restarted by hand
  plain    the same with -DHOTPATCH_ENABLE=OFF (no plugin, no thinlink, no
           runtime): what rebuilding and restarting costs without Hotpatch

The edits alternate between two versions of render()'s text ("COUNT " and
"Count " instead of "count "), each saved in one write of the whole file.
Times, on CLOCK_MONOTONIC, from the moment the write is closed:
  save to patched   to the "[hotpatch] patched ..." line (new code is
                    published: the target's figure); hotpatch dev's own
                    figure in that line is printed too
  save to new text  to the first counter line with the new text; the
                    counter prints every 300 ms (its argument is a tick
                    count, not an interval), so this adds 0-300 ms of tick
                    wait, reported apart
  compile alone     counter.cpp's compile_commands.json command, writing
                    its object elsewhere
  rebuild+restart   ninja -C <dir> after the same edit, then the program
                    started, to its first output line
"""
import argparse
import json
import os
import platform
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
benchlib.NAME = "dev"


TARGET_RATIO = 1.2  # save to new code running, at most 1.2x the compile alone

VERSIONS = [("COUNT ", "COUNT "), ("Count ", "Count ")]  # (replacement, output prefix)
ORIGINAL = '"count "'

PATCHED_RE = re.compile(r"^\[hotpatch\] patched (.*) in (\d+) process(?:es)?: ([0-9.]+) ms "
                        r"\(compile ([0-9.]+) ms, thin link ([0-9.]+) ms, apply ([0-9.]+) ms\)")
COUNT_RE = re.compile(r"^(count|COUNT|Count) (\d+), total (\d+)$")


def save(path, text):
    """Writes the whole file in one write; returns the time it was closed."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return now_ms()


class DevSession:
    """`hotpatch dev` on a build, its output (and the counter's) read by a thread."""

    def __init__(self, cfg, build, env=None, command=None):
        self.p = subprocess.Popen(
            [command or cfg["hotpatch"], "dev", "-p", build, "--",
             os.path.join(build, "counter")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True)
        self.out = Lines(self.p.stdout)
        self.program_pid = None
        i, got = self.out.wait_for(0, lambda l: l.startswith("[hotpatch] started"))
        if i is None:
            self.stop()
            die("hotpatch dev did not start the program:\n" + self.out.text())
        m = re.search(r"\(pid (\d+)\)", got[1])
        self.program_pid = int(m.group(1)) if m else None
        j, _ = self.out.wait_for(i, lambda l: COUNT_RE.match(l) is not None)
        if j is None:
            self.stop()
            die("the counter printed nothing:\n" + self.out.text())

    def edit(self, src, text, prefix):
        """One save; returns its times and hotpatch dev's own figures."""
        n0 = self.out.count()
        # The counter line before the save: the state must carry on.
        with self.out.cond:
            before = [COUNT_RE.match(l) for _, l in self.out.lines]
        last = [m for m in before if m]
        t_save = save(src, text)
        i, got = self.out.wait_for(
            n0, lambda l: l.startswith("[hotpatch]") and not l.startswith("[hotpatch] started"))
        if i is None or not got[1].startswith("[hotpatch] patched"):
            die("expected a '[hotpatch] patched' line after the save, got:\n" + self.out.text(n0))
        t_patched, line = got
        m = PATCHED_RE.match(line)
        if not m:
            die("cannot read hotpatch dev's line: " + line)
        j, got = self.out.wait_for(n0, lambda l: l.startswith(prefix))
        if j is None:
            die("the counter never printed the new text:\n" + self.out.text(n0))
        t_text, tline = got
        if j < i:
            die("the new text appeared before the patch line:\n" + self.out.text(n0))
        cm = COUNT_RE.match(tline)
        with self.out.cond:
            between = [COUNT_RE.match(l) for _, l in self.out.lines[n0:j]]
        prev = [x for x in between if x] or last
        if prev and int(cm.group(2)) != int(prev[-1].group(2)) + 1:
            die("the count did not carry on across the patch (%s, then %s): restarted?"
                % (prev[-1].group(0), tline))
        return {
            "save_patched": t_patched - t_save,
            "save_text": t_text - t_save,
            "tick_wait": t_text - t_patched,
            "dev_total": float(m.group(3)),
            "dev_compile": float(m.group(4)),
            "dev_link": float(m.group(5)),
            "dev_apply": float(m.group(6)),
            "processes": int(m.group(2)),
            "function": m.group(1),
            "t_save": t_save,
            "t_patched": t_patched,
        }

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)  # it stops its program, then itself
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        if self.program_pid:
            remove_socket(self.program_pid)


def remove_socket(pid):
    """Nothing to remove: the runtime listens on an abstract socket name
    (hotpatch/control_protocol.h), which goes with the process."""


def configure(cfg, src, build, extra=()):
    cmd = [cfg["cmake"], "-S", src, "-B", build, "-G", "Ninja",
           "-DCMAKE_CXX_COMPILER=" + cfg["clangxx"], "-DHotpatch_DIR=" + cfg["hotpatch_dir"]]
    if cfg.get("ninja"):
        cmd.append("-DCMAKE_MAKE_PROGRAM=" + cfg["ninja"])
    run(cmd + list(extra))
    run([cfg["ninja"] or "ninja", "-C", build])


def restart_once(cfg, src, build, text):
    """Edit, ninja, start the program, first output line: ms of each part."""
    t0 = save(os.path.join(src, "counter.cpp"), text)
    p = subprocess.run([cfg["ninja"] or "ninja", "-C", build], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    t1 = now_ms()
    if p.returncode != 0 or "Linking" not in p.stdout:
        die("ninja did not rebuild %s:\n%s" % (build, p.stdout[-2000:]))
    prog = subprocess.Popen([os.path.join(build, "counter")], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    first = prog.stdout.readline()
    t2 = now_ms()
    prog.terminate()
    prog.wait()
    prog.stdout.close()
    remove_socket(prog.pid)
    if not COUNT_RE.match(first.decode(errors="replace").strip()):
        die("the restarted program printed %r" % first)
    return {"total": t2 - t0, "build": t1 - t0, "start": t2 - t1}


def compile_alone_command(build, work):
    """counter.cpp's command from compile_commands.json, writing elsewhere."""
    entries = json.load(open(os.path.join(build, "compile_commands.json")))
    e = [x for x in entries if x["file"].endswith("/counter.cpp")]
    if len(e) != 1:
        die("compile_commands.json of %s has no single counter.cpp entry" % build)
    e = e[0]
    return benchlib.command_writing_to(e, os.path.join(work, "compile-alone.o")), e["directory"]


# (label, first mark, second mark): where an edit's time goes, from the
# events dev_shim.c records (see dev_marks).
PHASES = [
    ("save to the first inotify event read", "save", "inotify"),
    ("wait for the files to be quiet (QuietMs 80), poll", "inotify_last", "cc"),
    ("compile (clang++, its own command)", "cc", "cc_done"),
    ("re-read every depfile", "cc_done", "ninja"),
    ("ninja -t deps (headers of every object)", "ninja", "ninja_done"),
    ("watch; thin link (in-process)", "ninja_done", "announce"),
    ("announce patch-starting to every process", "announce", "buildid"),
    ("read the cache for the build-id; list processes", "buildid", "apply"),
    ("apply: the control socket round trip", "apply", "apply_done"),
    ("print the line", "apply_done", "say"),
    ("the line reaches the driver", "say", "line"),
]


def dev_marks(events, t_save, t_line, program):
    """Marks of one edit, from the shim's events between the save and the line."""
    ev = [e for e in events if t_save - 1.0 <= e[0] <= t_line]
    m = {"save": t_save, "line": t_line}
    cc_pid = ninja_pid = None
    for t, kind, rest in ev:
        w = rest.split(" ")
        if kind == "inotify":
            m.setdefault("inotify", t)
            if "cc" not in m:
                m["inotify_last"] = t
        elif kind == "spawn" and "cc" not in m and ("clang" in w[1] or "++" in w[1]):
            m["cc"], cc_pid = t, w[0]
        elif kind == "reaped" and w[0] == cc_pid and "cc_done" not in m:
            m["cc_done"] = t
        elif kind == "spawn" and "cc_done" in m and w[1] == "ninja" and "ninja" not in m:
            m["ninja"], ninja_pid = t, w[0]
        elif kind == "reaped" and w[0] == ninja_pid and "ninja_done" not in m:
            m["ninja_done"] = t
        elif kind == "rename" and rest.endswith(".hpchain"):
            m.setdefault("link_done", t)
        elif kind == "connect" and "link_done" in m:
            m.setdefault("announce", t)
            m["apply"] = t  # the last connect before the line: the apply
            m["apply_sock"] = rest
        elif kind == "open" and rest == program + ".hpcache" and "announce" in m:
            m.setdefault("buildid", t)
        elif kind == "close" and rest == m.get("apply_sock") and "apply" in m:
            m["apply_done"] = t
        elif kind == "say" and rest.startswith("[hotpatch] patched"):
            m["say"] = t
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--phases", type=int, default=5)
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    if a.rounds < 1 or a.phases < 0:
        die("--rounds needs at least 1")
    if 2 + a.rounds + a.phases > 110:
        die("too many edits for one chain of patches: lower --rounds or --phases")
    cfg = json.load(open(a.config))
    work = cfg["work_dir"]
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)

    copies = {}
    for name, extra in (("dev", ()), ("restart", ()), ("plain", ("-DHOTPATCH_ENABLE=OFF",))):
        src = os.path.join(work, name + "-src")
        shutil.copytree(cfg["example"], src)
        build = os.path.join(work, name + "-build")
        configure(cfg, src, build, extra)
        copies[name] = (src, build)
    original = open(os.path.join(copies["dev"][0], "counter.cpp"), encoding="utf-8").read()
    if original.count(ORIGINAL) != 1:
        die("examples/counter/counter.cpp no longer has one %s in render()" % ORIGINAL)
    texts = [original.replace(ORIGINAL, '"%s"' % r) for r, _ in VERSIONS]
    cc, cc_dir = compile_alone_command(copies["dev"][1], work)
    dev_src = os.path.join(copies["dev"][0], "counter.cpp")
    dev_prog = os.path.join(copies["dev"][1], "counter")
    prefix = "@hotpatch/%d/" % os.getuid()  # the runtime's abstract socket names

    def sockets():
        """Listeners of this user's programs (the kernel's table of Unix
        sockets), and how many of them belong to a live process."""
        try:
            names = [line.split()[-1] for line in open("/proc/net/unix")
                     if line.split()[-1].startswith(prefix)]
        except OSError:
            return 0, 0
        live = 0
        for n in names:
            try:
                os.kill(int(n[len(prefix):].split(".")[0]), 0)
                live += 1
            except (OSError, ValueError):
                pass
        return len(names), live

    times = {k: [] for k in ("save_patched", "save_text", "tick_wait", "dev_total",
                             "dev_compile", "dev_link", "dev_apply", "compile",
                             "restart", "restart_build", "restart_start",
                             "plain", "plain_build", "plain_start")}
    functions = set()
    edits = {"n": 0}
    phases = {}
    dev = None

    def compile_alone():
        t0 = time.perf_counter()
        p = subprocess.run(cc, cwd=cc_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        t = (time.perf_counter() - t0) * 1000.0
        if p.returncode != 0:
            die("the compile alone failed:\n" + p.stdout.decode(errors="replace"))
        return t

    def next_text():
        k = edits["n"] % 2
        edits["n"] += 1
        return texts[k], VERSIONS[k][1]

    try:
        dev = DevSession(cfg, copies["dev"][1])
        # Warm-up: one of each.
        dev.edit(dev_src, *next_text())
        compile_alone()
        restart_once(cfg, copies["restart"][0], copies["restart"][1], texts[1])
        restart_once(cfg, copies["plain"][0], copies["plain"][1], texts[1])
        socks_before = sockets()
        load_before = loadavg()
        kinds = ["edit", "compile", "restart", "plain"]
        for r in range(a.rounds):
            text_r, prefix_r = next_text()
            for i in range(len(kinds)):
                k = kinds[(i + r) % len(kinds)]
                if k == "edit":
                    res = dev.edit(dev_src, text_r, prefix_r)
                    for key in ("save_patched", "save_text", "tick_wait", "dev_total",
                                "dev_compile", "dev_link", "dev_apply"):
                        times[key].append(res[key])
                    functions.add((res["function"], res["processes"]))
                elif k == "compile":
                    times["compile"].append(compile_alone())
                else:
                    res = restart_once(cfg, copies[k][0], copies[k][1], text_r)
                    times[k].append(res["total"])
                    times[k + "_build"].append(res["build"])
                    times[k + "_start"].append(res["start"])
        load_after = loadavg()
        dev.stop()
        dev = None

        if a.phases:
            log = os.path.join(work, "dev-shim.log")
            env = dict(os.environ, LD_PRELOAD=cfg["shim"], HOTPATCH_DEV_SHIM_LOG=log,
                       HOTPATCH_DEV_SHIM_WATCH=work)
            # The shim goes into hotpatch-dev itself, the program `hotpatch
            # dev` execs: it takes LD_PRELOAD out of the environment, so
            # preloaded into bin/hotpatch it would not reach the dev loop.
            dev = DevSession(cfg, copies["dev"][1], env=env, command=cfg["hotpatch_dev"])
            dev.edit(dev_src, *next_text())  # warm-up
            results = []
            for _ in range(a.phases):
                results.append(dev.edit(dev_src, *next_text()))
            dev.stop()
            dev = None
            events = []
            for line in open(log):
                t, kind, rest = (line.rstrip("\n").split(" ", 2) + ["", ""])[:3]
                events.append((float(t), kind, rest))
            for res in results:
                m = dev_marks(events, res["t_save"], res["t_patched"], dev_prog)
                for label, b, e in PHASES:
                    if b in m and e in m:
                        phases.setdefault(label, []).append(m[e] - m[b])
                phases.setdefault("total: save to the line", []).append(res["save_patched"])
    finally:
        if dev:
            dev.stop()

    med = {k: statistics.median(v) for k, v in times.items() if v}
    mn = {k: min(v) for k, v in times.items() if v}
    print("Hotpatch dev loop: examples/counter under `hotpatch dev`; %d rounds, per round "
          "one saved edit, one compile alone, one rebuild + restart of each build, order "
          "rotated" % a.rounds)
    print("Machine: %s; load average %s before the rounds, %s after; control sockets %s*: "
          "%d (%d live)" % (machine(), load_before, load_after, prefix, socks_before[0],
                            socks_before[1]))
    print("Edits: render()'s \"count \" to \"COUNT \" and \"Count \", alternately; %s"
          % "; ".join("%s patched in %d process(es)" % f for f in sorted(functions)))
    print("Compile alone: %s" % " ".join(shlex.quote(x) for x in cc))
    print()
    rows = [
        ("save to patched (driver's clock)", "save_patched"),
        ("  hotpatch dev's own figure", "dev_total"),
        ("    of which: compile", "dev_compile"),
        ("    of which: thin link", "dev_link"),
        ("    of which: apply", "dev_apply"),
        ("save to the new text on screen", "save_text"),
        ("  tick wait (patched to new text)", "tick_wait"),
        ("compile counter.cpp alone", "compile"),
        ("rebuild + relink + restart (Hotpatch build)", "restart"),
        ("  ninja (compile, thinlink)", "restart_build"),
        ("  start to first line", "restart_start"),
        ("rebuild + relink + restart (HOTPATCH_ENABLE=OFF)", "plain"),
        ("  ninja (compile, link)", "plain_build"),
        ("  start to first line", "plain_start"),
    ]
    print("| step                                              | median ms |   min ms |")
    print("|---------------------------------------------------|----------:|---------:|")
    for label, k in rows:
        fmt = "| %-49s | %9.2f | %8.2f |" if k == "dev_apply" else "| %-49s | %9.1f | %8.1f |"
        print(fmt % (label, med[k], mn[k]))
    print()
    print("| ratio                                             | median ratio | min ratio |")
    print("|---------------------------------------------------|-------------:|----------:|")
    for label, num, den in (
            ("save to patched / compile alone", "save_patched", "compile"),
            ("save to new text / compile alone", "save_text", "compile"),
            ("save to patched / rebuild + restart", "save_patched", "restart"),
            ("save to new text / rebuild + restart", "save_text", "restart"),
            ("save to patched / rebuild + restart, no Hotpatch", "save_patched", "plain")):
        print("| %-49s | %11.3fx | %8.3fx |" % (label, med[num] / med[den], mn[num] / mn[den]))
    if phases:
        print()
        print("Where an edit's time goes (dev_shim.c preloaded into hotpatch dev), ms, %d edits:"
              % a.phases)
        print()
        print("| phase                                             |  median |     min |")
        print("|---------------------------------------------------|--------:|--------:|")
        for label in [p[0] for p in PHASES] + ["total: save to the line"]:
            v = phases.get(label)
            if v:
                print("| %-49s | %7.1f | %7.1f |" % (label, statistics.median(v), min(v)))
    if a.raw:
        print()
        print("Every time, ms, in the order run:")
        for k, v in times.items():
            print("  %-15s %s" % (k, " ".join("%.1f" % x for x in v)))
        for label, v in phases.items():
            print("  phase %-50s %s" % (label, " ".join("%.1f" % x for x in v)))
    print()
    print("Targets:")
    ratio = med["save_patched"] / med["compile"]
    ok = ratio <= TARGET_RATIO
    print("  %-4s save to running / compile alone  %.3fx <= %.1fx (median; %.1f ms / %.1f ms)"
          % ("PASS" if ok else "MISS", ratio, TARGET_RATIO, med["save_patched"], med["compile"]))
    print("  info save to running / rebuild + relink + restart  %.3fx (median; %.1f ms / %.1f ms)"
          % (med["save_patched"] / med["restart"], med["save_patched"], med["restart"]))
    return 2 if a.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
