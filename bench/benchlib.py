"""Helpers shared by the benchmark drivers in bench/*/run_*.py."""
import os
import platform
import shlex
import subprocess
import sys
import threading
import time

NAME = "bench"  # each driver sets its own, for its messages


def die(msg):
    sys.exit("%s: %s" % (NAME, msg))


def now_ms():
    return time.clock_gettime(time.CLOCK_MONOTONIC) * 1000.0


def run(cmd, **kw):
    """Runs a command that must succeed; its output as text."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        die("command failed (%d): %s ...\n%s%s" % (p.returncode, " ".join(cmd[:6]),
                                                  p.stdout[-3000:], p.stderr[-3000:]))
    return p


def linker_command(clang_cmd, cwd):
    """The linker invocation clang would run, from clang -###."""
    p = run(clang_cmd + ["-###"], cwd=cwd)
    jobs = [l for l in p.stderr.splitlines() if l.startswith(' "')]
    if len(jobs) != 1:
        die("expected one job from clang -###, got %d" % len(jobs))
    return shlex.split(jobs[0])


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d hardware threads, %s, %s %s" % (os.cpu_count() or 0, model,
                                                platform.system(), platform.release())


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


class Lines:
    """A pipe read by a thread; every line stamped with its arrival time."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        self.closed = False
        self.t = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.t.start()

    def _read(self, stream):
        for raw in iter(stream.readline, b""):
            t = now_ms()
            with self.cond:
                self.lines.append((t, raw.decode(errors="replace").rstrip("\n")))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_for(self, start, pred, timeout=20.0):
        """The first line from index start on for which pred holds."""
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    if pred(self.lines[i][1]):
                        return i, self.lines[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None, None
                self.cond.wait(left)

    def count(self):
        with self.cond:
            return len(self.lines)

    def text(self, start=0):
        with self.cond:
            return "\n".join(l for _, l in self.lines[start:])


def bump_depth0_constant(text, func, delta=2):
    """A generated program's source (bench/fatlink/gen_program.py) with the
    constant of func's depth-0 return plus delta: a one-function edit."""
    import re
    m = re.search(r"^uint64_t %s\(uint64_t x, int depth\) \{\n  if \(depth <= 0\)\n"
                  r"    return x \* 0x([0-9a-f]+)ull \+ table\[\d+\];\n" % re.escape(func),
                  text, re.M)
    if not m:
        die("cannot find the depth-0 return of %s in the generated source" % func)
    return text[:m.start(1)] + "%x" % (int(m.group(1), 16) + delta) + text[m.end(1):]


def command_writing_to(entry, out):
    """A compile_commands.json entry's command, writing its object (and
    depfile) to out instead of where the build expects them."""
    import shlex
    cmd = entry.get("arguments") or shlex.split(entry["command"])
    for k in range(len(cmd) - 1):
        if cmd[k] == "-o":
            cmd[k + 1] = out
        if cmd[k] == "-MF":
            cmd[k + 1] = out + ".d"
    return cmd
