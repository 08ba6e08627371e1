#!/usr/bin/env python3
"""The fat-link benchmark's driver: thinlink against ld.lld on the same
objects in the same run, the cache against the binary, and the time to load
the cache. docs/performance.md ("Fat link") quotes its output.

Usage: run_fatlink.py --config <build>/bench/fatlink/fatlink-config.json
                      [--rounds N] [--loads N] [--builds N] [--phases N]
                      [--raw] [--strict]

  --rounds N  links of each kind (default 15), interleaved: one round links
              once with each of the four commands below, in an order rotated
              by one every round
  --loads N   readModuleCache timed N times in one process, and once in each
              of N fresh processes (default 21): a thin link loads the cache
              once, in a fresh process, and that figure is held to the target
  --builds N  in-process cache builds timed for the breakdown (default 5)
  --phases N  extra direct links of each linker with phase_shim.c preloaded,
              for the timeline of where the time goes (default 5; 0: none)
  --raw       also print every time measured
  --strict    exit with status 2 when a target is missed

The four link commands, all on the same objects, each writing its own output:
  clang ld.lld    clang++ -fuse-ld=lld <objects> -o ... -lhotpatch ...
  clang thinlink  the same with --ld-path=<thinlink>
  ld.lld          the linker command clang++ -### prints for the first, run
                  directly
  thinlink        the same arguments given to thinlink
The clang rows include the driver's own start-up (the same for both); the
direct rows are the link alone.
"""
import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import die, run, linker_command, machine, loadavg  # noqa: E402
benchlib.NAME = "fatlink"


TARGET_RATIO = 1.25   # thinlink's fat link at most 1.25x ld.lld's wall time
TARGET_CACHE = 0.25   # the cache at most 25% of the binary
TARGET_LOAD_MS = 20.0 # loading the cache for a thin link


def timed(cmd, cwd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t = time.perf_counter() - t0
    if p.returncode != 0:
        die("link failed (%d): %s ...\n%s" % (p.returncode, " ".join(cmd[:3]),
                                            p.stderr.decode(errors="replace")[-2000:]))
    return t * 1000.0


def payload_size(cache):
    with open(cache, "rb") as f:
        head = f.read(32)
    if head[:8] != b"HPMCACHE":
        die("%s is not a module cache" % cache)
    return int.from_bytes(head[16:24], "little")


def keyed(out):
    """Lines "<key> <values...>" of the cache benchmark."""
    d = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        d[k] = v
    return d


def floats(s):
    return [float(x) for x in s.split()]


def monotonic_ms():
    return time.clock_gettime(time.CLOCK_MONOTONIC) * 1000.0


def phase_run(cmd, out, shim, work):
    """One link with phase_shim.c preloaded: its events, in ms from spawn."""
    log = os.path.join(work, "phases.log")
    if os.path.exists(log):
        os.remove(log)
    env = dict(os.environ, LD_PRELOAD=shim, HOTPATCH_PHASE_LOG=log,
               HOTPATCH_PHASE_OUTPUT=out)
    t0 = monotonic_ms()
    p = subprocess.run(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    t1 = monotonic_ms()
    if p.returncode != 0:
        die("link with the phase shim failed: %s" % p.stderr.decode(errors="replace")[-2000:])
    events = []
    for line in open(log):
        t, kind, path = (line.rstrip("\n").split(" ", 2) + [""])[:3]
        events.append((float(t) - t0, kind, path))
    events.append((t1 - t0, "end", ""))
    return events


# (label, first event, second event): the phases of a link, from the events
# phase_run records. An event is (kind, path test); the phases of ld.lld skip
# the rows whose events it does not have.
PHASES = [
    ("exec, dynamic loading", "spawn", "start"),
    ("lld: read inputs, resolve, lay out", "start", "write"),
    ("lld: write the output", "write", "commit"),
    ("lld teardown, --trace lines", "commit", "read-back"),
    ("cache: read image, hash inputs, serialise, zstd", "read-back", "cache-open"),
    ("cache: write the file", "cache-open", "cache-commit"),
    ("to exit (thinlink: free the cache, leave main)", "last-commit", "exit"),
    ("exit: destructors, kernel frees the process", "exit", "end"),
]


def phase_marks(events, out):
    """Times of the marks PHASES uses, from one run's events."""
    m = {"spawn": 0.0}
    for t, kind, path in events:
        if kind == "start":
            m["start"] = t
        elif kind == "open" and path.startswith(out + ".tmp") and "commit" not in m:
            m["write"] = t  # the last temporary output before the commit
        elif kind == "rename" and path == out:
            m["commit"] = t
        elif kind == "open" and path == out and "commit" in m and "read-back" not in m:
            m["read-back"] = t
        elif kind == "open" and path.startswith(out + ".hpcache.tmp"):
            m["cache-open"] = t
        elif kind == "rename" and path == out + ".hpcache":
            m["cache-commit"] = t
        elif kind in ("_exit", "fini") and "exit" not in m:
            m["exit"] = t
        elif kind == "end":
            m["end"] = t
    m["last-commit"] = m.get("cache-commit", m.get("commit"))
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--loads", type=int, default=21)
    ap.add_argument("--builds", type=int, default=5)
    ap.add_argument("--phases", type=int, default=5)
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    if a.rounds < 1 or a.loads < 1 or a.builds < 1 or a.phases < 0:
        die("--rounds, --loads and --builds need a count of at least 1")
    cfg = json.load(open(a.config))
    work = cfg["work_dir"]
    os.makedirs(work, exist_ok=True)
    objects = cfg["objects"]
    lib = cfg["runtime_dir"]

    def clang_link(out, thin):
        cmd = [cfg["clangxx"], "-fuse-ld=lld"]
        if thin:
            cmd.append("--ld-path=" + cfg["thinlink"])
        return cmd + objects + ["-o", out, "-L" + lib, "-lhotpatch", "-Wl,-rpath," + lib]

    outs = {k: os.path.join(work, k) for k in
            ("clang-lld.out", "clang-thin.out", "lld.out", "thin.out")}
    lld_args = linker_command(clang_link(outs["lld.out"], False), work)
    if os.path.realpath(lld_args[0]) != os.path.realpath(cfg["ld_lld"]):
        print("note: clang -fuse-ld=lld runs %s" % lld_args[0])
    thin_args = linker_command(clang_link(outs["thin.out"], True), work)
    if thin_args[0] != cfg["thinlink"]:
        die("clang --ld-path ran %s, not thinlink" % thin_args[0])
    kinds = [
        ("clang ld.lld", clang_link(outs["clang-lld.out"], False)),
        ("clang thinlink", clang_link(outs["clang-thin.out"], True)),
        ("ld.lld", lld_args),
        ("thinlink", thin_args),
    ]

    # Warm-up (file cache, first-run costs) and checks: every command links,
    # the two programs behave alike, thinlink writes a cache and ld.lld none.
    for cache in [o + ".hpcache" for o in outs.values()]:
        if os.path.exists(cache):
            os.remove(cache)
    kind_out = {"clang ld.lld": outs["clang-lld.out"], "clang thinlink": outs["clang-thin.out"],
                "ld.lld": outs["lld.out"], "thinlink": outs["thin.out"]}

    def wait_cache(out):
        """thinlink finishes the cache in a background process after the link
        returns; wait until it is written (not counted as link time), and
        return how long that took."""
        t = time.perf_counter()
        while os.path.exists(out + ".hpcache.pending"):
            time.sleep(0.0005)
        return (time.perf_counter() - t) * 1000

    for k, cmd in kinds:
        timed(cmd, work)
        wait_cache(kind_out[k])
    results = {run([outs[o]]).stdout for o in outs}
    if len(results) != 1:
        die("the four outputs do not print the same: %r" % results)
    for o in outs:
        has = os.path.exists(outs[o] + ".hpcache")
        if has != ("thin" in o):
            die("%s: %s" % (o, "a cache from ld.lld?" if has else "thinlink wrote no cache"))

    load_before = loadavg()
    times = {k: [] for k, _ in kinds}
    ready = {k: [] for k, _ in kinds if "thinlink" in k}
    for r in range(a.rounds):
        for i in range(len(kinds)):
            k, cmd = kinds[(i + r) % len(kinds)]
            t = timed(cmd, work)
            times[k].append(t)
            if k in ready:
                ready[k].append(t + wait_cache(kind_out[k]))

    # The cache: size, load time, and what building it costs.
    binary = outs["thin.out"]
    cache = binary + ".hpcache"
    bin_size = os.path.getsize(binary)
    cache_size = os.path.getsize(cache)
    payload = payload_size(cache)
    load = keyed(run([cfg["cache_bench"], "load", cache, "--runs", str(a.loads)], cwd=work).stdout)
    warm_ms = floats(load["load_ms"])[1:] or floats(load["load_ms"])
    counts = load["counts"]
    load_ms, load_faults, open_ms = [], [], []
    for _ in range(a.loads):
        fresh = keyed(run([cfg["cache_bench"], "load", cache, "--runs", "1"], cwd=work).stdout)
        load_ms.append(floats(fresh["load_ms"])[0])
        load_faults.append(int(fresh["load_faults"].split()[0]))
        open_ms.append(floats(fresh["open_ms"])[0])

    trace = run(lld_args + ["-o", os.path.join(work, "trace.out"), "--trace"], cwd=work).stdout
    with open(os.path.join(work, "trace.txt"), "w") as f:
        f.write(trace)
    with open(os.path.join(work, "args.txt"), "w") as f:
        f.write("\n".join(lld_args[1:] + ["--trace"]) + "\n")
    build = keyed(run([cfg["cache_bench"], "build", binary, "trace.txt", "args.txt",
                       "--runs", str(a.builds)], cwd=work).stdout)
    phases = {}
    if a.phases:
        for r in range(a.phases):
            for k in (("ld.lld", "thinlink") if r % 2 == 0 else ("thinlink", "ld.lld")):
                out = outs["lld.out"] if k == "ld.lld" else outs["thin.out"]
                cmd = dict(kinds)[k]
                marks = phase_marks(phase_run(cmd, out, cfg["phase_shim"], work), out)
                for label, b, e in PHASES:
                    if b in marks and e in marks:
                        phases.setdefault((k, label), []).append(marks[e] - marks[b])
                phases.setdefault((k, "total"), []).append(marks["end"])
    load_after = loadavg()

    med = {k: statistics.median(v) for k, v in times.items()}
    mn = {k: min(v) for k, v in times.items()}
    nfuncs = cfg["files"] * cfg["funcs_per_file"]

    print("Hotpatch fat link: %d files x %d functions (%d, + main.cpp), %d objects; "
          "%d rounds, per round each link once, order rotated"
          % (cfg["files"], cfg["funcs_per_file"], nfuncs, len(objects), a.rounds))
    print("Machine: %s; load average %s before the links, %s after the cache runs"
          % (machine(), load_before, load_after))
    print("ld.lld: %s; thinlink: %s" % (lld_args[0], cfg["thinlink"]))
    print()
    print("| link                      | median ms |   min ms | median ratio | min ratio |")
    print("|---------------------------|----------:|---------:|-------------:|----------:|")
    for base, thin, label in (("clang ld.lld", "clang thinlink", "via clang++"),
                              ("ld.lld", "thinlink", "linker alone")):
        for k in (base, thin):
            print("| %-25s | %9.1f | %8.1f | %11.3fx | %8.3fx |" % (
                "%s (%s)" % (k.replace("clang ", ""), label), med[k], mn[k],
                med[k] / med[base], mn[k] / mn[base]))
    for k, v in ready.items():
        print("| %-25s | %9.1f | %8.1f |              |           |" % (
            "%s (%s), cache written" % ("thinlink", "via clang++" if k.startswith("clang") else "alone"),
            statistics.median(v), min(v)))
    print()
    print("(thinlink returns when the output is written; a background process then")
    print(" writes the module cache: the last rows time the link until the cache is")
    print(" in place, which no build step waits for)")
    print()
    rows = [
        ("binary (PIE, no debug info)", "%d B" % bin_size),
        ("cache on disk", "%d B" % cache_size),
        ("cache / binary", "%.1f%%" % (100.0 * cache_size / bin_size)),
        ("cache file size in its header", "%d B" % payload),
        ("open, as a thin link does (map, check), fresh process, median",
         "%.2f ms" % statistics.median(open_ms)),
        ("decode whole (readModuleCache), fresh process, median of %d" % a.loads,
         "%.2f ms" % statistics.median(load_ms)),
        ("load, fresh process, min", "%.2f ms" % min(load_ms)),
        ("load, fresh process, minor page faults", "%d" % statistics.median(load_faults)),
        ("load, calls 2..%d in one process, median" % a.loads, "%.2f ms" % statistics.median(warm_ms)),
        ("load, calls 2..%d in one process, min" % a.loads, "%.2f ms" % min(warm_ms)),
    ]
    print("| %-40s | %12s |" % ("cache", "value"))
    print("|%s|%s:|" % ("-" * 42, "-" * 13))
    for label, value in rows:
        print("| %-40s | %12s |" % (label, value))
    print()
    print("Cache contents: %s" % counts)
    print()
    if phases:
        print("Where a direct link's time goes (phase_shim.c preloaded), median ms of %d links each:"
              % a.phases)
        print()
        print("| phase                                            |   ld.lld | thinlink |    extra |")
        print("|--------------------------------------------------|---------:|---------:|---------:|")
        for label in [p[0] for p in PHASES] + ["total"]:
            l = phases.get(("ld.lld", label))
            t = phases.get(("thinlink", label))
            lm = statistics.median(l) if l else 0.0
            tm = statistics.median(t) if t else 0.0
            print("| %-48s | %8s | %8s | %8.1f |" % (
                label, "%.1f" % lm if l else "-", "%.1f" % tm if t else "-", tm - lm))
        print()
    parts = [("buildModuleCache", "build"),
             ("  of which: read the image (symbols, slots)", "image"),
             ("  of which: hash the %s inputs" % build["hashed_objects"].strip(), "hash"),
             ("writeModuleCache (serialise, zstd -1, write)", "write")]
    print("The cache's parts, in-process on the linked output (hotpatch_bench_fatlink_cache),"
          " %d runs:" % a.builds)
    print()
    print("| part                                              | first run ms | faults | median ms | faults |")
    print("|---------------------------------------------------|-------------:|-------:|----------:|-------:|")
    for label, key in parts:
        v = floats(build[key + "_ms"])
        f = [int(x) for x in build[key + "_faults"].split()]
        print("| %-49s | %12.1f | %6d | %9.1f | %6d |" % (
            label, v[0], f[0], statistics.median(v), statistics.median(f)))
    print()
    print("thinlink - ld.lld, linker alone, medians: %.1f ms"
          % (med["thinlink"] - med["ld.lld"]))
    if a.raw:
        print()
        print("Every link, ms, in the order run:")
        for k, v in times.items():
            print("  %-15s %s" % (k, " ".join("%.1f" % x for x in v)))
        print("  %-15s %s" % ("load, fresh", " ".join("%.2f" % x for x in load_ms)))
        print("  %-15s %s" % ("load, again", " ".join("%.2f" % x for x in warm_ms)))

    print()
    print("Targets:")
    checks = [
        ("fat link, linker alone", med["thinlink"] / med["ld.lld"], TARGET_RATIO,
         "%.3fx <= %.2fx ld.lld (median)"),
        ("fat link, via clang++", med["clang thinlink"] / med["clang ld.lld"], TARGET_RATIO,
         "%.3fx <= %.2fx ld.lld (median)"),
        ("cache size", 100.0 * cache_size / bin_size, 100.0 * TARGET_CACHE,
         "%.1f%% <= %.0f%% of the binary"),
        ("cache load", statistics.median(open_ms), TARGET_LOAD_MS,
         "%.2f ms <= %.0f ms (median, fresh process: mapped and checked, as a thin link "
         "reads it)"),
    ]
    met = True
    for label, value, target, fmt in checks:
        ok = value <= target
        met = met and ok
        print("  %-4s %-24s %s" % ("PASS" if ok else "MISS", label, fmt % (value, target)))
    return 2 if a.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main())
