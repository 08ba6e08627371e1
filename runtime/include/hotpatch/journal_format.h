/* hotpatch/journal_format.h - the patches a program starts with.
 *
 * The contract between `thinlink --patch` (the writer) and the runtime (the
 * reader). Beside each program, thinlink keeps `<program>.hpjournal`, a text
 * file listing the patches of the program's current chain, in order:
 *
 *     hotpatch-journal 1 <build-id of the program, hex>
 *     1 /absolute/path/of/patch-1.hpp
 *     2 /absolute/path/of/patch-2.hpp
 *
 * A process of that build that starts after patches were made applies them,
 * in order, when the executable's slot table registers: a program restarted
 * by hand, or a second instance, runs the code last saved. A journal of
 * another build, or of another version, is ignored. HOTPATCH_DISABLE=1 turns
 * this off with the rest of the runtime; HOTPATCH_NO_CATCH_UP=1 only this.
 */
#ifndef HOTPATCH_JOURNAL_FORMAT_H
#define HOTPATCH_JOURNAL_FORMAT_H

#define HOTPATCH_JOURNAL_SUFFIX ".hpjournal"
#define HOTPATCH_JOURNAL_MAGIC "hotpatch-journal"
#define HOTPATCH_JOURNAL_VERSION 1

#endif
