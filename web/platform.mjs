// Workers and their message ports, the same for Node 20 (worker_threads) and
// browsers (Web Workers): the only code that knows which one it runs in.

export const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Starts a module worker; returns { post, onMessage, onError, terminate }. */
export async function startWorker(url) {
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(url);
    return {
      post: (m) => w.postMessage(m),
      onMessage: (f) => w.on('message', f),
      onError: (f) => w.on('error', f),
      terminate: () => w.terminate(),
    };
  }
  const w = new Worker(url, { type: 'module' });
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => w.addEventListener('message', (e) => f(e.data)),
    onError: (f) => w.addEventListener('error', (e) => f(e.error ?? new Error(e.message))),
    terminate: () => w.terminate(),
  };
}

/** Inside a worker: the port to the thread that started it. */
export async function parentPort() {
  if (isNode) {
    const { parentPort: port } = await import('node:worker_threads');
    return { post: (m) => port.postMessage(m), onMessage: (f) => port.on('message', f) };
  }
  return {
    post: (m) => self.postMessage(m),
    onMessage: (f) => self.addEventListener('message', (e) => f(e.data)),
  };
}
