/* hotpatch/object_records.h - what the plugin records in each object.
 *
 * The contract between hotpatch.so (the writer) and thinlink (the reader).
 * Both records are sections that are never loaded into the program:
 *
 *  - HOTPATCH_LAYOUTS_SECTION: the layout of every record type the file
 *    defines, compared by the thin link to refuse layout changes;
 *  - a section named HOTPATCH_BUILD_RECORD_PREFIX "<version>.<opt>.<which>.<mode>"
 *    ("v1.O2.all.both"), empty: how the object was built. The thin link
 *    refuses a rebuilt object whose record differs from (or, built without
 *    the plugin, lacks) the record of the object the program was linked
 *    from, naming both, because code built another way differs in more than
 *    the edit (inlining, exception tables, thread-local access, which
 *    functions are hot).
 */
#ifndef HOTPATCH_OBJECT_RECORDS_H
#define HOTPATCH_OBJECT_RECORDS_H

#define HOTPATCH_LAYOUTS_SECTION ".hotpatch.layouts"
#define HOTPATCH_BUILD_RECORD_PREFIX ".hotpatch.build."
#define HOTPATCH_BUILD_RECORD_VERSION "v1"

#endif
