#!/usr/bin/env python3
"""The patch benchmark's driver: a one-function edit of the 10,000-function
program, thin-linked with thinlink --patch and applied to the running
process, against a full relink of all objects measured in the same run.
docs/performance.md ("Patch") quotes its output.

Usage: run_patch.py --config <build>/bench/patch/patch-config.json
                    [--rounds N] [--compiles N] [--phases N] [--raw] [--strict]

  --rounds N    patches timed (default 21), each thin-linked, applied to the
                running program and checked; one round also relinks all
                objects once with each relink command, in an order rotated
                by one every round
  --compiles N  compiles of the edited file timed (default 7), alternately
                the edited and the original text
  --phases N    extra thin links with bench/fatlink/phase_shim.c preloaded,
                for the timeline of where their time goes (default 5; 0:
                none); each is applied too, so the chain stays in order
  --raw         also print every time measured
  --strict      exit with status 2 when a target is missed

The program: bench/fatlink/gen_program.py's 200 files (generated again into
this build directory), compiled with the plugin (every function hot), and
bench/patch/patch_main.cpp, which answers "x depth" lines on stdin with
edit_func(x, depth), so the driver sees which version the process runs.

The edit: in edit_func, the constant of `return x * 0x...ull + table[k];`
(the depth-0 return) plus 2. Patches alternate between the edited text and
the original one (each a one-function change against the running state);
the object is rebuilt with the compile command ninja has for it, so its
path is the one the program was linked from. The source and the object are
restored at the end.

The relinks, all of the same 201 objects, each writing its own output:
  ld.lld via clang++    clang++ -fuse-ld=lld <objects> -o ... -lhotpatch ...
  ld.lld alone          the linker command clang++ -### prints for it
  thinlink via clang++  the same with --ld-path=<thinlink> (the fat link a
                        hot-patching user relinks with)

Start-up, in the same rounds: `thinlink --version` (a process that starts
and exits), and the same of thinlink linked with libLLVM.so (built beside it
as bench/patch/thinlink-shared when thinlink links LLVM statically), to show
what the static link saves; and `hotpatch apply --pid` against the apply
time the process reports, whose difference is the command's own start-up.
"""
import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import die, now_ms, run, linker_command, machine, loadavg  # noqa: E402
benchlib.NAME = "patch"


TARGET_THIN_MS = 50.0   # thin link of a one-function edit, median wall time
TARGET_APPLY_MS = 2.0   # apply inside the process, median of the runtime's figure


def timed(cmd, cwd=None, env=None):
    """Wall time of one command, fork to exit, in ms, and its stdout."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t = (time.perf_counter() - t0) * 1000.0
    if p.returncode != 0:
        die("command failed (%d): %s ...\n%s%s" % (
            p.returncode, " ".join(cmd[:4]), p.stdout.decode(errors="replace")[-2000:],
            p.stderr.decode(errors="replace")[-2000:]))
    return t, p.stdout.decode(errors="replace")


def compile_command(cfg, obj):
    """The command ninja builds obj with, and the directory it runs in."""
    build = cfg["build_dir"]
    rel = os.path.relpath(obj, build)
    ninja = shutil.which("ninja")
    if ninja and os.path.exists(os.path.join(build, "build.ninja")):
        p = subprocess.run([ninja, "-C", build, "-t", "commands", "-s", rel],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        if p.returncode == 0 and lines:
            return shlex.split(lines[-1]), build
    cc = os.path.join(build, "compile_commands.json")
    if os.path.exists(cc):
        for e in json.load(open(cc)):
            out = e.get("output") or ""
            if os.path.normpath(os.path.join(e["directory"], out)) == obj:
                cmd = e.get("arguments") or shlex.split(e["command"])
                return cmd, e["directory"]
    die("cannot find the command that compiles %s (a Ninja build is needed, or "
        "compile_commands.json)" % obj)


def make_edit(text, func):
    """The source with the depth-0 constant of func plus 2, and the delta."""
    return benchlib.bump_depth0_constant(text, func, 2), 2


def write_file(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class Program:
    """The running program: asks it edit_func(x, depth) over its stdin."""

    def __init__(self, path):
        env = dict(os.environ)
        env.pop("HOTPATCH_DISABLE", None)
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1, env=env)
        if self.p.stdout.readline().strip() != "ready":
            die("the program did not start")
        # The runtime listens on an abstract socket name
        # (hotpatch/control_protocol.h), listed in /proc/net/unix.
        sock = "@hotpatch/%d/%d" % (os.getuid(), self.p.pid)
        for _ in range(400):
            with open("/proc/net/unix") as table:
                if any(line.split()[-1] == sock for line in table if len(line.split()) == 8):
                    break
            time.sleep(0.005)
        else:
            die("the program does not listen on %s" % sock)
        self.pid = self.p.pid

    def call(self, x, depth):
        self.p.stdin.write("%d %d\n" % (x, depth))
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            die("the program exited")
        return int(line)

    def stop(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
                self.p.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait()


APPLY_RE = re.compile(r"applied patch (\d+), (\d+) functions, in ([0-9.]+) ms "
                      r"\(check ([0-9.]+) ms, map ([0-9.]+) ms\)")
THIN_RE = re.compile(r"^patch (\d+) for .*: (\d+) changed, (\d+) added, (\d+) slot updates, "
                     r"(?:.*, )?(\d+) bytes, ([0-9.]+) ms$", re.M)


# (label, first mark, second mark): the phases of a thin link, from the
# events phase_shim.c records (see phase_marks).
PHASES = [
    # "start" is the preloaded shim's constructor: after the shared
    # libraries' constructors (libLLVM.so's), before the program's own
    # (LLVM's when it is linked in statically).
    ("exec, dynamic loading, shared libs' constructors", "spawn", "start"),
    ("program's constructors, main, to opening cache", "start", "cache"),
    ("read the cache, index its symbols", "cache", "chain"),
    ("chain state; read, hash, compare the object", "chain", "rewrite"),
    ("rewrite the object; resolve base symbols", "rewrite", "basesyms"),
    ("write base-symbols.o and the script, start lld", "basesyms", "script"),
    ("lld: read the script and inputs, lay out", "script", "lld-out"),
    ("lld: write the image", "lld-out", "image"),
    ("read the image, write the patch file", "image", "patch"),
    ("save the chain state", "patch", "chainsave"),
    ("remove work dir, print, free, leave main", "chainsave", "fini"),
    ("exit", "fini", "end"),
]


def phase_run(cmd, cfg, work, program, patch):
    log = os.path.join(work, "phases.log")
    if os.path.exists(log):
        os.remove(log)
    # In the command's own process (thinlink-lld, which the front execs
    # with this environment), where the shim can see its phases.
    env = dict(os.environ, LD_PRELOAD=cfg["phase_shim"], HOTPATCH_PHASE_LOG=log,
               HOTPATCH_PHASE_OUTPUT="/", HOTPATCH_THINLINK_SERVER="0")
    t0 = now_ms()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t1 = now_ms()
    if p.returncode != 0:
        die("thin link with the phase shim failed: %s" % p.stderr.decode(errors="replace")[-2000:])
    events = []
    for line in open(log):
        t, kind, path = (line.rstrip("\n").split(" ", 2) + [""])[:3]
        events.append((float(t) - t0, kind, path))
    m = {"spawn": 0.0, "end": t1 - t0}
    for t, kind, path in events:
        if kind == "start":
            m.setdefault("start", t)
        elif kind == "open" and path == program + ".hpcache":
            m.setdefault("cache", t)
        elif kind == "open" and path == program + ".hpchain":
            m.setdefault("chain", t)
        elif kind == "open" and "/thinlink-patch-" in path:
            base = os.path.basename(path)
            if base == "base-symbols.o":
                m.setdefault("basesyms", t)
            elif base == "patch.lds":
                if "script-w" not in m:
                    m["script-w"] = t
                else:
                    m.setdefault("script", t)
            elif base.startswith("patch.elf.tmp"):
                m.setdefault("lld-out", t)
            elif base.endswith(".o") and "rewrite" not in m:
                m["rewrite"] = t
        elif kind == "rename" and "/thinlink-patch-" in path and path.endswith("/patch.elf"):
            m.setdefault("image", t)
        elif kind == "rename" and path == patch:
            m.setdefault("patch", t)
        elif kind == "rename" and path == program + ".hpchain":
            m.setdefault("chainsave", t)
        elif kind in ("fini", "_exit"):
            m.setdefault("fini", t)
    if "chain" not in m and "cache" in m:
        m["chain"] = m["cache"]  # no chain state read (none yet)
    return m, p.stdout.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--compiles", type=int, default=7)
    ap.add_argument("--phases", type=int, default=5)
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    if a.rounds < 1 or a.compiles < 2 or a.phases < 0:
        die("--rounds needs at least 1, --compiles at least 2")
    if 1 + a.rounds + a.phases > 120:
        die("at most 119 patches fit in one chain: lower --rounds or --phases")
    cfg = json.load(open(a.config))
    work = cfg["work_dir"]
    os.makedirs(work, exist_ok=True)
    objects = [os.path.normpath(o) for o in cfg["objects"]]
    lib = cfg["runtime_dir"]
    src = os.path.join(cfg["src_dir"], cfg["edit_file"] + ".cpp")
    edit_obj = [o for o in objects if o.endswith("/src/%s.cpp.o" % cfg["edit_file"])]
    if len(edit_obj) != 1:
        die("no object for %s.cpp among the objects" % cfg["edit_file"])
    edit_obj = edit_obj[0]
    func = cfg["edit_func"]
    program = os.path.join(work, "program")

    # Undo whatever an interrupted run left behind: the generator rewrites a
    # file only if its text differs from what it generates.
    gen = run([cfg["python"], cfg["generator"], cfg["src_dir"], "--files", str(cfg["files"]),
               "--funcs", str(cfg["funcs_per_file"])]).stdout.strip()
    orig = open(src, encoding="utf-8").read()
    edited, delta = make_edit(orig, func)
    cc, cc_dir = compile_command(cfg, edit_obj)
    if edit_obj not in [os.path.normpath(os.path.join(cc_dir, x)) for x in cc]:
        die("the compile command does not write %s: %s" % (edit_obj, " ".join(cc)))
    v0_obj = os.path.join(work, "v0.o")
    v1_obj = os.path.join(work, "v1.o")

    def compile_text(text):
        write_file(src, text)
        t, _ = timed(cc, cwd=cc_dir)
        return t

    compile_text(orig)  # the object as the source says (and a warm-up)
    shutil.copyfile(edit_obj, v0_obj)

    thinlink_shared = cfg.get("thinlink_shared")
    if thinlink_shared and not os.path.exists(thinlink_shared):
        thinlink_shared = None

    def clang_link(out, thin):
        cmd = [cfg["clangxx"], "-fuse-ld=lld"]
        if thin:
            cmd.append("--ld-path=" + (thin if isinstance(thin, str) else cfg["thinlink"]))
        return cmd + objects + ["-o", out, "-L" + lib, "-lhotpatch", "-Wl,-rpath," + lib]

    for f in (program, program + ".hpcache", program + ".hpchain", program + ".hpjournal"):
        if os.path.exists(f):
            os.remove(f)
    run(clang_link(program, True), cwd=work)
    # thinlink writes the cache in a background process after the link.
    while os.path.exists(program + ".hpcache.pending"):
        time.sleep(0.001)
    if not os.path.exists(program + ".hpcache"):
        die("thinlink wrote no cache for %s" % program)
    relink_out = {k: os.path.join(work, k) for k in ("relink-clang-lld", "relink-lld",
                                                     "relink-clang-thin",
                                                     "relink-clang-thin-shared")}
    lld_args = linker_command(clang_link(relink_out["relink-lld"], False), work)
    relinks = [
        ("ld.lld via clang++", clang_link(relink_out["relink-clang-lld"], False)),
        ("ld.lld alone", lld_args),
        ("thinlink via clang++", clang_link(relink_out["relink-clang-thin"], True)),
    ]
    if thinlink_shared:
        # The fat link by thinlink on libLLVM.so: is the static one slower?
        relinks.append(("thinlink-shared via clang++",
                        clang_link(relink_out["relink-clang-thin-shared"], thinlink_shared)))

    prog = None
    times = {k: [] for k in ("compile", "thin", "thin_self", "apply", "apply_check",
                             "apply_map", "apply_wall", "start_thin", "start_thin_shared")}
    starts = [("start_thin", [cfg["thinlink"], "--version"])]
    if thinlink_shared:
        starts.append(("start_thin_shared", [thinlink_shared, "--version"]))
    for k, _ in relinks:
        times[k] = []
    patch_info = set()
    sizes = []
    phases = {}
    try:
        prog = Program(program)
        value = {0: prog.call(1, 0)}
        value[1] = (value[0] + delta) % (1 << 64)

        # Compiles, alternately edited and original; the last of each kind
        # is the object its patches use.
        for i in range(a.compiles):
            v = 1 if i % 2 == 0 else 0
            times["compile"].append(compile_text(edited if v else orig))
            shutil.copyfile(edit_obj, v1_obj if v else v0_obj)
        write_file(src, orig)

        state = {"n": 0}

        def patch_once(env=None, shim=False):
            """The next patch of the chain: thin link, apply, check."""
            n = state["n"] + 1
            v = n % 2  # patch 1 is the edit, patch 2 the revert, ...
            shutil.copyfile(v1_obj if v else v0_obj, edit_obj)
            out = os.path.join(work, "patch-%d.hpp" % n)
            cmd = [cfg["thinlink"], "--patch", "--base", program, "-o", out, edit_obj]
            if shim:
                marks, text = phase_run(cmd, cfg, work, program, out)
                t = None
            else:
                t, text = timed(cmd, env=env)
                marks = None
            m = THIN_RE.search(text)
            if not m or int(m.group(1)) != n:
                die("unexpected thin link output for patch %d:\n%s" % (n, text))
            info = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
            names = tuple(sorted(l.split(":", 1)[1].strip() for l in text.splitlines()
                                 if l.strip().startswith(("changed:", "added:"))))
            tapply, atext = timed([cfg["hotpatch"], "apply", "--pid", str(prog.pid), out])
            am = APPLY_RE.search(atext)
            if not am or int(am.group(1)) != n:
                die("unexpected apply output for patch %d: %s" % (n, atext))
            got = prog.call(1, 0)
            if got != value[v]:
                die("after patch %d the program computes %d, expected %d (version %d)"
                    % (n, got, value[v], v))
            state["n"] = n
            return {"thin": t, "thin_self": float(m.group(6)), "size": int(m.group(5)),
                    "info": info + names, "apply": float(am.group(3)),
                    "apply_check": float(am.group(4)), "apply_map": float(am.group(5)),
                    "apply_wall": tapply, "marks": marks}

        env = None
        # Warm-up: one patch, one relink of each kind.
        patch_once(env)
        for _, cmd in relinks:
            timed(cmd, cwd=work)

        load_before = loadavg()
        kinds = ["patch"] + [k for k, _ in relinks] + [k for k, _ in starts]
        rl = dict(relinks + starts)
        for r in range(a.rounds):
            for i in range(len(kinds)):
                k = kinds[(i + r) % len(kinds)]
                if k == "patch":
                    res = patch_once(env)
                    for key in ("thin", "thin_self", "apply", "apply_check", "apply_map",
                                "apply_wall"):
                        times[key].append(res[key])
                    patch_info.add(res["info"])
                    sizes.append(res["size"])
                else:
                    t, _ = timed(rl[k], cwd=work)
                    times[k].append(t)
        for _ in range(a.phases):
            res = patch_once(shim=True)
            for label, b, e in PHASES:
                if b in res["marks"] and e in res["marks"]:
                    phases.setdefault(label, []).append(res["marks"][e] - res["marks"][b])
            phases.setdefault("total", []).append(res["marks"]["end"])
        # What reading the cache alone costs in a fresh process (the fat-link
        # benchmark's cache driver, on this program's cache).
        cache_load = []
        for _ in range(a.phases):
            out = run([cfg["cache_bench"], "load", program + ".hpcache", "--runs", "1"]).stdout
            for line in out.splitlines():
                if line.startswith("load_ms "):
                    cache_load.append(float(line.split()[1]))
        load_after = loadavg()
        applied = state["n"]
        final_value = prog.call(1, 0)
    finally:
        if prog:
            prog.stop()
        # Leave the source and the object as the generator and ninja made
        # them (the object written after the source, so ninja sees it clean).
        write_file(src, orig)
        if os.path.exists(v0_obj):
            shutil.copyfile(v0_obj, edit_obj)

    med = {k: statistics.median(v) for k, v in times.items() if v}
    mn = {k: min(v) for k, v in times.items() if v}
    nfuncs = cfg["files"] * cfg["funcs_per_file"]
    print("Hotpatch patch: %d files x %d functions (%d, + patch_main.cpp), %d objects; "
          "edit: one constant of %s in %s.cpp; %d rounds, per round one patch and each "
          "relink once, order rotated" % (cfg["files"], cfg["funcs_per_file"], nfuncs,
                                          len(objects), func, cfg["edit_file"], a.rounds))
    print("Machine: %s; load average %s before the rounds, %s after" % (
        machine(), load_before, load_after))
    print("thinlink: %s; ld.lld: %s; %s" % (cfg["thinlink"], lld_args[0], gen))
    print()
    rows = [
        ("compile %s.cpp (its ninja command), %d runs" % (cfg["edit_file"], a.compiles),
         "compile"),
        ("thin link: thinlink --patch, wall", "thin"),
        ("thin link: as thinlink reports it", "thin_self"),
        ("apply: in the process (runtime's figure)", "apply"),
        ("  of which: check", "apply_check"),
        ("  of which: map", "apply_map"),
        ("apply: hotpatch apply --pid, wall", "apply_wall"),
        ("start-up: thinlink --version, wall", "start_thin"),
        ("start-up: the same, thinlink on libLLVM.so", "start_thin_shared"),
        ("relink: ld.lld via clang++", "ld.lld via clang++"),
        ("relink: ld.lld alone", "ld.lld alone"),
        ("relink: thinlink via clang++ (fat link)", "thinlink via clang++"),
        ("relink: the same, thinlink on libLLVM.so", "thinlink-shared via clang++"),
    ]
    print("| step                                           | median ms |   min ms |")
    print("|------------------------------------------------|----------:|---------:|")
    for label, k in rows:
        if k not in med:
            continue
        fmt = "| %-46s | %9.2f | %8.2f |" if k.startswith(("apply", "start")) else \
            "| %-46s | %9.1f | %8.1f |"
        print(fmt % (label, med[k], mn[k]))
    print()
    print("| ratio                                          | median ratio | min ratio |")
    print("|------------------------------------------------|-------------:|----------:|")
    for label, base in (("thin link / relink with ld.lld via clang++", "ld.lld via clang++"),
                        ("thin link / relink with ld.lld alone", "ld.lld alone"),
                        ("thin link / fat relink with thinlink", "thinlink via clang++")):
        print("| %-46s | %11.3fx | %8.3fx |" % (label, med["thin"] / med[base],
                                               mn["thin"] / mn[base]))
    print("| %-46s | %11.1fx | %8.1fx |" % ("hotpatch apply --pid, wall / in the process",
                                           med["apply_wall"] / med["apply"],
                                           mn["apply_wall"] / mn["apply"]))
    if "start_thin_shared" in med:
        print("| %-46s | %11.3fx | %8.3fx |" % (
            "thinlink start-up: static / libLLVM.so", med["start_thin"] /
            med["start_thin_shared"], mn["start_thin"] / mn["start_thin_shared"]))
    print()
    for info in sorted(patch_info):
        print("Each patch: %d changed, %d added, %d slot updates (%s); %d to %d bytes; "
              "%d patches applied to pid %d, each checked by calling %s(1, 0) "
              "(last answer %d)" % (info[0], info[1], info[2], ", ".join(info[3:]),
                                    min(sizes), max(sizes), applied, prog.pid, func,
                                    final_value))
    if phases:
        print()
        print("Where a thin link's time goes (phase_shim.c preloaded), median ms of %d thin links:"
              % a.phases)
        print()
        print("| phase                                            |  median |     min |")
        print("|--------------------------------------------------|--------:|--------:|")
        for label in [p[0] for p in PHASES] + ["total"]:
            v = phases.get(label)
            if v:
                print("| %-48s | %7.1f | %7.1f |" % (label, statistics.median(v), min(v)))
            if label.startswith("read the cache") and v and cache_load:
                c = statistics.median(cache_load)
                print("| %-48s | %7.1f | %7.1f |" % (
                    "  readModuleCache alone, fresh process", c, min(cache_load)))
                print("| %-48s | %7.1f |       - |" % (
                    "  the rest (difference of the medians)", statistics.median(v) - c))
    if a.raw:
        print()
        print("Every time, ms, in the order run:")
        for k, v in times.items():
            print("  %-22s %s" % (k, " ".join("%.2f" % x for x in v)))
        for label, v in phases.items():
            print("  phase %-40s %s" % (label, " ".join("%.1f" % x for x in v)))

    print()
    print("Targets:")
    checks = [
        ("thin link", med["thin"], TARGET_THIN_MS, "%.1f ms <= %.0f ms (median, wall)"),
        ("apply", med["apply"], TARGET_APPLY_MS, "%.3f ms <= %.0f ms (median, in the process)"),
    ]
    met = True
    for label, v, target, fmt in checks:
        ok = v <= target
        met = met and ok
        print("  %-4s %-10s %s" % ("PASS" if ok else "MISS", label, fmt % (v, target)))
    print("  info thin link / full relink with ld.lld (via clang++): %.3fx (median), "
          "%.3fx linker alone" % (med["thin"] / med["ld.lld via clang++"],
                                  med["thin"] / med["ld.lld alone"]))
    return 2 if a.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
