// The web-worker manager: loads a hot-patchable program, spawns and tracks
// its workers, owns every message between them, and applies patches.
//
// Workers: each has an auto-incremented WorkerId and a state:
//   Initializing   instantiating the program, linking every applied patch;
//   Normal         running tasks;
//   DynamicLinking linking a patch (between two tasks);
//   Finalizing     being stopped.
//
// Messages (manager -> worker):
//   init     { module, memory, stackTop, tlsBase, patches, callback, payload }
//   task     { taskId, callback, payload }   call an export with payload as arguments
//   link     { seq, module, memoryBase, tableBase }
//   finalize {}
// (worker -> manager): ready, init-failed, result, task-failed, linked,
// link-failed, print, finalized, error. Any other message is an error, on
// both sides.
//
// Applying a patch, two phases (the protocol):
//   1. Refuse a patch that is corrupt, for another build, or that cannot be
//      linked, before anything changes.
//   2. Place the patch's data in shared memory and choose its table base
//      (the table's length, the same in every instance).
//   3. Link it in the main instance, which applies its data relocations and
//      reads its slot entries.
//   4. Send `link` to every worker; each links it at its next task boundary
//      and acknowledges. A worker that cannot link fails the patch: the
//      slots are untouched, the program keeps its code, and is told to
//      reload (its instances' tables no longer agree).
//   5. When every worker has acknowledged, store each new body's table
//      index into its slot with Atomics.store: from then on every instance
//      calls the new code.
// Patches and spawns are serialised: a worker spawned while a patch is
// being applied starts after it and links every applied patch first.

import { isNode, startWorker } from './platform.mjs';
import { ProgramInstance } from './instance.mjs';
import { PatchRefused, buildId, readDylink, readManifest, readProgramManifest } from './patch_format.mjs';

const PAGE = 65536;
const STACK_SIZE = 1 << 20;

export const WorkerState = Object.freeze({
  Initializing: 'Initializing',
  Normal: 'Normal',
  DynamicLinking: 'DynamicLinking',
  Finalizing: 'Finalizing',
});

function describe(e) {
  return e?.reason ?? e?.message ?? String(e);
}

export class HotpatchProgram {
  /**
   * Loads a program linked by thinlink. `source`: its bytes or a compiled
   * WebAssembly.Module. Options: `memory` (a WebAssembly.Memory for programs
   * that import theirs; made from the module's import when absent),
   * `print(fd, line, workerId)`, `onReload(reason)` (a patch could not be
   * applied: the program keeps running its old code), `workerUrl`.
   */
  static async load(source, options = {}) {
    const p = new HotpatchProgram();
    p.module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    p.print = options.print ?? ((fd, line) => (fd === 2 ? console.error : console.log)(line));
    p.onReload = options.onReload ?? ((reason) => console.warn(`hotpatch: reload needed: ${reason}`));
    p.workerUrl = options.workerUrl ?? new URL('./worker.mjs', import.meta.url);
    p.buildId = buildId(p.module);
    p.memory = options.memory ?? HotpatchProgram.#memoryFor(p.module);
    p.main = await ProgramInstance.create(p.module, {
      memory: p.memory, print: (fd, line) => p.print(fd, line, 0),
    });
    p.memory = p.main.memory;
    p.main.exports._initialize?.(); // static constructors, once for all instances
    p.workers = new Map();
    p.nextWorkerId = 1; // 0 is the main thread's instance
    p.nextTaskId = 1;
    p.patches = []; // { module, memoryBase, tableBase } in the order applied
    p.broken = null; // why no more patches can be applied
    p.serial = Promise.resolve();
    return p;
  }

  static #memoryFor(module) {
    if (!WebAssembly.Module.imports(module).some((i) => i.kind === 'memory')) return null;
    const memory = readProgramManifest(module)?.memory;
    if (!memory)
      throw new Error('the program imports its memory but has no hotpatch.program section: link it with thinlink, or pass `memory`');
    return new WebAssembly.Memory(memory);
  }

  /** Runs one step at a time: patches and spawns never interleave. */
  #serialise(step) {
    const run = this.serial.then(step, step);
    this.serial = run.catch(() => {});
    return run;
  }

  /** Reserves `size` bytes aligned to 2^align at the end of memory. */
  #allocate(size, align = 4) {
    const pages = Math.ceil((size + (1 << align)) / PAGE) || 1;
    const start = this.memory.grow(pages) * PAGE;
    const mask = (1 << align) - 1;
    return (start + mask) & ~mask;
  }

  /** Calls an export in the main thread's instance (single-threaded programs). */
  call(callback, ...payload) {
    const fn = this.main.exports[callback];
    if (typeof fn !== 'function') throw new Error(`the program exports no function ${callback}`);
    return fn(...payload);
  }

  /** Spawns a worker; resolves to its WorkerId once it can take tasks. */
  spawn({ callback = null, payload = [] } = {}) {
    return this.#serialise(() => this.#spawn(callback, payload));
  }

  async #spawn(callback, payload) {
    if (!(this.memory?.buffer instanceof SharedArrayBuffer))
      throw new Error('the program\'s memory is not shared, so it cannot have workers: build with -matomics -mbulk-memory and link with --shared-memory --import-memory --max-memory=<bytes>');
    const id = this.nextWorkerId++;
    const port = await startWorker(this.workerUrl);
    const w = { id, port, state: WorkerState.Initializing, waiting: new Map() };
    this.workers.set(id, w);
    const ready = new Promise((resolve, reject) => w.waiting.set('init', { resolve, reject }));
    port.onMessage((m) => this.#receive(w, m));
    port.onError((e) => this.#fail(w, describe(e)));
    const tlsSize = this.main.exports.__tls_size?.value ?? 0;
    const tlsAlign = this.main.exports.__tls_align?.value ?? 1;
    port.post({
      type: 'init', module: this.module, memory: this.memory,
      stackTop: this.#allocate(STACK_SIZE, 4) + STACK_SIZE,
      tlsBase: tlsSize ? this.#allocate(tlsSize, Math.log2(tlsAlign)) : 0,
      patches: this.patches, callback, payload,
    });
    try {
      await ready;
    } catch (e) {
      this.#drop(w);
      throw e;
    }
    w.state = WorkerState.Normal;
    return id;
  }

  /** Runs `callback(...payload)` in a worker; resolves to what it returned. */
  task(workerId, callback, payload = []) {
    const w = this.workers.get(workerId);
    if (!w) return Promise.reject(new Error(`no worker ${workerId}`));
    const taskId = this.nextTaskId++;
    const done = new Promise((resolve, reject) => w.waiting.set(taskId, { resolve, reject }));
    w.port.post({ type: 'task', taskId, callback, payload });
    return done;
  }

  #settle(w, key, error, value) {
    const waiter = w.waiting.get(key);
    if (!waiter) {
      this.print(2, `hotpatch: worker ${w.id} answered ${String(key)}, which nobody asked`, w.id);
      return;
    }
    w.waiting.delete(key);
    if (error !== undefined) waiter.reject(new Error(`worker ${w.id}: ${error}`));
    else waiter.resolve(value);
  }

  #receive(w, m) {
    switch (m?.type) {
      case 'print': return this.print(m.fd, m.text, w.id);
      case 'ready': return this.#settle(w, 'init', undefined, m.value);
      case 'init-failed': return this.#settle(w, 'init', m.error);
      case 'result': return this.#settle(w, m.taskId, undefined, m.value);
      case 'task-failed': return this.#settle(w, m.taskId, m.error);
      case 'linked': return this.#settle(w, `link${m.seq}`, undefined, true);
      case 'link-failed': return this.#settle(w, `link${m.seq}`, m.error);
      case 'finalized': return this.#settle(w, 'finalize', undefined, true);
      // The worker could not understand a message: a bug of the caller,
      // reported; the worker and its tasks go on.
      case 'error': return this.print(2, `hotpatch: worker ${w.id}: ${m.error}`, w.id);
      default: return this.print(2, `hotpatch: worker ${w.id} sent an unknown message ${JSON.stringify(m?.type)}`, w.id);
    }
  }

  /** The worker died: whatever was asked of it fails, and it is no longer
   * one of the program's workers (a patch does not wait for it). */
  #fail(w, error) {
    w.state = WorkerState.Finalizing;
    this.print(2, `hotpatch: worker ${w.id}: ${error}`, w.id);
    for (const [, waiter] of w.waiting) waiter.reject(new Error(`worker ${w.id}: ${error}`));
    w.waiting.clear();
    this.#drop(w);
  }

  #drop(w) {
    this.workers.delete(w.id);
    Promise.resolve(w.port.terminate()).catch(() => {});
  }

  /**
   * Applies a patch (its bytes) to the main instance and every worker.
   * Resolves to { applied: true, functions } or, when refused, to
   * { applied: false, reason } after telling onReload: the program keeps
   * running the code it had.
   */
  applyPatch(bytes) {
    return this.#serialise(async () => {
      try {
        return await this.#apply(bytes);
      } catch (e) {
        const reason = describe(e);
        this.onReload(reason);
        return { applied: false, reason };
      }
    });
  }

  async #apply(bytes) {
    if (this.broken) throw new PatchRefused(`an earlier patch left the program's instances out of step (${this.broken}); reload`);
    // 1. Refuse before anything changes.
    let module;
    try {
      module = await WebAssembly.compile(bytes);
    } catch (e) {
      throw new PatchRefused(`corrupt patch: ${e.message}`);
    }
    const manifest = readManifest(module);
    if (manifest.base_build_id !== this.buildId)
      throw new PatchRefused(`the patch was built for another build of the program (build-id ${manifest.base_build_id}, this one is ${this.buildId}): reload the page to run the new build`);
    const dylink = readDylink(module);
    const shared = this.memory.buffer instanceof SharedArrayBuffer;
    if (manifest.shared_memory !== shared)
      throw new PatchRefused(`the patch was linked for a program ${manifest.shared_memory ? 'with' : 'without'} shared memory, this one has ${shared ? 'shared' : 'unshared'} memory: rebuild the patch against this program`);
    // 2. Its data and table places, the same for every instance.
    const memoryBase = dylink.memorySize ? this.#allocate(dylink.memorySize, dylink.memoryAlign) : 0;
    const tableBase = this.main.table.length;
    const record = { module, memoryBase, tableBase };
    // 3. The main instance first: it relocates the patch's data. A failure
    // after its table grew leaves the instances out of step for good.
    let entries;
    try {
      entries = await this.main.linkPatch(module, { memoryBase, tableBase, first: true });
    } catch (e) {
      if (this.main.table.length !== tableBase) this.broken = describe(e);
      throw e;
    }
    // The slots to publish must be in memory and name a function of the
    // table: checked before any worker links, not found half-way through
    // the stores.
    const bad = entries.find((e) => !Number.isInteger(e.slot) || e.slot % 4 !== 0 ||
      e.slot < 0 || e.slot + 4 > this.memory.buffer.byteLength ||
      !Number.isInteger(e.body) || e.body < 0 || e.body >= this.main.table.length);
    if (bad) {
      this.broken = `the patch's slot entry for ${bad.name} is outside the program (slot ${bad.slot}, function ${bad.body})`;
      throw new PatchRefused(`corrupt patch: ${this.broken}`);
    }
    // 4. Every worker, at its next task boundary.
    const seq = this.patches.length + 1;
    const acks = [...this.workers.values()].map((w) => {
      w.state = WorkerState.DynamicLinking;
      const acked = new Promise((resolve, reject) => w.waiting.set(`link${seq}`, { resolve, reject }));
      w.port.post({ type: 'link', seq, module, memoryBase, tableBase });
      return acked.finally(() => { w.state = WorkerState.Normal; });
    });
    const results = await Promise.allSettled(acks);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      this.broken = describe(failed.reason);
      throw new PatchRefused(`not applied: ${this.broken}`);
    }
    // 5. Publish: one atomic store per slot switches every instance.
    const slots = new Int32Array(this.memory.buffer);
    for (const e of entries) Atomics.store(slots, e.slot >>> 2, e.body);
    this.patches.push(record);
    return { applied: true, functions: entries.length, names: entries.map((e) => e.name) };
  }

  /** Stops every worker. */
  async terminate() {
    await this.serial;
    await Promise.all([...this.workers.values()].map(async (w) => {
      w.state = WorkerState.Finalizing;
      const done = new Promise((resolve, reject) => w.waiting.set('finalize', { resolve, reject }));
      w.port.post({ type: 'finalize' });
      await done.catch(() => {});
      await w.port.terminate();
    }));
    this.workers.clear();
  }
}

export { PatchRefused, isNode };
