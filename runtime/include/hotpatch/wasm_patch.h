/* hotpatch/wasm_patch.h - the WebAssembly patch contract.
 *
 * The one definition of what `thinlink --patch` writes into a WebAssembly
 * patch and what the JavaScript runtime (web/) reads back. The runtime is
 * JavaScript, so it mirrors these values in web/patch_format.mjs; change
 * both together with HOTPATCH_WASM_PATCH_VERSION.
 *
 * A WebAssembly patch is a position-independent side module (wasm-ld
 * -shared --experimental-pic, with a `dylink.0` section) holding the code
 * and data of the rebuilt objects. It imports:
 *
 *   env.memory                   the program's memory (shared if the
 *                                program's is);
 *   env.__memory_base            where its data was placed (pages the
 *                                runtime adds to the memory with
 *                                memory.grow, outside the program's heap);
 *   env.__table_base             the first table index of its functions:
 *                                the table's length before the patch, the
 *                                same in every instance of the program;
 *   env.__indirect_function_table, env.__stack_pointer  the instance's own;
 *   env.<function>               a function of the program (its export);
 *   GOT.mem.<symbol>             the address of a global of the program
 *                                (first definition wins: the program's,
 *                                then earlier patches', then this patch's);
 *   GOT.func.<function>          the table index of a function, same rule;
 *   env.hotpatch_register_table, env.hotpatch_register_thunks and their
 *   GOT.func entries             named weakly by the patch's module
 *                                constructor, which the runtime never runs:
 *                                it gives placeholders.
 *
 * It exports __start_hotpatch_table and __stop_hotpatch_table (offsets from
 * __memory_base): its struct hotpatch_slot_entry array (slot_table.h; 28
 * bytes each on wasm32). After __wasm_apply_data_relocs each entry's `slot`
 * is the program's slot when the function existed before (found through
 * GOT.mem), and `body` is the new body's table index.
 *
 * After the last section, thinlink appends a custom section named
 * HOTPATCH_WASM_PATCH_SECTION whose payload is UTF-8 JSON:
 *
 *   { "format": HOTPATCH_WASM_PATCH_VERSION,
 *     "base_build_id": "<hex of the program's build_id section>",
 *     "shared_memory": true|false,
 *     "units": ["<absolute path of each rebuilt object>", ...] }
 *   (units names what the patch was linked from, for people and tools; the
 *   runtime does not read it)
 *
 * The runtime refuses a patch without it, of another format, or for another
 * build-id.
 *
 * The program (thinlink's fat link) gets a custom section named
 * HOTPATCH_WASM_PROGRAM_SECTION, UTF-8 JSON too:
 *
 *   { "format": HOTPATCH_WASM_PATCH_VERSION,
 *     "memory": { "initial": <pages>, "maximum": <pages>, "shared": true } }
 *
 * "memory" is there when the program imports its memory: the runtime creates
 * that memory with these limits (JavaScript cannot read a module's import
 * limits).
 */
#ifndef HOTPATCH_WASM_PATCH_H
#define HOTPATCH_WASM_PATCH_H

#define HOTPATCH_WASM_PATCH_VERSION 1
#define HOTPATCH_WASM_PATCH_SECTION "hotpatch.patch"
#define HOTPATCH_WASM_PROGRAM_SECTION "hotpatch.program"

#endif /* HOTPATCH_WASM_PATCH_H */
