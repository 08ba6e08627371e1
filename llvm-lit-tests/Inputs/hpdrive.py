#!/usr/bin/env python3
"""Drives a running program through an end-to-end hot-patching scenario.

    hpdrive.py --hotpatch PATH [--instances N] SCRIPT -- PROGRAM [ARGS...]

Starts N instances of PROGRAM (default 1), then runs SCRIPT, one action a line:

    step [N]        each instance runs N iterations: the driver writes a line to
                    its stdin and echoes what it prints up to a line "ok"
    sh CMD          runs CMD with bash (in SCRIPT's directory); $PID is the first
                    instance's pid, $PIDS all of them, $HOTPATCH and $THINLINK
                    the commands; echoes its output
    apply PATCH     `hotpatch apply --pid <pid> PATCH` for every instance
    # ...           a comment

Every echoed line is prefixed with its source ("out<i>: ", "sh: ",
"apply<i>: ") so FileCheck sees who said what. At the end the instances' stdin
is closed and their exit codes are printed ("exit<i>: CODE"). Each read has a
timeout, so a hung program fails the test instead of hanging it.
"""
import argparse
import os
import select
import subprocess
import sys
import time

import hpsock  # beside this file

TIMEOUT = 20.0


def read_line(proc, deadline):
    buf = b""
    fd = proc.stdout.fileno()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no output from pid %d" % proc.pid)
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        ch = os.read(fd, 1)
        if not ch:
            return None
        if ch == b"\n":
            return buf.decode(errors="replace")
        buf += ch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hotpatch", required=True)
    parser.add_argument("--thinlink", default="")
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("script")
    parser.add_argument("program", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    program = args.program[1:] if args.program[:1] == ["--"] else args.program
    procs = [subprocess.Popen(program, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
             for _ in range(args.instances)]
    # The runtime's socket appears when the program has started.
    for p in procs:
        hpsock.wait_listening(p, TIMEOUT)
    env = dict(os.environ, PID=str(procs[0].pid), PIDS=" ".join(str(p.pid) for p in procs),
               HOTPATCH=args.hotpatch, THINLINK=args.thinlink)
    workdir = os.path.dirname(os.path.abspath(args.script))
    status = 0
    with open(args.script) as script:
        for raw in script:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            verb, _, rest = line.partition(" ")
            if verb == "step":
                for _ in range(int(rest or "1")):
                    for i, p in enumerate(procs):
                        p.stdin.write(b"\n")
                        p.stdin.flush()
                        deadline = time.monotonic() + TIMEOUT
                        while True:
                            out = read_line(p, deadline)
                            if out is None:
                                print("out%d: <exited>" % i)
                                break
                            if out == "ok":
                                break
                            print("out%d: %s" % (i, out))
            elif verb == "sh":
                r = subprocess.run(["bash", "-c", rest], cwd=workdir, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                for out in r.stdout.decode(errors="replace").splitlines():
                    print("sh: " + out)
                if r.returncode:
                    print("sh: exit %d" % r.returncode)
            elif verb == "apply":
                for i, p in enumerate(procs):
                    r = subprocess.run([args.hotpatch, "apply", "--pid", str(p.pid),
                                        os.path.join(workdir, rest)],
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                    for out in r.stdout.decode(errors="replace").splitlines():
                        print("apply%d: %s" % (i, out))
            else:
                print("hpdrive: unknown action %r" % line)
                status = 2
            sys.stdout.flush()
    for i, p in enumerate(procs):
        p.stdin.close()
        try:
            rest = p.stdout.read().decode(errors="replace")
            for out in rest.splitlines():
                if out != "ok":
                    print("out%d: %s" % (i, out))
            print("exit%d: %d" % (i, p.wait(timeout=TIMEOUT)))
        except subprocess.TimeoutExpired:
            p.kill()
            print("exit%d: timeout" % i)
    return status


if __name__ == "__main__":
    sys.exit(main())
