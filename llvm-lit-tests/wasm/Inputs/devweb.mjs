// Drives hotpatch dev for the web end to end: starts web/dev-server.mjs on a
// copy of examples/web-particles, opens the page in headless Chromium, edits
// shade() in the copy's source, and prints what the canvas showed and how
// long after the save it changed.
//
//   node devweb.mjs <web dir> <thinlink> <example copy> <its build dir> [<hotpatch>]
//
// With <hotpatch>, the server is started as users start it,
// `hotpatch dev --web`; without, as `node web/dev-server.mjs`.

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const [webDir, thinlink, example, build, hotpatch] = process.argv.slice(2);
const require = createRequire(join(resolve(webDir), 'test', 'package.json'));
const puppeteer = require('puppeteer-core');

const server = hotpatch
  ? spawn(hotpatch, ['dev', '--web', '-p', build, '--root', example, '--port', '0', '--',
    join(build, 'particles.wasm')], { stdio: ['ignore', 'pipe', 'inherit'] })
  : spawn(process.execPath, [join(webDir, 'dev-server.mjs'), '--build', build,
    '--program', join(build, 'particles.wasm'), '--thinlink', thinlink, '--root', example,
    '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const serverLog = [];
const url = await new Promise((resolveUrl, reject) => {
  server.stdout.on('data', (chunk) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      serverLog.push(line);
      const m = line.match(/serving (http:\S+)/);
      if (m) resolveUrl(m[1]);
    }
  });
  server.on('exit', (code) => reject(new Error(`dev server exited with ${code}`)));
});

const browser = await puppeteer.launch({
  executablePath: process.env.HOTPATCH_CHROMIUM ?? '/usr/bin/chromium',
  headless: true, args: ['--no-sandbox', '--disable-gpu'],
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.particles?.frame > 20, { timeout: 30000 });
  // Which colour the lit pixels are: red (the original shade) or green.
  const colours = () => page.evaluate(() => {
    const d = document.getElementById('canvas').getContext('2d').getImageData(0, 0, 256, 256).data;
    let red = 0, green = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] > 150 && d[i + 1] < 100) red++;
      if (d[i + 1] > 150 && d[i] < 100) green++;
    }
    return { red, green };
  });
  const before = await colours();
  const first = await page.evaluate(() => ({ ...window.particles, events: [...window.particles.events] }));
  console.log(`before: ${before.red > 1000 && before.green === 0 ? 'red' : JSON.stringify(before)}`);

  const source = join(example, 'particles.cpp');
  writeFileSync(source, readFileSync(source, 'utf8').replace('0xff2020e0u', '0xff20e020u'));
  const saved = Date.now();
  let after;
  while (Date.now() - saved < 20000) {
    after = await colours();
    if (after.green > 1000 && after.red === 0) break;
    await sleep(10);
  }
  const changedAfter = Date.now() - saved;
  const now = await page.evaluate(() => ({ ...window.particles, events: [...window.particles.events] }));
  console.log(`after: ${after.green > 1000 && after.red === 0 ? 'green' : JSON.stringify(after)}`);
  console.log(`canvas changed ${changedAfter} ms after the save`);
  console.log(`page reloaded: ${now.loadId !== first.loadId}`);
  console.log(`frames went on: ${now.frame > first.frame}`);
  console.log(`events: ${now.events.join(' ')}`);
  server.kill('SIGINT');
  await page.waitForFunction(() => window.particles.events.includes('Shutdown'), { timeout: 10000 });
  console.log('page saw Shutdown');
  for (const line of serverLog) if (process.env.DEVWEB_DEBUG || /patch \d+ for/.test(line)) console.log(`server: ${line.replace(/\d+ ms/g, 'N ms')}`);
} finally {
  await browser.close();
  server.kill();
}
