#!/usr/bin/env python3
"""A mutation campaign against the patch loader.

    mutate.py <build>/test/patch_target/app <build>/test/patch_target/good.hpp COUNT SEED [JOBS]

Makes COUNT single mutations of the good patch (a flipped bit, a random
byte, a 32-bit value, a pointer-sized add), recomputes each one's checksum,
applies each to a fresh run of the program (which prints what runs before
and after) and prints how many were refused with the old code still
running, accepted with the same behaviour, accepted with other behaviour,
or crashed or hung inside apply; each kind split by where the mutation lies,
because code and initial data cannot be verified (a new global's constructor
runs during apply: a mutated one may crash there). Then the figures, and
examples of what went wrong.

Exits 1 if any mutation outside code and initial data crashed or hung the
program, or was accepted (or refused) with behaviour other than a refusal
or the good patch's: those are checks the loader lacks.

Each job keeps one program started with `app --serve`, which applies every
mutant it is sent in a forked child of itself: a fresh copy of a program
that has only started, at a few milliseconds a mutant instead of a process
start (--exec runs a new process for each mutant instead).
"""
import collections, os, random, select, struct, subprocess, sys, tempfile, threading, time
from concurrent.futures import ThreadPoolExecutor
args = [a for a in sys.argv[1:] if a != "--exec"]
exec_each = "--exec" in sys.argv[1:]
app, good_path, n, seed = args[0], args[1], int(args[2]), int(args[3])
jobs = int(args[4]) if len(args) > 4 else 2
good = open(good_path, "rb").read()
HDR = 72
def checksum(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h
def fix(b):
    b = bytearray(b)
    b[56:64] = struct.pack("<Q", checksum(bytes(b[HDR:])))
    return bytes(b)
ENV = dict(os.environ, HOTPATCH_DISABLE="1")
MARK = b"\x01\x02=" # then "exit N" or "signal S" (target_main.h)
class Server:
    """One `app --serve`: a program that runs each patch it is sent in a
    forked child, answering with the child's output and how it ended."""
    def __init__(self):
        self.p = subprocess.Popen([app, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=ENV)
        self.buf = b""
    def run(self, path):
        self.p.stdin.write(path.encode() + b"\n")
        self.p.stdin.flush()
        deadline = time.monotonic() + 30 # the child ends itself after 10 s
        while MARK not in self.buf or self.buf.find(b"\n", self.buf.find(MARK)) < 0:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                raise TimeoutError("the server did not answer")
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                raise EOFError("the server ended")
            self.buf += chunk
        i = self.buf.index(MARK)
        j = self.buf.index(b"\n", i)
        out, status, self.buf = self.buf[:i], self.buf[i+len(MARK):j].decode(), self.buf[j+1:]
        kind, value = status.split()
        rc = int(value) if kind == "exit" else -int(value)
        return (-999 if rc == -14 else rc), out.decode(errors="replace") # SIGALRM: the child hung
    def close(self):
        self.p.kill()
        self.p.wait()
servers = threading.local()
all_servers = []
def run(data, tag):
    path = os.path.join(tempfile.gettempdir(), "hotpatch-mutant-%d-%s.hpp" % (os.getpid(), tag))
    open(path, "wb").write(data)
    if exec_each:
        try:
            r = subprocess.run(["stdbuf", "-o0", app, path], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=ENV, timeout=10)
            rc, out = r.returncode, r.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired as e:
            rc, out = -999, (e.stdout or b"").decode(errors="replace")
    else:
        if not hasattr(servers, "s"):
            servers.s = Server()
            all_servers.append(servers.s)
        try:
            rc, out = servers.s.run(path)
        except (TimeoutError, EOFError) as e:
            servers.s.close() # a fresh server for the next mutant
            del servers.s
            rc, out = -999, "(%s)" % e
    if rc == -999:
        os.rename(path, path + ".hang")
    else:
        os.unlink(path)
    return rc, out
rc, good_out = run(fix(good), "good")
# The good patch must change what runs, or no mutant could be told from it.
assert rc == 0 and "apply: ok" in good_out and "after 1 one" not in good_out, good_out
def mutant(i):
    # Made when needed, from its own generator: 100,000 patches are not
    # held in memory, and mutant i is the same whatever the job count.
    rng = random.Random(seed * 1000003 + i)
    b = bytearray(good)
    kind = rng.choice(["bit", "byte", "word", "qword"])
    off = rng.randrange(0, len(b))
    if off in range(56, 64):
        off = 64
    if kind == "bit":
        b[off] ^= 1 << rng.randrange(8)
    elif kind == "byte":
        b[off] = rng.randrange(256)
    elif kind == "word" and off + 4 <= len(b):
        b[off:off+4] = struct.pack("<I", rng.choice([0, 1, 0xffffffff, rng.randrange(1 << 32)]))
    elif off + 8 <= len(b):
        v = struct.unpack("<Q", bytes(b[off:off+8]))[0]
        b[off:off+8] = struct.pack("<Q", (v + rng.choice([-8, 8, 1, -1, 0x1000, -0x1000])) & (2**64-1))
    return fix(bytes(b)), "%s@%d(%s)" % (kind, off, region(off))
# Where a mutation lies: the manifest, or a section of the image.
magic,ver,chain,bid,bids,uc,ss,isz,ck,ic,res=struct.unpack('<8sII20sIIIQQII',good[:72])
img=72+uc*32+ic*8+ss
regions=[(0,72,'header'),(72,72+uc*32,'updates'),(72+uc*32,72+uc*32+ic*8,'inits'),(72+uc*32+ic*8,img,'strings')]
e=good[img:]
shoff,=struct.unpack_from('<Q',e,0x28); shnum,shstrndx=struct.unpack_from('<HH',e,0x3c)
phoff,=struct.unpack_from('<Q',e,0x20); phnum,=struct.unpack_from('<H',e,0x38)
regions.append((img,img+64,'elf header')); regions.append((img+phoff,img+phoff+phnum*56,'phdrs'))
regions.append((img+shoff,img+shoff+shnum*64,'shdrs'))
names_off=struct.unpack_from('<Q',e,shoff+shstrndx*64+24)[0]
for i in range(shnum):
    nm,typ,fl,addr,off,size=struct.unpack_from('<IIQQQQ',e,shoff+i*64)
    name=e[names_off+nm:e.index(b'\0',names_off+nm)].decode()
    if typ!=8 and size: regions.append((img+off,img+off+size,name))
    if name=='.eh_frame': eh_frame=(img+off,size)
def uleb(b, p):
    v=s=0
    while True:
        c=b[p]; p+=1; v|=(c&0x7f)<<s; s+=7
        if c<0x80: return v,p
# The call frame instructions of .eh_frame (what a function does to its
# frame, as its code does it) are no more verifiable than the code.
cfi=[]
if 'eh_frame' in globals():
    at,size=eh_frame; p=at
    while p+8<=at+size:
        ln,cie=struct.unpack_from('<II',good,p)
        if ln==0 or ln==0xffffffff: break
        end=p+4+ln
        if cie==0:
            q=p+9; aug=good[q:good.index(b'\0',q)]; q+=len(aug)+1
            _,q=uleb(good,q); _,q=uleb(good,q); q+=1
            if aug.startswith(b"z"): k,q=uleb(good,q); q+=k
        else:
            q=p+16; k,q=uleb(good,q); q+=k
        cfi.append((q,end))
        p=end
def region(off):
    for a,b in cfi:
        if a<=off<b: return '.eh_frame instructions'

    for a,b,n in regions:
        if a<=off<b:
            # A relocation's symbol (which function a call reaches) is no more
            # verifiable than code; its addend is, against its place.
            if n.startswith('.rela') and 12 <= (off-a) % 24 < 16: return n + ' symbol'
            # So is the name of a symbol the patch needs (one that starts
            # another name is refused), and which of the patch's functions
            # an initialiser is (one that starts none is refused).
            if n == '.dynsym' and (off-a) % 24 < 4: return n + ' name'
            return n
    return 'padding'
# Symbol names decide, like relocation symbols, which function is reached.
UNVERIFIABLE={'.text','.plt','.rodata','.data','.rela.dyn symbol','.rela.plt symbol',
              '.dynstr','.dynsym name','inits','.eh_frame instructions'}
results = collections.Counter()
examples = {}
def one(i):
    data, desc = mutant(i)
    reg = desc[desc.index("(")+1:-1]
    # A qword reaching into an addend may change it: unverifiable as well.
    if desc.startswith("qword") or desc.startswith("word"):
        off = int(desc[desc.index("@")+1:desc.index("(")])
        width = 8 if desc.startswith("qword") else 4
        if any(region(o) in UNVERIFIABLE for o in range(off, off + width)):
            reg = region(next(o for o in range(off, off + width) if region(o) in UNVERIFIABLE))
    where = "code/data bytes" if reg in UNVERIFIABLE else "VERIFIABLE"
    rc, out = run(data, "%d-%d" % (seed, i))
    if rc == -999:
        cls = "hang after apply" if "apply:" in out else "hang inside apply"
    elif "apply: ok" in out:
        cls = "accepted, same as good" if (rc, out) == (0, good_out) else "accepted, other behaviour"
    elif "apply: " in out:
        cls = "refused, old code ran" if out.endswith("after 1 one\ncaught 1\npatches 0\n") and rc == 0 else "refused, other behaviour"
    else:
        cls = "crash inside apply"
    if cls not in ("accepted, same as good", "refused, old code ran"):
        cls += " (%s)" % where
    return cls, desc, rc, out
start = time.monotonic()
done = 0
with ThreadPoolExecutor(jobs) as ex:
    for cls, desc, rc, out in ex.map(one, range(n), chunksize=16):
        results[cls] += 1
        done += 1
        if "VERIFIABLE" in cls or "crash" in cls:
            examples.setdefault(cls, []).append((desc, rc, out[-300:]))
        if "VERIFIABLE" in cls: # at once: a long campaign may be stopped
            print("!! mutant %d: %s %s exit %d %r" % (done - 1, cls, desc, rc, out[-300:]),
                  file=sys.stderr, flush=True)
        if done % 5000 == 0: # figures so far, for long campaigns
            print("... %d mutants, %.0f s: %s" % (done, time.monotonic() - start,
                  ", ".join("%s %d" % kv for kv in sorted(results.items()))), file=sys.stderr, flush=True)
took = time.monotonic() - start
for srv in all_servers:
    srv.close()
for k, v in sorted(results.items()):
    print("%-50s %d" % (k, v))
bad = sum(v for k, v in results.items() if "VERIFIABLE" in k)
crashes = sum(v for k, v in results.items() if k.startswith(("crash", "hang inside")))
print("mutants: %d in %.0f s (%.0f a second, %d jobs, %s)" % (n, took, n / took, jobs,
      "a process each" if exec_each else "a forked child each"))
print("crashes or hangs inside apply: %d, all from code or initial data: %s" %
      (crashes, "yes" if not any(k.startswith(("crash", "hang inside")) and "VERIFIABLE" in k for k in results) else "NO"))
print("wrong outcomes outside code and initial data: %d" % bad)
for k, v in examples.items():
    for desc, rc, out in v[:20]:
        print("--", k, desc, "exit", rc, repr(out))
sys.exit(1 if bad else 0)
