// The page's side of hotpatch dev for the web (dev-server.mjs): listens to
// the server's events and applies each patch to the running program.
//
//   import { HotpatchProgram } from '/_hotpatch/web/hotpatch.mjs';
//   import { connectDevServer } from '/_hotpatch/web/dev-client.mjs';
//   const program = await HotpatchProgram.load(..., { onReload: () => location.reload() });
//   connectDevServer(program, { onEvent: (name, detail) => ... });
//
// A patch the runtime refuses (another build, say) makes the program's
// onReload run; FullReloadCommand reloads the page.

export function connectDevServer(program, { onEvent = () => {}, url = '/_hotpatch/events' } = {}) {
  const events = new EventSource(url);
  events.onmessage = async (e) => {
    const msg = JSON.parse(e.data);
    const name = typeof msg === 'string' ? msg : Object.keys(msg)[0];
    const body = typeof msg === 'string' ? null : msg[name];
    if (name === 'HotReload' && body?.jump_table) {
      const t0 = performance.now();
      const bytes = await (await fetch(body.jump_table.lib)).arrayBuffer();
      const result = await program.applyPatch(bytes);
      onEvent(result.applied ? 'Patched' : 'Refused', { ...body, result, apply_ms: performance.now() - t0 });
      return;
    }
    onEvent(name, body);
    if (name === 'FullReloadCommand') location.reload();
    if (name === 'Shutdown') events.close();
  };
  return events;
}
