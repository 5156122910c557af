/* Grouping as the archive runs it, for the views that show it live (the
 * console): what a session directory's session.json, state.json (posted
 * question ids), overrides.json and deleted.json say, prepared once; each
 * message's text is scanned once (ck_grouping_scanner, ck_group_scan_text)
 * and every message assigned at once. The archive itself (archive_group.c)
 * implements these and uses them through src/archive/archive_int.h, which
 * includes this header, so a live view files a message exactly as the archive
 * will. */
#ifndef CHATKEEPER_GROUPING_H
#define CHATKEEPER_GROUPING_H

#include <stddef.h>

#include "chatkeeper/error.h"

struct ck_group_msg;
struct ck_group_scanner;
struct ck_grouping;

/* *out: new (ck_grouping_close). A bad overrides.json or deleted.json is
 * CK_ECONFIG or CK_ECORRUPT naming the file; a bad session file CK_ECONFIG. */
int ck_grouping_open(const char *dir, struct ck_grouping **out, struct ck_error *err);
const struct ck_group_scanner *ck_grouping_scanner(const struct ck_grouping *g);
/* ck_group_assign with the session's questions and overrides (group.h):
 * hidden marks messages that overrides.json hides, whose authors opted out,
 * or that were found deleted. A bad overrides.json is CK_ECONFIG. */
int ck_grouping_assign(struct ck_grouping *g, struct ck_group_msg *msgs, size_t n,
                       struct ck_error *err);
void ck_grouping_close(struct ck_grouping *g); /* NULL is a no-op */

#endif
