// The page: loads the program, runs its 4 workers one frame at a time, puts
// the pixel buffer on the canvas, and applies the patches hotpatch dev
// sends. window.particles says what happened (frames, patches), for tests.
import { HotpatchProgram } from '/_hotpatch/web/hotpatch.mjs';
import { connectDevServer } from '/_hotpatch/web/dev-client.mjs';

const WORKERS = 4, WIDTH = 256, HEIGHT = 256;
const status = document.getElementById('status');
const ctx = document.getElementById('canvas').getContext('2d');
const state = (window.particles = { loadId: Math.random(), frame: 0, events: [] });

const program = await HotpatchProgram.load(await (await fetch('/_hotpatch/program.wasm')).arrayBuffer(), {
  onReload: (reason) => { state.events.push(`reload: ${reason}`); location.reload(); },
});
program.call('setup');
const workers = [];
for (let i = 0; i < WORKERS; i++) workers.push(await program.spawn());

connectDevServer(program, {
  onEvent: (name, detail) => {
    state.events.push(name);
    if (name === 'Patched') status.textContent = `patched ${detail.result.names.join(', ')} in ${detail.apply_ms.toFixed(1)} ms`;
    else status.textContent = name;
  },
});

const image = ctx.createImageData(WIDTH, HEIGHT);
async function frame() {
  await Promise.all(workers.map((id, i) => program.task(id, 'step', [i, WORKERS])));
  const at = program.call('pixel_buffer');
  const pixels = new Uint8Array(program.memory.buffer, at, WIDTH * HEIGHT * 4);
  image.data.set(pixels);
  pixels.fill(0);
  ctx.putImageData(image, 0, 0);
  state.frame = program.call('next_frame');
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
