#!/usr/bin/env python3
"""The edit corpus: scripted everyday edits patched into a running program.

    corpus.py --opt O0|O2 --work DIR [tool options] SOURCES EDITS

Builds the program in SOURCES (every .cpp and .c file) with the hotpatch
plugin, every function hot, at the given optimisation level, links it with
thinlink and starts it. At every step (a line on its stdin) the program
prints "counter: N" and one "probe <name>: <value>" line per behaviour it
exposes, then "ok". Then, for each edit of EDITS:

  1. the edit's exact text replacements are made in the copy of the sources;
  2. every object whose dependency file names an edited file is recompiled
     with the command that built it;
  3. `thinlink --patch --base` builds a patch from those objects, and
     `hotpatch apply` sends it to the running program;
  4. the program steps once, and the outcome is classified:

     PATCHED        the expected probes show their new values, every other
                    probe is unchanged and the counter continued
     REFUSED-OK     a refusal was expected and the refusal names its reason
     SILENT         the tools reported a patch (or nothing to patch) but the
                    program still shows the old behaviour
     FALSE-REFUSAL  refused although the edit should have been patched
     WRONG          anything else: a crash, other output, a lost counter, a
                    change that should have been refused, another reason

  5. the edit is reverted (the original text's objects, kept from the base
     build, are put back: what recompiling the original text gives; with
     --recompile-reverts they are recompiled), thin-linked and applied: the
     revert is a patch too, and the program must show its original output
     again, its counter continuing.

An edit or revert that leaves the program off its baseline output is
followed by a restart of the program (a new chain), so that one failure is
not blamed on the next edit.

Prints a table of every edit's outcome, then the tool output of every edit
that did not pass, and exits 1 if any edit or revert was SILENT,
FALSE-REFUSAL or WRONG (or the corpus itself is broken).

The EDITS file holds one block per edit:

    edit <name>
    kind: <what a developer did>
    file: <source file>
    <<<
    <exact old text, one or more lines>
    ===
    <new text>
    >>>
    expect: <probe> = <new value>     (one line per probe that must change)
    expect: unchanged                 (no probe may change)
    expect: refused /<regex>/         (the patch must be refused for this reason)
    note: /<regex>/                   (the thin link's output must match)

Several `file:` blocks may follow one another. With --check-corpus, each
edit is instead built into a fresh program (no patching) that must show the
expected values: this checks the corpus, not the product.
"""
import argparse
import concurrent.futures
import json
import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Inputs"))
import hpsock  # llvm-lit-tests/Inputs

STEP_TIMEOUT = 20.0
CHAIN_ROOM = 110  # a chain holds 120 patches; restart the program before that
BAD = ("SILENT", "FALSE-REFUSAL", "WRONG", "CORPUS-ERROR")


# ---------------------------------------------------------------------------
# The edits file


class Edit:
    def __init__(self, name):
        self.name = name
        self.kind = ""
        self.blocks = []  # (file, old, new)
        self.expect = {}  # probe -> new value
        self.unchanged = False
        self.refused = None  # regex
        self.notes = []

    @property
    def files(self):
        out = []
        for f, _, _ in self.blocks:
            if f not in out:
                out.append(f)
        return out


def parse_edits(path):
    edits = []
    cur = None
    cur_file = None
    lines = open(path).read().split("\n")
    i = 0

    def fail(msg):
        raise SystemExit("%s:%d: %s" % (path, i + 1, msg))

    while i < len(lines):
        line = lines[i]
        if line.startswith("edit "):
            cur = Edit(line[5:].strip())
            if any(e.name == cur.name for e in edits):
                fail("duplicate edit name %r" % cur.name)
            edits.append(cur)
            cur_file = None
        elif not line.strip() or line.startswith("#"):
            pass
        elif cur is None:
            fail("text before the first edit")
        elif line.startswith("kind:"):
            cur.kind = line[5:].strip()
        elif line.startswith("file:"):
            cur_file = line[5:].strip()
        elif line == "<<<":
            if cur_file is None:
                fail("a replacement needs a file: line before it")
            old, new, part = [], [], None
            part = old
            i += 1
            while i < len(lines) and lines[i] != ">>>":
                if lines[i] == "===" and part is old:
                    part = new
                else:
                    part.append(lines[i])
                i += 1
            if i == len(lines):
                fail("unterminated replacement")
            if part is old:
                fail("replacement without ===")
            cur.blocks.append((cur_file, "\n".join(old), "\n".join(new)))
        elif line.startswith("expect:"):
            rest = line[7:].strip()
            if rest == "unchanged":
                cur.unchanged = True
            elif rest.startswith("refused "):
                m = re.fullmatch(r"refused /(.*)/", rest)
                if not m:
                    fail("expect: refused /regex/")
                cur.refused = m.group(1)
            else:
                name, eq, value = rest.partition(" = ")
                if not eq:
                    fail("expect: <probe> = <value>")
                cur.expect[name.strip()] = value
        elif line.startswith("note:"):
            m = re.fullmatch(r"note: /(.*)/", line)
            if not m:
                fail("note: /regex/")
            cur.notes.append(m.group(1))
        else:
            fail("cannot read %r" % line)
        i += 1
    for e in edits:
        if not e.blocks:
            raise SystemExit("%s: edit %s has no replacement" % (path, e.name))
        if sum([bool(e.expect), e.unchanged, e.refused is not None]) != 1:
            raise SystemExit("%s: edit %s needs exactly one kind of expectation" % (path, e.name))
    return edits


# ---------------------------------------------------------------------------
# Building


class Builder:
    def __init__(self, args, srcdir, objdir):
        self.args = args
        self.srcdir = srcdir
        self.objdir = objdir
        self.sources = sorted(f for f in os.listdir(srcdir) if f.endswith((".cpp", ".c")))

    def obj(self, src):
        return os.path.join(self.objdir, src + ".o")

    def command(self, src):
        a = self.args
        if src.endswith(".c"):
            cc = [a.clang, "-std=c11"]
        else:
            cc = [a.clangxx, "-std=c++17"]
        return (cc + ["-" + a.opt] + shlex.split(a.plugin_flags) + shlex.split(a.cflags) +
                ["-I" + self.srcdir, "-MD", "-MF", self.obj(src)[:-2] + ".d", "-c",
                 os.path.join(self.srcdir, src), "-o", self.obj(src)])

    def compile(self, srcs, base=False):
        """Compiles srcs two at a time; returns (ok, output). With --resident,
        every compile but the base program's is `hotpatch compile --preamble`:
        the resident compiler, against a preamble built for it."""
        if self.args.resident and not base:
            return self.compile_resident(srcs)
        def one(src):
            r = subprocess.run(self.command(src), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            return r.returncode, r.stdout.decode(errors="replace")
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(one, srcs))
        ok = all(rc == 0 for rc, _ in results)
        return ok, "".join(out for _, out in results)

    def compile_resident(self, srcs):
        db = os.path.join(self.objdir, "compile_commands.json")
        if not os.path.exists(db):
            with open(db, "w") as f:
                json.dump([{"directory": self.objdir, "file": os.path.join(self.srcdir, s),
                            "arguments": self.command(s), "output": self.obj(s)}
                           for s in self.sources], f)
        r = subprocess.run([self.args.hotpatch, "compile", "-p", self.objdir, "--preamble"] +
                           [os.path.join(self.srcdir, s) for s in srcs],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = r.stdout.decode(errors="replace")
        resident = out.count("in process, with its preamble") == len(srcs)
        return r.returncode == 0 and resident, out

    def save_originals(self):
        """Keeps the objects of the original text: a revert rebuilds exactly them."""
        os.makedirs(os.path.join(self.objdir, "orig"), exist_ok=True)
        for src in self.sources:
            for path in (self.obj(src), self.obj(src)[:-2] + ".d"):
                shutil.copy(path, os.path.join(self.objdir, "orig", os.path.basename(path)))

    def restore(self, srcs):
        """Puts the original objects back (renamed into place, as a compiler does)."""
        for src in srcs:
            for path in (self.obj(src), self.obj(src)[:-2] + ".d"):
                tmp = path + ".tmp"
                shutil.copy(os.path.join(self.objdir, "orig", os.path.basename(path)), tmp)
                os.replace(tmp, path)

    def dependents(self, files):
        """The sources whose objects depend on any of files (by their .d files)."""
        wanted = {os.path.realpath(os.path.join(self.srcdir, f)) for f in files}
        out = []
        for src in self.sources:
            dep = self.obj(src)[:-2] + ".d"
            text = open(dep).read().replace("\\\n", " ")
            deps = text.split(":", 1)[1].split()
            if any(os.path.realpath(d) in wanted for d in deps):
                out.append(src)
        return out

    def link(self, output):
        a = self.args
        cmd = ([a.clangxx] + shlex.split(a.link_flags) + [self.obj(s) for s in self.sources] +
               shlex.split(a.ldflags) + ["-o", output])
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return r.returncode == 0, r.stdout.decode(errors="replace")


# ---------------------------------------------------------------------------
# The running program


class Dead(Exception):
    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class Interrupted(Exception):
    """The program was killed by SIGPIPE: its control socket wrote a reply to a
    client that had already gone (another process listing or patching every
    program of this user). Not an outcome of the edit: the edit is retried."""


class Program:
    def __init__(self, path, cwd):
        self.path = path
        self.cwd = cwd
        self.proc = None
        self.counter = 0

    def start(self, keep_sigpipe=False):
        # The program starts with SIGPIPE ignored (unless keep_sigpipe): its
        # control socket must not kill it when another user of the socket
        # directory (a listing, an `apply --all`) leaves before the reply.
        self.proc = subprocess.Popen([self.path], cwd=self.cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     restore_signals=keep_sigpipe)
        hpsock.wait_listening(self.proc, STEP_TIMEOUT)
        self.counter = 0

    def stop(self):
        if self.proc is None:
            return None
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            code = self.proc.wait(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc.stdout.close()
        self.proc = None
        return code

    def _read_line(self, deadline):
        buf = b""
        fd = self.proc.stdout.fileno()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Dead("no output for %.0f s" % STEP_TIMEOUT)
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            ch = os.read(fd, 1)
            if not ch:
                return None
            if ch == b"\n":
                return buf.decode(errors="replace")
            buf += ch

    def step(self):
        """Runs one step: (counter, {probe: value}, other lines)."""
        try:
            self.proc.stdin.write(b"\n")
            self.proc.stdin.flush()
        except OSError:
            pass
        deadline = time.monotonic() + STEP_TIMEOUT
        counter, probes, other = None, {}, []
        while True:
            line = self._read_line(deadline)
            if line is None:
                code = self.proc.wait()
                if code == -13:
                    raise Interrupted()
                raise Dead("program exited with %s; it printed: %s" %
                           (describe_exit(code), " | ".join(other[-5:] + list(probes)[-1:])), code)
            if line == "ok":
                break
            m = re.fullmatch(r"probe ([^:]+): (.*)", line)
            if m:
                probes[m.group(1)] = m.group(2)
            elif line.startswith("counter: "):
                counter = int(line[9:])
            else:
                other.append(line)
        return counter, probes, other


def describe_exit(code):
    if code is not None and code < 0:
        return "signal %d" % -code
    return "status %s" % code


# ---------------------------------------------------------------------------
# Tools


def run(cmd, cwd):
    start = time.monotonic()
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return r.returncode, r.stdout.decode(errors="replace").strip(), time.monotonic() - start


class Session:
    """The running program, its chain, and what each edit did."""

    def __init__(self, args, builder, work):
        self.args = args
        self.b = builder
        self.work = work
        self.exe = os.path.join(work, "depot")
        self.prog = Program(self.exe, work)
        self.baseline = None
        self.chain = 0  # patches this process applied
        self.patch_no = 0
        self.restarts = 0
        self.text_reverted = True
        self.incidents = []

    def start(self):
        # A fresh process starts unpatched: a new chain, and no journal of
        # the old one for the runtime to catch up with.
        for f in (self.exe + ".hpchain", self.exe + ".hpjournal"):
            if os.path.exists(f):
                os.remove(f)
        self.prog.start(self.args.keep_sigpipe)
        self.chain = 0
        counter, probes, other = self.prog.step()
        self.prog.counter = counter
        return probes, other

    def restart(self):
        self.prog.stop()
        self.restarts += 1
        probes, _ = self.start()
        if probes != self.baseline:
            raise SystemExit("corpus: the restarted program does not print its baseline")

    def thin_link(self, objs):
        self.patch_no += 1
        out = os.path.join(self.work, "patches", "p%03d.hpp" % self.patch_no)
        if os.path.exists(out):
            os.remove(out)
        rc, text, secs = run([self.args.thinlink, "--patch", "--base", self.exe, "-o", out] + objs, self.work)
        if rc != 0:
            return "refused", text, None
        if not os.path.exists(out):
            return "nothing", text, None
        return "patch", text, out

    def apply(self, patch):
        rc, text, _ = run([self.args.hotpatch, "apply", "--pid", str(self.prog.proc.pid), patch], self.work)
        m = re.search(r"applied patch (\d+)", text)
        if rc == 0 and m:
            self.chain = int(m.group(1))
            return True, text
        return False, text


def first_error(text):
    for line in text.splitlines():
        if "error" in line or "refused" in line:
            return line.strip()
    lines = text.splitlines()
    return lines[0].strip() if lines else "(no output)"


def summary_line(text):
    for line in text.splitlines():
        if line.startswith(("patch ", "nothing to patch")):
            return line.strip()
    return first_error(text)


def diff_probes(got, want):
    out = []
    for k in sorted(set(got) | set(want)):
        if got.get(k) != want.get(k):
            out.append("%s: %r, expected %r" % (k, got.get(k, "<missing>"), want.get(k, "<missing>")))
    return out


def patch_step(s, edit_files, expect_refused, wanted, old, notes, texts, revert=False):
    """Rebuilds, thin-links, applies and steps once. Returns (outcome, reason, broken)."""
    objs_src = s.b.dependents(edit_files)
    if revert and not s.args.recompile_reverts:
        # The original text's objects: what recompiling it gives, without the wait.
        s.b.restore(objs_src)
        ok, out = True, ""
        texts.append("restore the objects of the original text: %s" % " ".join(objs_src))
    else:
        ok, out = s.b.compile(objs_src)
        texts.append("compile %s: %s" % (" ".join(objs_src), "ok" if ok else "FAILED"))
    if not ok:
        texts.append(out)
        return "CORPUS-ERROR", "compile failed: " + first_error(out), False
    objs = [s.b.obj(x) for x in objs_src]
    status, tl_text, patch = s.thin_link(objs)
    texts.append("thinlink: " + tl_text.replace("\n", "\n          "))
    if status == "refused":
        reason = first_error(tl_text)
        if expect_refused is None:
            return "FALSE-REFUSAL", "thin link: " + reason, False
        if re.search(expect_refused, tl_text):
            return "REFUSED-OK", "thin link: " + reason, False
        return "WRONG", "refused for another reason: " + reason, False
    tool_said = summary_line(tl_text)
    if status == "patch":
        applied, ap_text = s.apply(patch)
        texts.append("apply: " + ap_text)
        if not applied:
            try:
                code = s.prog.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                code = None
            if code == -13:
                raise Interrupted()
            if code is not None:
                texts.append("program: exited with %s before or while the patch was applied" % describe_exit(code))
                return "WRONG", "apply: %s; the program exited with %s" % (first_error(ap_text), describe_exit(code)), True
            reason = "apply: " + first_error(ap_text)
            # The chain is now ahead of the process: the next patch would be out of order.
            if expect_refused is not None and re.search(expect_refused, ap_text):
                return "REFUSED-OK", reason, True
            if expect_refused is not None:
                return "WRONG", "refused for another reason: " + reason, True
            return "FALSE-REFUSAL", reason, True
        tool_said += "; " + summary_line(ap_text)
    try:
        counter, probes, other = s.prog.step()
    except Dead as e:
        texts.append("program: " + str(e))
        return "WRONG", "%s; %s" % (tool_said, e), True
    if other:
        texts.append("program also printed: " + " | ".join(other[:5]))
    if counter != s.prog.counter + 1:
        texts.append("program: counter %s after %s" % (counter, s.prog.counter))
        s.prog.counter = counter or 0
        return "WRONG", "%s; counter %s did not continue" % (tool_said, counter), False
    s.prog.counter = counter
    diffs = diff_probes(probes, wanted)
    if diffs:
        texts.append("program: " + "; ".join(diffs))
    if expect_refused is not None:
        return "WRONG", "not refused (%s)%s" % (tool_said, "; output changed" if diffs else ""), False
    missing_notes = [n for n in notes if not re.search(n, tl_text)]
    if not diffs:
        if missing_notes:
            return "WRONG", "%s; thin link output lacks /%s/" % (tool_said, missing_notes[0]), False
        return "PATCHED", tool_said, False
    # Old behaviour where new was wanted, and nothing else off: silent.
    stale = [k for k in wanted if wanted[k] != old.get(k) and probes.get(k) == old.get(k)]
    others = [k for k in set(probes) | set(wanted) if probes.get(k) != wanted.get(k) and k not in stale]
    if stale and not others:
        return "SILENT", "%s, but %s still print%s the old output" % (
            tool_said, ", ".join(stale), "s" if len(stale) == 1 else ""), False
    return "WRONG", "%s; %s" % (tool_said, "; ".join(diffs[:3])), False


def apply_text(srcdir, blocks, reverse=False):
    for f, old, new in (reversed(blocks) if reverse else blocks):
        a, b = (new, old) if reverse else (old, new)
        path = os.path.join(srcdir, f)
        text = open(path).read()
        n = text.count(a)
        if n != 1:
            raise SystemExit("corpus: %s: the text to replace occurs %d times in %s:\n%s" % (
                "revert" if reverse else "edit", n, f, a))
        tmp = path + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(text.replace(a, b))
        os.replace(tmp, path)


# ---------------------------------------------------------------------------


def run_corpus(args, edits):
    work = os.path.abspath(args.work)
    srcdir = os.path.join(work, "src")
    objdir = os.path.join(work, "obj")
    for d in (srcdir, objdir, os.path.join(work, "patches")):
        os.makedirs(d, exist_ok=True)
    for f in os.listdir(args.sources):
        shutil.copy(os.path.join(args.sources, f), srcdir)
    b = Builder(args, srcdir, objdir)
    t0 = time.monotonic()
    ok, out = b.compile(b.sources, base=True)
    if not ok:
        print(out)
        raise SystemExit("corpus: the base program does not compile")
    ok, out = b.link(os.path.join(work, "depot"))
    if not ok:
        print(out)
        raise SystemExit("corpus: the base program does not link")
    b.save_originals()
    print("base: %d sources built at -%s with the plugin and linked with thinlink in %.1f s" % (
        len(b.sources), args.opt, time.monotonic() - t0))

    s = Session(args, b, work)
    probes, other = s.start()
    _, again, _ = s.prog.step()
    s.prog.counter += 1
    if probes != again:
        raise SystemExit("corpus: the program's probes are not stable: %s" % diff_probes(again, probes))
    s.baseline = probes
    print("baseline: %d probes" % len(probes))
    for e in edits:
        for k in e.expect:
            if k in probes and probes[k] == e.expect[k]:
                raise SystemExit("corpus: edit %s expects %s to keep its value %r" % (e.name, k, probes[k]))
    sys.stdout.flush()

    results = []
    s.incidents = []
    for idx, e in enumerate(edits, 1):
        for attempt in range(5):
            try:
                result = run_edit(s, e)
                break
            except Interrupted:
                # Put the original text and objects back and start again.
                s.incidents.append("%s: the program was killed by SIGPIPE (its control socket "
                                   "answered a client that had gone); edit retried" % e.name)
                if not s.text_reverted:
                    apply_text(srcdir, e.blocks, reverse=True)
                    s.text_reverted = True
                b.restore(b.dependents(e.files))
                s.prog.stop()
                s.restarts += 1
                s.start()
        else:
            raise SystemExit("corpus: the program was killed five times during edit " + e.name)
        results.append(result)
        if args.verbose:
            print("%3d %-34s %-13s %-13s %s" % (idx, e.name, result["outcome"], result["revert"], result["reason"]))
            sys.stdout.flush()
    s.prog.stop()
    return results, s.restarts, time.monotonic() - t0, s.incidents


def run_edit(s, e):
    """Makes, checks and reverts one edit."""
    b = s.b
    srcdir = b.srcdir
    if True:
        t_edit = time.monotonic()
        if s.chain + 2 > CHAIN_ROOM:
            s.restart()
        texts = []
        wanted = dict(s.baseline)
        wanted.update(e.expect)
        apply_text(srcdir, e.blocks)
        s.text_reverted = False
        outcome, reason, broken = patch_step(s, e.files, e.refused, wanted, s.baseline, e.notes, texts)
        apply_text(srcdir, e.blocks, reverse=True)
        s.text_reverted = True
        rtexts = []
        if broken:
            # The program died or its chain is out of step: rebuild the objects
            # of the original text and start the program again.
            b.restore(b.dependents(e.files))
            s.restart()
            r_outcome, r_reason = "RESTARTED", "program restarted"
        else:
            r_outcome, r_reason, rbroken = patch_step(s, e.files, None, s.baseline, wanted, [], rtexts, revert=True)
            r_outcome = "OK" if r_outcome == "PATCHED" else r_outcome
            if rbroken or r_outcome != "OK":
                # Whatever went wrong must not be blamed on the next edit.
                s.restart()
        return {
            "edit": e.name, "kind": e.kind, "outcome": outcome, "reason": reason,
            "revert": r_outcome, "revert_reason": r_reason, "details": texts, "revert_details": rtexts,
            "seconds": round(time.monotonic() - t_edit, 2),
        }


def report(args, results, restarts, secs, incidents):
    print()
    print("Edit corpus at -%s: %d edits, %d restarts of the program, %.0f s" % (
        args.opt, len(results), restarts, secs))
    print()
    w = max(len(r["edit"]) for r in results)
    print("%-*s  %-13s  %-13s  %s" % (w, "edit", "outcome", "revert", "reason"))
    print("%s  %s  %s  %s" % ("-" * w, "-" * 13, "-" * 13, "-" * 40))
    work = os.path.abspath(args.work) + "/"
    for r in results:
        reason = r["reason"].replace(work, "")
        if len(reason) > 200:
            reason = reason[:197] + "..."
        print("%-*s  %-13s  %-13s  %s" % (w, r["edit"], r["outcome"], r["revert"], reason))
    counts = {}
    for r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    rcounts = {}
    for r in results:
        rcounts[r["revert"]] = rcounts.get(r["revert"], 0) + 1
    print()
    print("outcomes: " + ", ".join("%s %d" % (k, counts[k]) for k in sorted(counts)))
    print("reverts:  " + ", ".join("%s %d" % (k, rcounts[k]) for k in sorted(rcounts)))
    for incident in incidents:
        print("incident: " + incident)
    failing = [r for r in results if r["outcome"] in BAD or r["revert"] in BAD]
    if failing:
        print()
        print("Details of the edits that did not pass:")
        for r in failing:
            print()
            print("== %s (%s): %s / revert %s" % (r["edit"], r["kind"], r["outcome"], r["revert"]))
            for t in r["details"]:
                print("   " + t.replace("\n", "\n   "))
            if r["revert"] in BAD:
                print("   -- revert: " + r["revert_reason"])
                for t in r["revert_details"]:
                    print("   " + t.replace("\n", "\n   "))
    print()
    bad = len(failing)
    print("corpus -%s: %d of %d edits passed; %d did not" % (args.opt, len(results) - bad, len(results), bad))
    return 1 if bad else 0


def check_corpus(args, edits):
    """Builds every edit into a fresh program: the expectations must hold."""
    work = os.path.abspath(args.work)
    failures = 0
    base_dir = os.path.join(work, "check-base")
    os.makedirs(os.path.join(base_dir, "src"), exist_ok=True)
    os.makedirs(os.path.join(base_dir, "obj"), exist_ok=True)
    for f in os.listdir(args.sources):
        shutil.copy(os.path.join(args.sources, f), os.path.join(base_dir, "src"))
    b = Builder(args, os.path.join(base_dir, "src"), os.path.join(base_dir, "obj"))
    ok, out = b.compile(b.sources)
    assert ok, out
    exe = os.path.join(base_dir, "depot")
    ok, out = b.link(exe)
    assert ok, out

    def probes_of(exe, steps=2):
        p = Program(exe, os.path.dirname(exe))
        p.start()
        result = None
        for _ in range(steps):
            result = p.step()
        p.stop()
        return result[1]

    baseline = probes_of(exe)
    for e in edits:
        apply_text(b.srcdir, e.blocks)
        deps = b.dependents(e.files)
        ok, out = b.compile(deps)
        status = "ok"
        if not ok:
            status = "does not compile: " + first_error(out)
        elif e.refused is None:
            ok, out = b.link(exe)
            if not ok:
                status = "does not link: " + first_error(out)
            else:
                got = probes_of(exe, steps=1)
                want = dict(baseline)
                want.update(e.expect)
                diffs = diff_probes(got, want)
                if diffs and e.unchanged:
                    status = "ok (a fresh build differs where the running program keeps its state: %s)" % (
                        "; ".join(diffs))
                elif diffs:
                    status = "; ".join(diffs)
        apply_text(b.srcdir, e.blocks, reverse=True)
        b.compile(deps)
        if not status.startswith("ok"):
            failures += 1
        print("%-34s %s" % (e.name, status))
        sys.stdout.flush()
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--opt", required=True, choices=["O0", "O1", "O2", "O3"])
    ap.add_argument("--clang", required=True)
    ap.add_argument("--clangxx", required=True)
    ap.add_argument("--plugin-flags", required=True, help="e.g. '-fplugin=.../hotpatch.so -fplugin-arg-hotpatch-all'")
    ap.add_argument("--cflags", default="", help="include flags for <hotpatch/hotpatch.h>")
    ap.add_argument("--link-flags", required=True, help="e.g. '-fuse-ld=lld --ld-path=.../thinlink'")
    ap.add_argument("--ldflags", required=True, help="the runtime library flags")
    ap.add_argument("--thinlink", required=True)
    ap.add_argument("--hotpatch", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", default="", help="comma-separated edit names")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--check-corpus", action="store_true")
    ap.add_argument("--resident", action="store_true",
                    help="compile each edit with `hotpatch compile --preamble` (the base with clang)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--recompile-reverts", action="store_true",
                    help="recompile the original text for a revert instead of reusing the base's objects")
    ap.add_argument("--keep-sigpipe", action="store_true",
                    help="start the program with SIGPIPE's default action (killed by a control-socket reply to a closed client)")
    ap.add_argument("sources")
    ap.add_argument("edits")
    args = ap.parse_args()
    edits = parse_edits(args.edits)
    if args.only:
        names = args.only.split(",")
        unknown = set(names) - {e.name for e in edits}
        if unknown:
            raise SystemExit("corpus: no edit named " + ", ".join(sorted(unknown)))
        edits = [e for e in edits if e.name in names]
    if args.check_corpus:
        return check_corpus(args, edits)
    results, restarts, secs, incidents = run_corpus(args, edits)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return report(args, results, restarts, secs, incidents)


if __name__ == "__main__":
    sys.exit(main())
