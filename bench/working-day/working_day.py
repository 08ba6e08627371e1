#!/usr/bin/env python3
"""A working day of patches in one process.

    working_day.py --build <build dir> --count N --workdir DIR

Builds a small program with the plugin and thinlink, makes N patches of it
(thinlink --patch, alternating two versions of one function, so that every
patch changes what the program prints), and has one running program apply
all N in order with hotpatch_apply_file. After each patch the program
prints what value() returns and where its code now lies; this script checks
every line and prints the figures: the time to make and to apply a patch
(the first 100 patches against the last 100 of the same run), the address
space between consecutive patches, and the program's mappings and resident
memory before and after.
"""
import argparse, os, re, shutil, subprocess, sys, time

PROGRAM = r'''
#include <hotpatch/hotpatch.h>
#include <cstdio>
#include <cstring>
#include <string>
int value() { return VALUE; }
static long mappings() {
  long n = 0;
  if (FILE *f = std::fopen("/proc/self/maps", "r")) {
    for (int c; (c = std::fgetc(f)) != EOF;) n += c == '\n';
    std::fclose(f);
  }
  return n;
}
static long rss_kib() {
  long kib = 0;
  char line[256];
  if (FILE *f = std::fopen("/proc/self/status", "r")) {
    while (std::fgets(line, sizeof line, f))
      if (!std::strncmp(line, "VmRSS:", 6)) kib = std::atol(line + 6);
    std::fclose(f);
  }
  return kib;
}
int main() {
  std::printf("start value %d mappings %ld rss %ld\n", value(), mappings(), rss_kib());
  std::fflush(stdout);
  char path[4096];
  while (std::fgets(path, sizeof path, stdin)) {
    path[std::strcspn(path, "\n")] = 0;
    hotpatch_apply_result r{};
    hotpatch_status st = hotpatch_apply_file(path, &r);
    if (st != HOTPATCH_OK) {
      std::printf("refused %s\n", hotpatch_last_error());
      break;
    }
    std::printf("patch %u value %d at %p ms %.4f\n", r.chain_index, value(),
                hotpatch_current("_Z5valuev"), r.total_ms);
  }
  std::printf("end mappings %ld rss %ld\n", mappings(), rss_kib());
}
'''

def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode:
        sys.exit("working_day.py: %s failed:\n%s" % (" ".join(cmd), r.stdout))
    return r.stdout

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--src", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--clangxx", default="/usr/lib/llvm-19/bin/clang++")
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--link-flags", default="",
                    help="more flags to link the program with (the sanitizers' runtime, "
                         "when the runtime was built with them)")
    ap.add_argument("--apply-only", action="store_true",
                    help="apply the patches p1..pN an earlier run left in --workdir")
    ap.add_argument("--resume", action="store_true",
                    help="go on making patches where an earlier run in --workdir stopped")
    a = ap.parse_args()
    build, wd = os.path.abspath(a.build), os.path.abspath(a.workdir)
    if a.apply_only:
        os.chdir(wd)
        return apply_all(a.count, [], 0)
    # Its own copy of thinlink (the command and the linker it runs, in the
    # same layout): a rebuild during the run does not stop it.
    thinlink = os.path.join(wd, "tools", "bin", "thinlink")

    def copy_thinlink():
        for rel in (os.path.join("bin", "thinlink"),
                    os.path.join("libexec", "hotpatch", "thinlink-lld")):
            os.makedirs(os.path.dirname(os.path.join(wd, "tools", rel)), exist_ok=True)
            shutil.copy(os.path.join(build, rel), os.path.join(wd, "tools", rel))

    if a.resume:
        os.chdir(wd)
        if not os.path.exists(thinlink):
            copy_thinlink()
        first = next(i for i in range(1, a.count + 2) if not os.path.exists("p%d.hpp" % i))
        return make_patches(a, thinlink, first)
    shutil.rmtree(wd, ignore_errors=True)
    os.makedirs(wd)
    os.chdir(wd)
    copy_thinlink()
    cflags = ["-I" + os.path.join(a.src, "runtime", "include"),
              "-fplugin=" + os.path.join(build, "lib", "hotpatch.so"), "-fplugin-arg-hotpatch-all", "-O2"]
    lib = os.path.join(build, "lib")
    def compile_version(v, out):
        open("app.cpp", "w").write(PROGRAM.replace("VALUE", str(v)))
        run([a.clangxx] + cflags + ["-c", "app.cpp", "-o", out])
    # Version 1 is linked; the patches alternate versions 2 and 1.
    compile_version(1, "v1.o")
    compile_version(2, "v2.o")
    shutil.copy("v1.o", "app.o")
    run([a.clangxx, "-fuse-ld=lld", "--ld-path=" + thinlink, "app.o", "-L" + lib, "-lhotpatch",
         "-Wl,-rpath," + lib, "-pthread", "-o", "app"] + a.link_flags.split())
    return make_patches(a, thinlink, 1)

def make_patches(a, thinlink, first):
    """Makes patches first..count (the program is linked), then applies all."""
    t0 = time.monotonic()
    link_ms = []
    for i in range(first, a.count + 1):
        shutil.copy("v2.o" if i % 2 else "v1.o", "app.o")
        t = time.monotonic()
        run([thinlink, "--patch", "--base", "./app", "-o", "p%d.hpp" % i, "app.o"])
        link_ms.append((time.monotonic() - t) * 1000)
    made_s = time.monotonic() - t0
    return apply_all(a.count, link_ms, made_s, a.count + 1 - first)

def apply_all(count, link_ms, made_s, made=0):
    """Applies p1..p<count> to one running program and prints the figures."""
    sizes = [os.path.getsize("p%d.hpp" % i) for i in range(1, count + 1)]

    app = subprocess.Popen(["./app"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                           env=dict(os.environ, HOTPATCH_DISABLE="1", HOTPATCH_NO_CATCH_UP="1"))
    t0 = time.monotonic()
    out, _ = app.communicate("".join(os.path.abspath("p%d.hpp" % i) + "\n"
                                     for i in range(1, count + 1)), timeout=3600)
    apply_s = time.monotonic() - t0
    lines = out.splitlines()
    start = re.match(r"start value (\d+) mappings (\d+) rss (\d+)", lines[0])
    end = re.match(r"end mappings (\d+) rss (\d+)", lines[-1])
    patches = [re.match(r"patch (\d+) value (\d+) at (0x[0-9a-f]+) ms ([0-9.]+)", l) for l in lines[1:-1]]
    ok = (start and end and len(patches) == count and all(patches) and
          all(int(m.group(1)) == i + 1 and int(m.group(2)) == (2 if (i + 1) % 2 else 1)
              for i, m in enumerate(patches)))
    print("patches: %d in one process" % len(patches))
    print("value after every patch as expected: %s" % ("yes" if ok else "NO"))
    if not ok:
        print("\n".join(lines[:3] + ["..."] + lines[-3:]))
        return 1
    addrs = [int(m.group(3), 16) for m in patches]
    steps = [b - c for c, b in zip(addrs, addrs[1:])]
    apply_ms = [float(m.group(4)) for m in patches]
    k = min(100, len(patches))
    first, last = sum(apply_ms[:k]) / k, sum(apply_ms[-k:]) / k
    if link_ms:
        lfirst, llast = sum(link_ms[:k]) / k, sum(link_ms[-k:]) / k
        print("made: %d patches in %.1f s, thin link %.1f ms a patch (first %d: %.1f ms, last %d: "
              "%.1f ms, ratio %.2f)" % (made, made_s, made_s * 1000 / made, k, lfirst, k, llast,
                                        llast / lfirst))
    print("patch file: %.1f KB on average" % (sum(sizes) / len(sizes) / 1000))
    print("applied: %.2f s in all; apply %.3f ms a patch (first %d: %.3f ms, last %d: %.3f ms, ratio %.2f)"
          % (apply_s, sum(apply_ms) / len(apply_ms), k, first, k, last, last / first))
    if steps:
        print("address space a patch: %d KiB (between consecutive patches: min %d KiB, max %d KiB)"
              % ((addrs[-1] - addrs[0]) / len(steps) / 1024, min(steps) / 1024, max(steps) / 1024))
        print("address space a patch at most 64 KiB: %s" % ("yes" if 0 < max(steps) <= 65536 else "NO"))
    m0, r0, m1, r1 = int(start.group(2)), int(start.group(3)), int(end.group(1)), int(end.group(2))
    print("mappings: %d before, %d after (%.2f a patch)" % (m0, m1, (m1 - m0) / count))
    print("resident memory: %.1f MiB before, %.1f MiB after (%.1f KiB a patch)"
          % (r0 / 1024, r1 / 1024, (r1 - r0) / count))
    return 0

if __name__ == "__main__":
    sys.exit(main())
