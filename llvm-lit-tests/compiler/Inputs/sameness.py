#!/usr/bin/env python3
"""The resident compiler makes what the command line makes.

    sameness.py --work DIR --opt O2 [tool options] SOURCES

Compiles every .cpp and .c file of SOURCES with the hotpatch plugin (every
function hot, -g) at the given level with clang's command line, links the
program with thinlink, and keeps the objects. Then compiles every file again
with `hotpatch compile` (the resident compiler, in one process), without a
preamble and with one, and after each:

  - compares each object with the command line's, byte for byte;
  - thin-links all of them against the program: the thin link must see no
    difference ("nothing to patch": every section hash and every record is
    the command line's).

Prints one line per file and way, and exits 1 if a thin link saw a
difference or a compile failed or ran as a command.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--opt", required=True)
    ap.add_argument("--clang", required=True)
    ap.add_argument("--clangxx", required=True)
    ap.add_argument("--plugin-flags", required=True)
    ap.add_argument("--cflags", default="")
    ap.add_argument("--link-flags", required=True)
    ap.add_argument("--ldflags", default="")
    ap.add_argument("--thinlink", required=True)
    ap.add_argument("--hotpatch", required=True)
    ap.add_argument("sources")
    a = ap.parse_args()

    src = os.path.abspath(a.sources)
    work = os.path.abspath(a.work)
    obj = os.path.join(work, "obj")
    os.makedirs(obj, exist_ok=True)
    files = sorted(f for f in os.listdir(src) if f.endswith((".cpp", ".c")))
    db = []
    for f in files:
        cc = [a.clang, "-std=c11"] if f.endswith(".c") else [a.clangxx, "-std=c++17"]
        args = (cc + ["-" + a.opt, "-g"] + shlex.split(a.plugin_flags) + shlex.split(a.cflags) +
                ["-I" + src, "-c", os.path.join(src, f), "-o", os.path.join(obj, f + ".o")])
        db.append({"directory": obj, "file": os.path.join(src, f), "arguments": args,
                   "output": os.path.join(obj, f + ".o")})
    with open(os.path.join(obj, "compile_commands.json"), "w") as out:
        json.dump(db, out, indent=1)

    for e in db:
        r = run(e["arguments"], cwd=obj)
        if r.returncode:
            print("command-line compile of %s failed:\n%s" % (e["file"], r.stdout))
            return 1
    objects = [e["output"] for e in db]
    program = os.path.join(work, "program")
    r = run([a.clangxx] + shlex.split(a.link_flags) + objects + ["-o", program] +
            shlex.split(a.ldflags))
    if r.returncode:
        print("link failed:\n" + r.stdout)
        return 1
    saved = os.path.join(work, "cmdline")
    os.makedirs(saved, exist_ok=True)
    for o in objects:
        shutil.copy(o, saved)

    bad = 0
    for way, flags in (("without a preamble", []), ("with a preamble", ["--preamble"])):
        r = run([a.hotpatch, "compile", "-p", obj] + flags + [os.path.join(src, f) for f in files])
        print(r.stdout.replace(os.path.join(src, ""), ""), end="")
        if r.returncode:
            print("hotpatch compile %s failed" % way)
            bad += 1
            continue
        same = 0
        for o in objects:
            if open(o, "rb").read() == open(os.path.join(saved, os.path.basename(o)), "rb").read():
                same += 1
            else:
                print("%s: %s differs in bytes from the command line's" % (way, os.path.basename(o)))
        print("%s: %d of %d objects identical to the command line's" % (way, same, len(objects)))
        r = run([a.thinlink, "--patch", "--base", program, "-o", os.path.join(work, "p.hpp")] + objects)
        first = r.stdout.splitlines()[0] if r.stdout else ""
        if r.returncode or not first.startswith("nothing to patch"):
            print("%s: the thin link sees a difference:\n%s" % (way, r.stdout))
            bad += 1
        else:
            print("%s: thin link of all %d objects: nothing to patch" % (way, len(objects)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
