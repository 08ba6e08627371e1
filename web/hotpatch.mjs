// The Hotpatch runtime for WebAssembly programs: import this module.
export { HotpatchProgram, WorkerState, PatchRefused } from './manager.mjs';
