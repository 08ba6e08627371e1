"""The runtime's control socket as tests reach it: the abstract name
"\\0hotpatch/<uid>/<pid>" (runtime/include/hotpatch/control_protocol.h)."""
import os, socket, time

def name(pid, uid=None):
    return "\0hotpatch/%d/%d" % (os.getuid() if uid is None else uid, pid)

def listening(pid, uid=None):
    """Whether the kernel lists a listener of that name (flags 00010000)."""
    want = " @" + name(pid, uid)[1:]
    with open("/proc/net/unix") as table:
        return any(l.rstrip("\n").endswith(want) and l.split()[3] == "00010000"
                   for l in table)

def wait_listening(proc, timeout=20):
    """Waits until the process `proc` (a Popen) listens, or exits."""
    deadline = time.monotonic() + timeout
    while not listening(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    return listening(proc.pid)

def connect(pid):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(name(pid))
    return s
