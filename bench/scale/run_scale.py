#!/usr/bin/env python3
"""The scale benchmark's driver: does a thin link follow the edit, or the
program? A one-function edit of generated programs of growing size, thin-
linked as the thinlink command and in one process as hotpatch dev runs it,
against a relink of all objects with ld.lld measured in the same run; then a
chain of patches on the largest program. The command is timed both ways it
runs: handed to its resident thin linker (tools/ThinlinkServer.h), and in
its own process (HOTPATCH_THINLINK_SERVER=0), alternated. docs/performance.md ("Thin link
against program size and chain length") quotes its output.

Usage: run_scale.py --config <build>/bench/scale/scale-config.json
                    [--sizes 50,200,1000] [--rounds N] [--chain N] [--raw] [--strict]

  --sizes   program sizes in files of 50 functions (default 50,200,1000)
  --rounds  thin links timed per size and per way (default 11), alternately
            the edited and the original object, so each is a real change
  --chain   patches in the chain run on the largest program (default 1000);
            then thin links after that chain and at the start of a fresh
            one, alternated, compared
  --raw     also print every time measured
  --strict  exit with status 2 when a target is missed

The programs: bench/fatlink/gen_program.py (50 functions a file, calls
across files, virtual methods, statics, globals), compiled -O1 -g -fPIE with
the plugin, every function hot, into <work>/<size>/; the driver compiles
only what is missing or older than its source. The edit: the depth-0
constant of f<mid>_3 in the middle file, plus 2.

Targets (issue "Faster than the compiler", everything after the compile), at
the largest size: the thinlink --patch command under 20 ms wall; a thin link
in a process that keeps the cache (hotpatch dev) under 10 ms; after the
chain, no slower than at its start.
"""
import argparse
import glob
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import die, run, linker_command, machine, loadavg  # noqa: E402
benchlib.NAME = "scale"

TARGET_WALL_MS = 20.0    # thinlink --patch, whole command, at the largest size
TARGET_INPROC_MS = 10.0  # a thin link in a process that keeps the cache
TARGET_CHAIN_RATIO = 1.10  # end of the chain against its start (noise allowance)

THIN_RE = re.compile(r"^patch (\d+) for .*?, ([0-9.]+) ms$", re.M)
PHASE_RE = re.compile(r"^  phase: +([0-9.]+) ms  (.*)$", re.M)


def timed(cmd, cwd=None, env=None):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    t = (time.perf_counter() - t0) * 1000.0
    if p.returncode != 0:
        die("command failed (%d): %s ...\n%s%s" % (p.returncode, " ".join(cmd[:4]),
                                                  p.stdout[-2000:], p.stderr[-2000:]))
    return t, p.stdout


def med(xs):
    return statistics.median(xs) if xs else float("nan")


class Program:
    """One generated program: sources, objects, the fat-linked executable."""

    def __init__(self, cfg, files):
        self.cfg = cfg
        self.files = files
        self.dir = os.path.join(cfg["work_dir"], str(files))
        self.src = os.path.join(self.dir, "src")
        self.obj = os.path.join(self.dir, "obj")
        self.exe = os.path.join(self.dir, "program")
        mid = files // 2
        self.edit_name = "f%03d" % mid
        self.edit_func = "f%03d_3" % mid

    def compile_cmd(self, source, output):
        c = self.cfg
        return [c["clangxx"], "-O1", "-g", "-fPIE", "-fplugin=" + c["plugin"],
                "-fplugin-arg-hotpatch-all", "-I" + self.src, "-I" + c["runtime_include"],
                "-c", source, "-o", output]

    def build(self):
        os.makedirs(self.obj, exist_ok=True)
        run([sys.executable, self.cfg["generator"], self.src, "--files", str(self.files),
             "--funcs", "50"])
        names = sorted(f[:-4] for f in os.listdir(self.src) if f.endswith(".cpp"))
        plugin_time = os.path.getmtime(self.cfg["plugin"])
        todo = []
        for n in names:
            s, o = os.path.join(self.src, n + ".cpp"), os.path.join(self.obj, n + ".o")
            newest = max(os.path.getmtime(s), plugin_time)
            h = os.path.join(self.src, n + ".h")
            if os.path.exists(h):
                newest = max(newest, os.path.getmtime(h))
            if not os.path.exists(o) or os.path.getmtime(o) < newest:
                todo.append((s, o))
        if todo:
            print("compiling %d of %d files of the %d-file program (-O1 -g, two at a time)..."
                  % (len(todo), len(names), self.files), flush=True)
            with ThreadPoolExecutor(max_workers=2) as ex:
                for _ in ex.map(lambda so: run(self.compile_cmd(*so)), todo):
                    pass
        self.objects = [os.path.join(self.obj, n + ".o") for n in names]
        self.edit_obj = os.path.join(self.obj, self.edit_name + ".o")
        # Versions of the edited object: the edit, and the source as generated.
        src = os.path.join(self.src, self.edit_name + ".cpp")
        orig = open(src, encoding="utf-8").read()
        self.v = [os.path.join(self.dir, "v0.o"), os.path.join(self.dir, "v1.o")]
        try:
            with open(src, "w", encoding="utf-8") as f:
                f.write(benchlib.bump_depth0_constant(orig, self.edit_func))
            run(self.compile_cmd(src, self.v[1]))
        finally:
            with open(src, "w", encoding="utf-8") as f:
                f.write(orig)
        run(self.compile_cmd(src, self.v[0]))
        shutil.copyfile(self.v[0], self.edit_obj)
        self.state = 0  # the version the chain's newest patch (or the base) holds

    def link_cmd(self, out, thin):
        c = self.cfg
        cmd = [c["clangxx"], "-fuse-ld=lld"]
        if thin:
            cmd.append("--ld-path=" + c["thinlink"])
        return cmd + self.objects + ["-o", out, "-L" + c["runtime_dir"], "-lhotpatch",
                                     "-Wl,-rpath," + c["runtime_dir"]]

    def fat_link(self):
        for suffix in ("", ".hpcache", ".hpchain", ".hpjournal"):
            if os.path.exists(self.exe + suffix):
                os.remove(self.exe + suffix)
        run(self.link_cmd(self.exe, True))
        while os.path.exists(self.exe + ".hpcache.pending"):
            time.sleep(0.002)
        if not os.path.exists(self.exe + ".hpcache"):
            die("thinlink wrote no cache for %s" % self.exe)
        self.cache_bytes = os.path.getsize(self.exe + ".hpcache")

    def reset_chain(self):
        for suffix in (".hpchain", ".hpjournal"):
            if os.path.exists(self.exe + suffix):
                os.remove(self.exe + suffix)
        self.state = 0

    def thin(self, served=True, check=True):
        """One thin link of the other version than the running one, handed
        to the resident thin linker (served) or in the command's process
        (checked, unless check is false: either, as it comes)."""
        version = 1 - self.state
        self.state = version
        shutil.copyfile(self.v[version], self.edit_obj)
        # A new file per patch, as hotpatch dev writes them.
        self.patch_no = getattr(self, "patch_no", 0) + 1
        os.makedirs(os.path.join(self.dir, "patches"), exist_ok=True)
        out_path = os.path.join(self.dir, "patches", "p%d.hpp" % self.patch_no)
        env = dict(os.environ)
        if not served:
            env["HOTPATCH_THINLINK_SERVER"] = "0"
        t, out = timed([self.cfg["thinlink"], "--patch", "--phases", "--base", self.exe,
                        "-o", out_path, self.edit_obj], env=env)
        m = THIN_RE.search(out)
        if not m:
            die("thinlink made no patch:\n" + out[-2000:])
        if check and served != out.startswith("thin link in the resident thin linker"):
            die("the thin link was %s the resident thin linker:\n%s"
                % ("not run by" if served else "run by", out[-2000:]))
        phases = [(n, float(ms)) for ms, n in PHASE_RE.findall(out)]
        return t, float(m.group(2)), phases

    def inproc(self, runs):
        """Thin links in one process: [(ms, phases)] per link."""
        p = run([self.cfg["inproc"], "--base", self.exe, "--object", self.edit_obj,
                 "--versions", self.v[1 - self.state], self.v[self.state], "--runs", str(runs)])
        if runs % 2:
            self.state = 1 - self.state
        names, links = [], []
        for line in p.stdout.splitlines():
            if line.startswith("phases "):
                names = line[len("phases "):].split("|")
            elif line.startswith("link "):
                f = line.split()
                links.append((float(f[2]), [float(x) for x in f[4:]]))
        return names, links


def wait_for_server():
    """Until the resident thin linker of this run's socket directory listens."""
    for _ in range(400):
        for path in glob.glob(os.path.join(os.environ["HOTPATCH_THINLINK_SOCKET_DIR"],
                                           "tl-*.sock")):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return
            except OSError:
                pass
            finally:
                s.close()
        time.sleep(0.025)
    die("no resident thin linker started")


def row(label, values, unit="ms"):
    if unit == "ms":
        print("| %-48s | %9.1f | %8.1f |" % (label, med(values), min(values)))
    else:
        print("| %-48s | %9.3fx | %7.3fx |" % (label, med(values), min(values)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--sizes", default="50,200,1000")
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--chain", type=int, default=1000)
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    cfg = json.load(open(a.config))
    sizes = [int(s) for s in a.sizes.split(",")]
    print("machine: %s; load average %s" % (machine(), loadavg()))
    # This run's own resident thin linker, ended a minute after the run.
    os.environ["HOTPATCH_THINLINK_SOCKET_DIR"] = tempfile.mkdtemp(prefix="hptl-", dir="/tmp")
    os.environ["HOTPATCH_THINLINK_IDLE_SECONDS"] = "60"
    os.environ.pop("HOTPATCH_THINLINK_SERVER", None)

    results, programs = {}, {}
    for files in sizes:
        prog = programs[files] = Program(cfg, files)
        prog.build()
        prog.fat_link()
        prog.reset_chain()
        lld_cmd = linker_command(prog.link_cmd(os.path.join(prog.dir, "relink"), False),
                                 prog.dir)
        wall, own, relink, phases = [], [], [], {}
        cold, cold_own, cold_phases = [], [], {}
        # Warm: page cache, the first patch of the chain; it starts the
        # resident thin linker (this binary's first), whose first link maps
        # the cache and warms lld.
        prog.thin(check=False)
        wait_for_server()
        first_served = prog.thin()[0]
        for r in range(a.rounds):
            t, _ = timed(lld_cmd, cwd=prog.dir)
            relink.append(t)
            w, o, ph = prog.thin()
            wall.append(w)
            own.append(o)
            for n, ms in ph:
                phases.setdefault(n, []).append(ms)
            w, o, ph = prog.thin(served=False)
            cold.append(w)
            cold_own.append(o)
            for n, ms in ph:
                cold_phases.setdefault(n, []).append(ms)
        names, links = prog.inproc(a.rounds + 1)
        inproc = [ms for ms, _ in links[1:]]
        inproc_phases = {n: [ph[i] for _, ph in links[1:]] for i, n in enumerate(names)}
        funcs = files * 50
        results[files] = dict(wall=wall, own=own, relink=relink, inproc=inproc, cold=cold,
                              first=links[0][0], cache=prog.cache_bytes)
        print()
        print("## %d files, %d functions (cache %.1f MB)" % (files, funcs, prog.cache_bytes / 1e6))
        print()
        print("| %-48s | %9s | %8s |" % ("step", "median ms", "min ms"))
        print("|%s|%s|%s|" % ("-" * 50, "-" * 11, "-" * 10))
        row("thinlink --patch, wall", wall)
        row("  as the resident thin linker reports it", own)
        for n, v in phases.items():
            row("    " + n, v)
        print("| %-48s | %9.1f | %8s |" % ("  its first link (maps the cache)", first_served, "-"))
        row("thinlink --patch in its process, wall", cold)
        row("  as thinlink reports it", cold_own)
        for n, v in cold_phases.items():
            row("    " + n, v)
        row("in one process (hotpatch dev), later links", inproc)
        for n, v in inproc_phases.items():
            row("    " + n, v)
        print("| %-48s | %9.1f | %8s |" % ("in one process, first link (maps the cache)",
                                           links[0][0], "-"))
        row("relink: ld.lld alone", relink)
        print()
        print("| %-48s | %10s | %9s |" % ("ratio", "median", "min"))
        print("|%s|%s|%s|" % ("-" * 50, "-" * 12, "-" * 11))
        row("thinlink --patch / relink with ld.lld", [w / r for w, r in zip(wall, relink)], "x")
        row("thinlink --patch in its process / relink", [w / r for w, r in zip(cold, relink)],
            "x")
        row("in one process / relink with ld.lld", [i / med(relink) for i in inproc], "x")
        if a.raw:
            print("raw wall:", " ".join("%.1f" % x for x in wall))
            print("raw wall in its process:", " ".join("%.1f" % x for x in cold))
            print("raw inproc:", " ".join("%.1f" % x for x in inproc))
            print("raw relink:", " ".join("%.1f" % x for x in relink))

    # Leave the objects as the sources say.
    for prog in programs.values():
        shutil.copyfile(prog.v[0], prog.edit_obj)

    # The chain, on the largest program: a chain of --chain patches built in
    # one process, then thin links at its end and at the start of a fresh
    # chain, alternated (the chain files saved and put back each time), so
    # that the machine's drift, which on this shared guest moves timings by
    # a third within a minute, weighs on both alike.
    largest = max(sizes)
    prog = programs[largest]
    prog.reset_chain()
    _, built = prog.inproc(a.chain)
    saved = {}
    for suffix in (".hpchain", ".hpjournal"):
        saved[suffix] = open(prog.exe + suffix, "rb").read()
    long_state = prog.state

    def at_end():
        for suffix, data in saved.items():
            with open(prog.exe + suffix, "wb") as f:
                f.write(data)
        prog.state = long_state

    wall = {"end": [], "start": []}
    inproc = {"end": [], "start": []}
    for r in range(3):
        for which in ("end", "start"):
            at_end() if which == "end" else prog.reset_chain()
            wall[which] += [prog.thin()[0] for _ in range(max(3, a.rounds // 3))]
            _, links = prog.inproc(max(6, a.rounds // 2))
            inproc[which] += [ms for ms, _ in links[1:]]
    chain_len = a.chain
    print()
    print("## After a chain of %d patches, %d-file program" % (chain_len, largest))
    print()
    print("| %-48s | %9s | %8s |" % ("step", "median ms", "min ms"))
    print("|%s|%s|%s|" % ("-" * 50, "-" * 11, "-" * 10))
    row("building the chain in one process, links 2-21", [ms for ms, _ in built[1:21]])
    row("building the chain in one process, last 20 links", [ms for ms, _ in built[-20:]])
    row("thinlink --patch, wall, at the start of a chain", wall["start"])
    row("thinlink --patch, wall, after the chain", wall["end"])
    row("in one process, at the start of a chain", inproc["start"])
    row("in one process, after the chain", inproc["end"])
    print()
    ratio_wall = med(wall["end"]) / med(wall["start"])
    ratio_in = med(inproc["end"]) / med(inproc["start"])
    print("| %-48s | %10.3fx |" % ("after the chain / at its start, thinlink --patch", ratio_wall))
    print("| %-48s | %10.3fx |" % ("after the chain / at its start, in one process", ratio_in))

    big = results[largest]
    checks = [
        ("thinlink --patch at %d files, median wall (target < %.0f ms)" % (largest, TARGET_WALL_MS),
         med(big["wall"]), med(big["wall"]) < TARGET_WALL_MS),
        ("a thin link in hotpatch dev at %d files, median (target < %.0f ms)"
         % (largest, TARGET_INPROC_MS), med(big["inproc"]), med(big["inproc"]) < TARGET_INPROC_MS),
        ("after %d patches against the start, in one process (target <= %.2fx)"
         % (chain_len, TARGET_CHAIN_RATIO), ratio_in, ratio_in <= TARGET_CHAIN_RATIO),
        ("after %d patches against the start, thinlink --patch (target <= %.2fx)"
         % (chain_len, TARGET_CHAIN_RATIO), ratio_wall, ratio_wall <= TARGET_CHAIN_RATIO),
    ]
    print()
    missed = 0
    for label, value, ok in checks:
        print("%s %s: %.2f" % ("MET " if ok else "MISS", label, value))
        missed += not ok
    shutil.copyfile(prog.v[0], prog.edit_obj)
    for p in programs.values():
        shutil.rmtree(os.path.join(p.dir, "patches"), ignore_errors=True)
    print("load average after the run: %s" % loadavg())
    if a.strict and missed:
        sys.exit(2)


if __name__ == "__main__":
    main()
