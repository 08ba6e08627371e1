// What a WebAssembly patch and program carry for the runtime, read with
// WebAssembly.Module.customSections. Mirrors runtime/include/hotpatch/
// wasm_patch.h and slot_table.h (wasm32): change them together.

export const PATCH_SECTION = 'hotpatch.patch';
export const PROGRAM_SECTION = 'hotpatch.program';
export const PATCH_FORMAT = 1;
export const SLOT_TABLE_VERSION = 1;
// struct hotpatch_slot_entry on wasm32: version, flags, name, slot, body,
// symbol, unit; seven 4-byte fields.
export const ENTRY_SIZE = 28;

/** A patch the runtime will not apply; `reason` says why, for the user. */
export class PatchRefused extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'PatchRefused';
    this.reason = reason;
  }
}

function uleb(bytes, pos) {
  let result = 0, shift = 0, b;
  do {
    if (pos.at >= bytes.length) throw new PatchRefused('corrupt patch: a section ends early');
    b = bytes[pos.at++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return result;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The program's build-id (wasm-ld --build-id), hex, or null. */
export function buildId(module) {
  const [section] = WebAssembly.Module.customSections(module, 'build_id');
  if (!section) return null;
  const bytes = new Uint8Array(section);
  const pos = { at: 0 };
  const length = uleb(bytes, pos);
  return hex(bytes.subarray(pos.at, pos.at + length));
}

/** The program's manifest (wasm_patch.h), or null for a program thinlink did not link. */
export function readProgramManifest(module) {
  const [section] = WebAssembly.Module.customSections(module, PROGRAM_SECTION);
  return section ? JSON.parse(new TextDecoder().decode(section)) : null;
}

/** The patch's manifest (wasm_patch.h); refuses a patch without one. */
export function readManifest(module) {
  const [section] = WebAssembly.Module.customSections(module, PATCH_SECTION);
  if (!section)
    throw new PatchRefused(`not a hotpatch patch: no ${PATCH_SECTION} section (build patches with thinlink --patch)`);
  let manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(section));
  } catch (e) {
    throw new PatchRefused(`corrupt patch: its ${PATCH_SECTION} section is not JSON (${e.message})`);
  }
  if (manifest.format !== PATCH_FORMAT)
    throw new PatchRefused(`patch format ${manifest.format}, this runtime reads format ${PATCH_FORMAT}: rebuild the patch with the thinlink of this runtime`);
  return manifest;
}

/**
 * The dylink.0 section's memory and table needs: what the tool conventions
 * (WebAssembly/tool-conventions, DynamicLinking.md) call WASM_DYLINK_MEM_INFO.
 * No JavaScript API reads it, so this is the one hand-read structure.
 */
export function readDylink(module) {
  const [section] = WebAssembly.Module.customSections(module, 'dylink.0');
  if (!section) throw new PatchRefused('not a side module: no dylink.0 section (build patches with thinlink --patch)');
  const bytes = new Uint8Array(section);
  const pos = { at: 0 };
  const info = { memorySize: 0, memoryAlign: 0, tableSize: 0, tableAlign: 0 };
  while (pos.at < bytes.length) {
    const type = bytes[pos.at++];
    const size = uleb(bytes, pos);
    const end = pos.at + size;
    if (type === 1 /* WASM_DYLINK_MEM_INFO */) {
      info.memorySize = uleb(bytes, pos);
      info.memoryAlign = uleb(bytes, pos);
      info.tableSize = uleb(bytes, pos);
      info.tableAlign = uleb(bytes, pos);
    } else if (type === 2 /* WASM_DYLINK_NEEDED */ && size > 1) {
      throw new PatchRefused('the patch needs other side modules, which the runtime does not load');
    }
    pos.at = end;
  }
  return info;
}

/** Reads the slot entries in [start, stop) of memory (see slot_table.h). */
export function readEntries(memory, start, stop) {
  const view = new DataView(memory.buffer);
  if (stop < start || (stop - start) % ENTRY_SIZE !== 0 || stop > view.byteLength)
    throw new PatchRefused(`corrupt patch: its slot table [${start}, ${stop}) is not a whole number of ${ENTRY_SIZE}-byte entries in memory`);
  const entries = [];
  for (let at = start; at + ENTRY_SIZE <= stop; at += ENTRY_SIZE) {
    const version = view.getUint32(at, true);
    if (version !== SLOT_TABLE_VERSION)
      throw new PatchRefused(`slot table version ${version} at ${at}, expected ${SLOT_TABLE_VERSION}: the patch was built with another plugin`);
    entries.push({
      flags: view.getUint32(at + 4, true),
      name: readCString(memory, view.getUint32(at + 8, true)),
      slot: view.getUint32(at + 12, true),
      body: view.getUint32(at + 16, true),
    });
  }
  return entries;
}

export function readCString(memory, address) {
  const bytes = new Uint8Array(memory.buffer);
  let end = address;
  while (end < bytes.length && bytes[end] !== 0) end++;
  // TextDecoder refuses views of a SharedArrayBuffer: copy.
  return new TextDecoder().decode(bytes.slice(address, end));
}
