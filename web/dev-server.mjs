#!/usr/bin/env node
// hotpatch dev for the web: serves a page, its WebAssembly program, the
// runtime and patches over HTTP on localhost, watches the program's sources,
// and on a save recompiles the file with its command from
// compile_commands.json, links a patch with thinlink --patch and tells the
// page over Server-Sent Events, with the messages of Subsecond's devtools
// protocol (JSON, serde's externally tagged form):
//
//   "HotPatchStart"                 a changed file is being compiled
//   {"HotReload": {"jump_table": {"lib": "/_hotpatch/patch/3.wasm",
//                  "units": [...]}, "ms": {...}}}   a patch to apply
//   "FullReloadStart"               thinlink refused the edit: rebuilding
//   "FullReloadFailed"              the rebuild failed (its output is here)
//   "FullReloadCommand"             the program was rebuilt: reload the page
//   "Shutdown"                      the server is stopping
//
//   node web/dev-server.mjs --build <dir with compile_commands.json>
//     --program <program.wasm> --thinlink <thinlink> --root <page dir>
//     [--rebuild "<command>"] [--port <n>]
//
// The page imports /_hotpatch/web/dev-client.mjs (see there). Everything is
// served cross-origin isolated, which shared memory needs.

import { createServer } from 'node:http';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, watch, existsSync } from 'node:fs';
import { readFile, mkdtemp } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const o = { port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!['build', 'program', 'thinlink', 'root', 'rebuild', 'port'].includes(key) || i + 1 >= argv.length) {
      console.error(`hotpatch dev-server: unknown option ${argv[i]}`);
      console.error('usage: node web/dev-server.mjs --build <dir> --program <program.wasm> --thinlink <thinlink> --root <page dir> [--rebuild "<command>"] [--port <n>]');
      process.exit(2);
    }
    o[key] = argv[++i];
  }
  for (const k of ['build', 'program', 'thinlink', 'root']) {
    if (!o[k]) {
      console.error(`hotpatch dev-server: --${k} is required`);
      process.exit(2);
    }
    o[k] = resolve(o[k]); // commands run in other directories
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const log = (line) => console.log(`[hotpatch] ${line}`);

// compile_commands.json: source file -> { directory, command or arguments, output }
function readCompileCommands() {
  const path = join(opts.build, 'compile_commands.json');
  const entries = JSON.parse(readFileSync(path, 'utf8'));
  const byFile = new Map();
  for (const e of entries) {
    const file = resolve(e.directory, e.file);
    const args = e.arguments;
    let output = e.output;
    if (!output && args) output = args[args.indexOf('-o') + 1];
    if (!output && e.command) output = e.command.match(/\s-o\s+(\S+)/)?.[1];
    if (!output) throw new Error(`${path}: no -o for ${file}`);
    byFile.set(file, { ...e, file, output: resolve(e.directory, output) });
  }
  return byFile;
}

function run(cmd, args, cwd) {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      done({ ok: !error, output: (stdout + stderr).trim() || error?.message || '' }));
  });
}

function compile(entry) {
  return entry.arguments
    ? run(entry.arguments[0], entry.arguments.slice(1), entry.directory)
    : run('/bin/sh', ['-c', entry.command], entry.directory);
}

// Server-Sent Events to every open page.
const clients = new Set();
function send(msg) {
  const data = `data: ${JSON.stringify(msg)}\n\n`;
  for (const res of clients) res.write(data);
}

const patchDir = await mkdtemp(join(tmpdir(), 'hotpatch-web-'));
const patches = [];
const types = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json' };
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cache-Control': 'no-store',
};

async function serveFile(res, path) {
  try {
    const body = await readFile(path);
    res.writeHead(200, { ...isolation, 'Content-Type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404, isolation).end('not found');
  }
}

const server = createServer((req, res) => {
  let path;
  try {
    path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
  } catch {
    res.writeHead(400, isolation).end('bad request');
    return;
  }
  if (path === '/_hotpatch/events') {
    res.writeHead(200, { ...isolation, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    res.write(': hotpatch\n\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
    return;
  }
  if (path === '/_hotpatch/program.wasm') return serveFile(res, opts.program);
  let m;
  if ((m = path.match(/^\/_hotpatch\/patch\/(\d+)\.wasm$/)) && patches[Number(m[1])])
    return serveFile(res, patches[Number(m[1])]);
  if ((m = path.match(/^\/_hotpatch\/web\/([a-z_-]+\.mjs)$/))) return serveFile(res, join(WEB, m[1]));
  if (path.includes('..')) return res.writeHead(400, isolation).end();
  return serveFile(res, join(opts.root, path === '/' ? 'index.html' : path));
});

// One change at a time; saves during a build are taken after it.
let busy = Promise.resolve();
const hashes = new Map();
let commands = readCompileCommands();

async function onChange(file, savedAt) {
  const entry = commands.get(file);
  const text = readFileSync(file);
  const hash = createHash('sha1').update(text).digest('hex');
  if (hashes.get(file) === hash) return; // touched, not changed
  hashes.set(file, hash);
  send('HotPatchStart');
  const t0 = Date.now();
  const c = await compile(entry);
  const t1 = Date.now();
  if (!c.ok) {
    log(`compile error in ${file}; the program keeps running its current code:\n${c.output}`);
    return;
  }
  const out = join(patchDir, `${patches.length}.wasm`);
  const l = await run(opts.thinlink, ['--patch', '--base', opts.program, '-o', out, entry.output], opts.build);
  const t2 = Date.now();
  if (!l.ok) {
    log(`not patchable: ${l.output}`);
    return fullReload();
  }
  const n = patches.push(out) - 1;
  log(`patch ${n} for ${file}: compile ${t1 - t0} ms, thin link ${t2 - t1} ms`);
  send({ HotReload: { jump_table: { lib: `/_hotpatch/patch/${n}.wasm`, units: [file] },
    ms: { since_save: Date.now() - savedAt, compile: t1 - t0, thin_link: t2 - t1 } } });
}

async function fullReload() {
  send('FullReloadStart');
  if (!opts.rebuild) {
    log('no --rebuild command: rebuild the program yourself, then reload the page');
    return send('FullReloadFailed');
  }
  const r = await run('/bin/sh', ['-c', opts.rebuild], opts.build);
  if (!r.ok) {
    log(`rebuild failed:\n${r.output}`);
    return send('FullReloadFailed');
  }
  commands = readCompileCommands();
  patches.length = 0;
  for (const file of commands.keys()) hashes.set(file, createHash('sha1').update(readFileSync(file)).digest('hex'));
  log('rebuilt: reloading the page');
  send('FullReloadCommand');
}

// Watch the directories of the sources (editors replace files on save).
for (const file of commands.keys()) hashes.set(file, createHash('sha1').update(readFileSync(file)).digest('hex'));
const timers = new Map();
for (const dir of new Set([...commands.keys()].map(dirname))) {
  watch(dir, (event, name) => {
    const file = join(dir, name ?? '');
    if (!commands.has(file) || !existsSync(file)) return;
    const savedAt = Date.now();
    clearTimeout(timers.get(file));
    // Several quick saves are one change.
    timers.set(file, setTimeout(() => { busy = busy.then(() => onChange(file, savedAt)).catch((e) => log(`error: ${e.message}`)); }, 30));
  });
}

server.listen(Number(opts.port), '127.0.0.1', () => {
  log(`serving http://127.0.0.1:${server.address().port}/ (${opts.root}), watching ${commands.size} files`);
});

function shutdown() {
  send('Shutdown');
  for (const res of clients) res.end();
  server.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
