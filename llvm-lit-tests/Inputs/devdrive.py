#!/usr/bin/env python3
"""Drives `hotpatch dev` through a scripted editing session.

    devdrive.py SCRIPT -- hotpatch dev -p BUILD -- PROGRAM [ARGS...]

Starts the command and reads everything it (and the program it runs)
prints. SCRIPT has one action a line, run in SCRIPT's directory:

    wait REGEX          until a new output line matches; prints "seen: LINE"
    edit FILE OLD NEW   replaces the first OLD by NEW in FILE (one write); the
                        words are shell-quoted, \\n is a newline
    slowedit FILE OLD NEW  the same, written in three parts 30 ms apart
    sh CMD              runs CMD with bash; prints its output as "sh: ..."
    sleep SECONDS
    # ...               a comment

At the end the command gets SIGINT; the lines it printed from then on that
start with "[hotpatch]" are printed as "end: ...", then its exit code
("exit: N").
A wait that times out (30 s) prints "timeout waiting for REGEX", every line
hotpatch dev printed and the last lines seen, and the driver stops there.
"""
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import time

TIMEOUT = 30.0


class Output:
    def __init__(self, proc):
        self.proc = proc
        self.buf = b""
        self.lines = []
        self.pos = 0

    def pump(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            time.sleep(timeout)
            return
        self.buf += data
        *done, self.buf = self.buf.split(b"\n")
        self.lines += [d.decode(errors="replace") for d in done]

    def wait(self, pattern):
        rx = re.compile(pattern)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            while self.pos < len(self.lines):
                line = self.lines[self.pos]
                self.pos += 1
                if rx.search(line):
                    return line
            self.pump(0.05)
        return None


def edit(path, old, new, parts=1):
    with open(path) as f:
        text = f.read()
    if old not in text:
        raise SystemExit("devdrive: %r not found in %s" % (old, path))
    text = text.replace(old, new, 1)
    data = text.encode()
    with open(path, "wb") as f:
        step = (len(data) + parts - 1) // parts
        for i in range(0, len(data), step):
            f.write(data[i:i + step])
            f.flush()
            if parts > 1:
                time.sleep(0.03)


def main():
    script = sys.argv[1]
    command = sys.argv[3:] if sys.argv[2] == "--" else sys.argv[2:]
    workdir = os.path.dirname(os.path.abspath(script))
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=workdir)
    out = Output(proc)
    status = 0
    with open(script) as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            verb, _, rest = line.partition(" ")
            if verb == "wait":
                seen = out.wait(rest)
                if seen is None:
                    print("timeout waiting for %s; hotpatch dev said:" % rest)
                    for l in out.lines:
                        if l.startswith("[hotpatch]"):
                            print("  | " + l)
                    print("last lines:")
                    for l in out.lines[-15:]:
                        print("  | " + l)
                    status = 1
                    break
                print("seen: " + seen)
            elif verb in ("edit", "slowedit"):
                path, old, new = [p.replace("\\n", "\n") for p in shlex.split(rest)]
                edit(os.path.join(workdir, path), old, new, 3 if verb == "slowedit" else 1)
            elif verb == "sh":
                r = subprocess.run(["bash", "-c", rest], cwd=workdir, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
                for l in r.stdout.decode(errors="replace").splitlines():
                    print("sh: " + l)
            elif verb == "sleep":
                time.sleep(float(rest))
            else:
                print("devdrive: unknown action %r" % line)
                status = 2
            sys.stdout.flush()
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = "timeout"
    rest = out.buf + proc.stdout.read()
    for line in out.lines[out.pos:] + rest.decode(errors="replace").splitlines():
        if line.startswith("[hotpatch]"):
            print("end: " + line)
    print("exit: %s" % code)
    return status


if __name__ == "__main__":
    sys.exit(main())
