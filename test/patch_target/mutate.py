#!/usr/bin/env python3
"""A mutation campaign against the patch loader.

    mutate.py <build>/test/patch_target/app <build>/test/patch_target/good.hpp COUNT SEED

Makes COUNT single mutations of the good patch (a flipped bit, a random
byte, a 32-bit value, a pointer-sized add), recomputes each one's checksum,
applies each in a fresh run of the program and prints how many were refused
with the old code still running, accepted with the same behaviour, accepted
with other behaviour (split by where the mutation lies: code and initial data
cannot be verified), or crashed or hung; then examples of the last kinds.
"""
import collections, os, random, struct, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor
app, good_path, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
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
def run(data, tag):
    path = os.path.join(tempfile.gettempdir(), "hotpatch-mutant-%d-%s.hpp" % (os.getpid(), tag))
    open(path, "wb").write(data)
    try:
        r = subprocess.run(["stdbuf", "-o0", app, path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=dict(os.environ, HOTPATCH_DISABLE="1"), timeout=10)
    except subprocess.TimeoutExpired as e:
        os.rename(path, path + ".hang")
        return -999, (e.stdout or b"").decode(errors="replace")
    os.unlink(path)
    return r.returncode, r.stdout.decode(errors="replace")
rc, good_out = run(fix(good), "good")
assert rc == 0 and "apply: ok" in good_out, good_out
rng = random.Random(seed)
def mutant(i):
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
def region(off):
    for a,b,n in regions:
        if a<=off<b: return n
    return 'padding'
UNVERIFIABLE={'.text','.plt','.rodata','.data'}
results = collections.Counter()
examples = {}
muts = [mutant(i) for i in range(n)]
def one(i):
    data, desc = muts[i]
    rc, out = run(data, "%d-%d" % (seed, i))
    if rc == -999:
        cls = "HANG (apply line seen)" if "apply:" in out else "HANG inside apply"
    elif "apply: ok" in out:
        reg = desc[desc.index("(")+1:-1]
        cls = "accepted, same as good" if (rc, out) == (0, good_out) else ("accepted, differs (code/data bytes)" if reg in UNVERIFIABLE else "accepted, DIFFERENT")
    elif "apply: " in out:
        cls = "refused, old code ran" if out.endswith("after 1 one\ncaught 1\npatches 0\n") and rc == 0 else "refused, then DIFFERENT"
    else:
        cls = "CRASH inside apply"
    return cls, desc, rc, out
with ThreadPoolExecutor(2) as ex:
    for cls, desc, rc, out in ex.map(one, range(n)):
        results[cls] += 1
        if "DIFF" in cls or "CRASH" in cls:
            examples.setdefault(cls, []).append((desc, rc, out[-300:]))
for k, v in sorted(results.items()):
    print("%-28s %d" % (k, v))
for k, v in examples.items():
    for desc, rc, out in v[:20]:
        print("--", k, desc, "exit", rc, repr(out))
