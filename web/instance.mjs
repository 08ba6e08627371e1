// One instance of the program (the main thread's or a worker's) and the
// patches linked into it: a small dynamic linker for side modules built by
// thinlink --patch (hotpatch/wasm_patch.h).
//
// Every instance of a program has its own table, globals and stack pointer;
// only the memory is shared. So every instance links every patch itself, in
// the same order, at the same table base: the table indices a patch's data
// holds (its slot entries, its function pointers) then mean the same
// function in every instance, and one store into a slot in shared memory
// switches them all.
//
// Symbols resolve "first definition wins": the program's exports, then each
// patch's in the order they were applied. That is what keeps state: a
// patch's GOT.mem import of a global the program has is the program's
// address, never the patch's copy.

import { PatchRefused, readDylink, readEntries } from './patch_format.mjs';
import { wasiImports } from './wasi.mjs';

// Imports a patch's module constructor names weakly; it is never run (see
// docs/design.md, "WebAssembly"), so these only have to exist.
const RUNTIME_FUNCTIONS = new Set(['hotpatch_register_table', 'hotpatch_register_thunks']);

export class ProgramInstance {
  /**
   * Instantiates `module` (a WebAssembly.Module of a thinlink-linked
   * program) over `memory` (imported programs) or its own memory.
   * `print(fd, line)` receives its output.
   */
  static async create(module, { memory = null, print, env = {} }) {
    const self = new ProgramInstance();
    const imports = { env: { ...env } };
    const needsMemory = WebAssembly.Module.imports(module).some(
      (i) => i.kind === 'memory');
    if (needsMemory) {
      if (!memory) throw new Error('the program imports its memory: pass `memory`');
      imports.env.memory = memory;
    }
    imports.wasi_snapshot_preview1 = wasiImports(module, () => self.memory, print);
    self.instance = await WebAssembly.instantiate(module, imports);
    self.exports = self.instance.exports;
    self.memory = needsMemory ? memory : self.exports.memory;
    self.table = self.exports.__indirect_function_table;
    if (!self.table)
      throw new Error('the program does not export __indirect_function_table: link it with thinlink');
    self.symbols = new Map(); // name -> { address } | { func }
    self.tableIndex = new Map(); // function -> table index
    self.#addSymbols(self.exports, 0);
    for (let i = 0; i < self.table.length; i++) {
      const f = self.table.get(i);
      if (f && !self.tableIndex.has(f)) self.tableIndex.set(f, i);
    }
    return self;
  }

  #addSymbols(exports, memoryBase) {
    for (const [name, value] of Object.entries(exports)) {
      if (this.symbols.has(name)) continue; // first definition wins
      if (typeof value === 'function') this.symbols.set(name, { func: value });
      else if (value instanceof WebAssembly.Global) {
        let v;
        try { v = value.value; } catch { continue; } // not an i32 address
        if (typeof v === 'number') this.symbols.set(name, { address: memoryBase + v });
      }
    }
  }

  #indexOf(func) {
    let index = this.tableIndex.get(func);
    if (index === undefined) {
      index = this.table.grow(1);
      this.table.set(index, func);
      this.tableIndex.set(func, index);
    }
    return index;
  }

  /**
   * Links a patch (a WebAssembly.Module) at `memoryBase` and `tableBase`.
   * `first`: this is the first instance to link it, which applies the
   * patch's data relocations (its data is in shared memory: once is all).
   * Returns the patch's slot entries (read after the relocations).
   */
  async linkPatch(module, { memoryBase, tableBase, first }) {
    if (this.table.length !== tableBase)
      throw new PatchRefused(`this instance's table has ${this.table.length} entries where the patch expects ${tableBase}: the instances no longer agree, reload`);
    const dylink = readDylink(module);
    const env = {
      memory: this.memory,
      __memory_base: new WebAssembly.Global({ value: 'i32', mutable: false }, memoryBase),
      __table_base: new WebAssembly.Global({ value: 'i32', mutable: false }, tableBase),
      __indirect_function_table: this.table,
      __stack_pointer: this.exports.__stack_pointer,
    };
    // Resolve every import before anything changes: a patch refused here
    // leaves the instance as it was.
    const got = { 'GOT.mem': {}, 'GOT.func': {} };
    const late = []; // GOT entries for what the patch itself defines
    const needIndex = []; // GOT.func entries of the program's functions
    for (const { module: m, name, kind } of WebAssembly.Module.imports(module)) {
      if (m === 'env' && name in env) continue;
      const symbol = this.symbols.get(name);
      if (m === 'env' && kind === 'function') {
        if (symbol?.func) env[name] = symbol.func;
        else if (RUNTIME_FUNCTIONS.has(name)) env[name] = () => {};
        else throw new PatchRefused(`the patch calls ${name}, which the program does not export`);
      } else if (m === 'GOT.mem' || m === 'GOT.func') {
        const g = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
        got[m][name] = g;
        if (m === 'GOT.mem' && symbol?.address !== undefined) g.value = symbol.address;
        else if (m === 'GOT.func' && symbol?.func) needIndex.push({ g, func: symbol.func });
        else if (!RUNTIME_FUNCTIONS.has(name)) late.push({ m, name, g });
      } else {
        throw new PatchRefused(`the patch imports ${m}.${name}, which the runtime does not provide`);
      }
    }
    // The table, the same way in every instance: the patch's own functions
    // at [tableBase, tableBase + tableSize), then the functions it takes the
    // address of that had no index yet, in import order.
    if (dylink.tableSize) this.table.grow(dylink.tableSize);
    for (const { g, func } of needIndex) g.value = this.#indexOf(func);
    const instance = await WebAssembly.instantiate(module, { env, ...got });
    const exports = instance.exports;
    for (const { m, name, g } of late) {
      const value = exports[name];
      if (m === 'GOT.mem' && value instanceof WebAssembly.Global) g.value = memoryBase + value.value;
      else if (m === 'GOT.func' && typeof value === 'function') g.value = this.#indexOf(value);
      else throw new PatchRefused(`the patch needs ${m}.${name}, which neither the program nor the patch defines`);
    }
    if (first) exports.__wasm_apply_data_relocs?.();
    this.#addSymbols(exports, memoryBase);
    const start = exports.__start_hotpatch_table, stop = exports.__stop_hotpatch_table;
    if (!start || !stop) throw new PatchRefused('the patch has no slot table: was it built with thinlink --patch?');
    return readEntries(this.memory, memoryBase + start.value, memoryBase + stop.value);
  }
}
