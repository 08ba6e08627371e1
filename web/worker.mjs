// A worker of a hot-patchable program: one instance of the program over the
// shared memory, run by the manager's messages (manager.mjs lists them).
// Messages are handled one at a time, so a patch is linked between tasks:
// a worker cannot receive a message while the program runs.

import { parentPort } from './platform.mjs';
import { ProgramInstance } from './instance.mjs';

const port = await parentPort();
let program = null;

function describe(e) {
  return e?.reason ?? e?.message ?? String(e);
}

async function handle(m) {
  switch (m?.type) {
    case 'init': {
      try {
        program = await ProgramInstance.create(m.module, {
          memory: m.memory,
          print: (fd, text) => port.post({ type: 'print', fd, text }),
        });
        // Its own stack and thread-local block, placed by the manager.
        program.exports.__stack_pointer.value = m.stackTop;
        if (m.tlsBase) program.exports.__wasm_init_tls(m.tlsBase);
        // Every patch applied so far, before the first task.
        for (const p of m.patches)
          await program.linkPatch(p.module, { ...p, first: false });
        let value;
        if (m.callback) value = program.exports[m.callback](...(m.payload ?? []));
        port.post({ type: 'ready', value });
      } catch (e) {
        port.post({ type: 'init-failed', error: describe(e) });
      }
      return;
    }
    case 'task': {
      try {
        const fn = program?.exports[m.callback];
        if (typeof fn !== 'function') throw new Error(`the program exports no function ${m.callback}`);
        port.post({ type: 'result', taskId: m.taskId, value: fn(...(m.payload ?? [])) });
      } catch (e) {
        port.post({ type: 'task-failed', taskId: m.taskId, error: describe(e) });
      }
      return;
    }
    case 'link': {
      try {
        await program.linkPatch(m.module, { memoryBase: m.memoryBase, tableBase: m.tableBase, first: false });
        port.post({ type: 'linked', seq: m.seq });
      } catch (e) {
        port.post({ type: 'link-failed', seq: m.seq, error: describe(e) });
      }
      return;
    }
    case 'finalize':
      port.post({ type: 'finalized' });
      return;
    default:
      port.post({ type: 'error', error: `unknown message ${JSON.stringify(m?.type)}` });
  }
}

// One message at a time, in order, even across the awaits of linking.
let queue = Promise.resolve();
port.onMessage((m) => { queue = queue.then(() => handle(m)); });
