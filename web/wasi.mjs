// The few WASI calls a program needs to print and run in Node and in a
// browser alike (node:wasi exists only in Node, and owns the instance).
// Output goes to `print(fd, text)` line by line; every other call returns
// ENOSYS, so a program that opens files learns it cannot.

const ESUCCESS = 0;
const EBADF = 8;
const ENOSYS = 52;

/** Thrown by proc_exit; carries the exit code. */
export class WasiExit extends Error {
  constructor(code) {
    super(`the program exited with code ${code}`);
    this.code = code;
  }
}

/**
 * The wasi_snapshot_preview1 imports of `module`, over the memory that
 * `getMemory()` returns once the instance exists.
 */
export function wasiImports(module, getMemory, print) {
  const pending = { 1: '', 2: '' };
  const decoder = new TextDecoder();
  const view = () => new DataView(getMemory().buffer);
  const impl = {
    fd_write(fd, iovs, iovsLen, nwritten) {
      if (fd !== 1 && fd !== 2) return EBADF;
      const v = view();
      const bytes = new Uint8Array(getMemory().buffer);
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = v.getUint32(iovs + 8 * i, true);
        const len = v.getUint32(iovs + 8 * i + 4, true);
        // TextDecoder refuses views of a SharedArrayBuffer: copy.
        pending[fd] += decoder.decode(bytes.slice(ptr, ptr + len), { stream: true });
        total += len;
      }
      let nl;
      while ((nl = pending[fd].indexOf('\n')) >= 0) {
        print(fd, pending[fd].slice(0, nl));
        pending[fd] = pending[fd].slice(nl + 1);
      }
      v.setUint32(nwritten, total, true);
      return ESUCCESS;
    },
    fd_fdstat_get(fd, out) {
      if (fd > 2) return EBADF;
      const v = view();
      for (let i = 0; i < 24; i += 4) v.setUint32(out + i, 0, true);
      v.setUint8(out, 2); // character device
      return ESUCCESS;
    },
    proc_exit(code) {
      throw new WasiExit(code);
    },
    clock_time_get(id, precision, out) {
      const ns = BigInt(Math.round(performance.now() * 1e6)) +
        (id === 0 ? BigInt(Math.round(performance.timeOrigin * 1e6)) : 0n);
      view().setBigUint64(out, ns, true);
      return ESUCCESS;
    },
    random_get(buf, len) {
      const bytes = new Uint8Array(len);
      crypto.getRandomValues(bytes);
      new Uint8Array(getMemory().buffer).set(bytes, buf);
      return ESUCCESS;
    },
    args_sizes_get(count, size) {
      const v = view();
      v.setUint32(count, 0, true);
      v.setUint32(size, 0, true);
      return ESUCCESS;
    },
    environ_sizes_get(count, size) {
      return impl.args_sizes_get(count, size);
    },
    args_get() { return ESUCCESS; },
    environ_get() { return ESUCCESS; },
    sched_yield() { return ESUCCESS; },
  };
  const imports = {};
  for (const { module: m, name, kind } of WebAssembly.Module.imports(module))
    if (m === 'wasi_snapshot_preview1' && kind === 'function')
      imports[name] = impl[name] ?? (() => ENOSYS);
  return imports;
}
