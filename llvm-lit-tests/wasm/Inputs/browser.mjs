// Runs a hot-patchable program in Debian's headless Chromium: serves the
// runtime (web/), a page, the program and a patch over HTTP on localhost
// (cross-origin isolated, as shared memory needs), drives the browser with
// puppeteer-core and prints what the page wrote.
//
//   node browser.mjs <web dir> <program.wasm> <patch.wasm> <workers>
//
// The page spawns the workers, runs tasks on each, applies the patch while
// they keep running, runs more and writes, per worker, the shades seen
// before and after, as wasmdrive.mjs does in Node.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const [webDir, programPath, patchPath, workers] = process.argv.slice(2);
const require = createRequire(join(resolve(webDir), 'test', 'package.json'));
let puppeteer;
try {
  puppeteer = require('puppeteer-core');
} catch {
  console.log('error: puppeteer-core is not installed in web/test: run bash scripts/setup.sh (npm ci)');
  process.exit(1);
}

const page = `<!doctype html><meta charset="utf-8"><pre id="out"></pre>
<script type="module">
import { HotpatchProgram } from '/web/hotpatch.mjs';
const out = document.getElementById('out');
const say = (line) => { out.textContent += line + '\\n'; };
try {
  say('isolated ' + crossOriginIsolated);
  const bytes = async (url) => (await fetch(url)).arrayBuffer();
  const program = await HotpatchProgram.load(await bytes('/program.wasm'), {
    print: (fd, line, id) => say('[' + id + '] ' + line),
    onReload: (reason) => say('reload asked: ' + reason),
  });
  const ids = [];
  for (let i = 0; i < ${Number(workers)}; i++) ids.push(await program.spawn());
  say('workers ' + ids.join(' '));
  const seen = new Map(ids.map((id) => [id, { before: new Set(), after: new Set(), count: 0, lost: false }]));
  let phase = 'before', stop = false;
  const loops = ids.map(async (id) => {
    const s = seen.get(id);
    let after = 0;
    while (!stop || after < 3) {
      const sentIn = phase;
      const v = await program.task(id, 'work', [id]);
      const count = Math.floor(v / 100000), shade = v % 100000;
      if (count !== s.count + 1) s.lost = true;
      s.count = count;
      if (sentIn !== 'during') s[sentIn].add(shade);
      if (sentIn === 'after') after++;
    }
  });
  await new Promise((r) => setTimeout(r, 200));
  phase = 'during';
  const patch = await bytes('/patch.wasm');
  const t0 = performance.now();
  const result = await program.applyPatch(patch);
  const ms = performance.now() - t0;
  phase = 'after';
  stop = true;
  await Promise.all(loops);
  say(result.applied ? 'patch applied, ' + result.functions + ' functions' : 'patch refused: ' + result.reason);
  say('apply took ' + ms.toFixed(1) + ' ms');
  for (const id of ids) {
    const s = seen.get(id);
    say('w' + id + ': before=' + [...s.before].join(',') + ' after=' + [...s.after].join(',') + (s.lost ? ' STATE LOST' : ' state kept'));
  }
  await program.terminate();
} catch (e) {
  say('error: ' + (e.stack || e));
}
document.title = 'done';
</script>`;

const types = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const server = createServer(async (req, res) => {
  const headers = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cache-Control': 'no-store',
  };
  try {
    const url = new URL(req.url, 'http://localhost');
    let body, type;
    if (url.pathname === '/') [body, type] = [page, types['.html']];
    else if (url.pathname === '/program.wasm') [body, type] = [await readFile(programPath), types['.wasm']];
    else if (url.pathname === '/patch.wasm') [body, type] = [await readFile(patchPath), types['.wasm']];
    else if (/^\/web\/[a-z_]+\.mjs$/.test(url.pathname)) {
      body = await readFile(join(webDir, url.pathname.slice('/web/'.length)));
      type = types['.mjs'];
    } else {
      res.writeHead(404, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': type }).end(body);
  } catch (e) {
    res.writeHead(500, headers).end(String(e));
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await puppeteer.launch({
  executablePath: process.env.HOTPATCH_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  // As root (CI), Chromium's sandbox cannot start.
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const tab = await browser.newPage();
  tab.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await tab.goto(url);
  await tab.waitForFunction(() => document.title === 'done', { timeout: 60000 });
  console.log(await tab.$eval('#out', (e) => e.textContent));
} finally {
  await browser.close();
  server.close();
}
