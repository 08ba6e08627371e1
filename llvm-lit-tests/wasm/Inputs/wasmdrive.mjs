// Drives a hot-patchable WebAssembly program through the runtime in web/,
// in Node, step by step, and prints what the program did, for FileCheck.
//
//   node wasmdrive.mjs <runtime dir> <program.wasm> <step>...
//
// The program exports `int work(int id)`, returning count * 100000 + shade,
// where count is how many tasks executor `id` ran (state in the program's
// memory) and shade what the hot function under test returned.
//
// Steps:
//   workers:N   spawn N workers (0: tasks run on the main thread's instance)
//   rounds:N    every executor runs N tasks; prints each one's last result
//   patch:FILE  applies FILE while every executor keeps running tasks, then
//               prints, per executor, the shades of the tasks sent before
//               the patch was asked for and of those sent after it was
//               applied (the worst bug is an "applied" with old shades after)
//   spawn       one more worker
// Any count that does not follow the previous one prints STATE LOST.

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join, basename } from 'node:path';

const [runtimeDir, programPath, ...steps] = process.argv.slice(2);
const { HotpatchProgram } = await import(pathToFileURL(join(runtimeDir, 'hotpatch.mjs')));

const program = await HotpatchProgram.load(readFileSync(programPath), {
  print: (fd, line, id) => console.log(`[${id}] ${line}`),
  onReload: (reason) => console.log(`reload asked: ${reason}`),
});

const executors = []; // { id, run: () => Promise<number>, count }
function decode(v) {
  return { count: Math.floor(v / 100000), shade: v % 100000 };
}
async function runOne(e) {
  const { count, shade } = decode(await e.run());
  if (count !== e.count + 1) console.log(`w${e.id}: STATE LOST: count ${count} after ${e.count}`);
  e.count = count;
  return shade;
}
async function addWorker() {
  const id = await program.spawn();
  executors.push({ id, count: 0, run: () => program.task(id, 'work', [id]) });
  return id;
}

for (const step of steps) {
  const [verb, arg] = step.split(':');
  if (verb === 'workers') {
    const n = Number(arg);
    if (n === 0)
      executors.push({ id: 0, count: 0,
        run: () => new Promise((r) => setTimeout(() => r(program.call('work', 0)), 0)) });
    for (let i = 0; i < n; i++) await addWorker();
    console.log(`executors: ${executors.map((e) => e.id).join(' ')}`);
  } else if (verb === 'spawn') {
    const id = await addWorker();
    const shade = await runOne(executors.at(-1));
    console.log(`spawned w${id}: first task shade=${shade}`);
  } else if (verb === 'rounds') {
    await Promise.all(executors.map(async (e) => {
      let shade;
      for (let i = 0; i < Number(arg); i++) shade = await runOne(e);
      e.last = shade;
    }));
    for (const e of executors) console.log(`w${e.id}: count=${e.count} shade=${e.last}`);
  } else if (verb === 'patch') {
    // Every executor keeps sending tasks while the patch is applied.
    let phase = 'before';
    const seen = new Map(executors.map((e) => [e, { before: new Set(), during: new Set(), after: new Set() }]));
    let stop = false;
    const loops = executors.map(async (e) => {
      let afterTasks = 0;
      while (!stop || afterTasks < 3) {
        const sentIn = phase;
        const shade = await runOne(e);
        seen.get(e)[sentIn].add(shade);
        if (sentIn === 'after') afterTasks++;
      }
    });
    await new Promise((r) => setTimeout(r, 30));
    phase = 'during';
    const result = await program.applyPatch(readFileSync(arg));
    phase = 'after';
    stop = true;
    await Promise.all(loops);
    console.log(result.applied
      ? `patch ${basename(arg)}: applied, ${result.functions} functions`
      : `patch ${basename(arg)}: refused: ${result.reason}`);
    for (const e of executors) {
      const s = seen.get(e);
      console.log(`w${e.id}: before=${[...s.before].join(',')} after=${[...s.after].join(',')} count=${e.count}`);
    }
  } else {
    throw new Error(`unknown step ${step}`);
  }
}
await program.terminate();
