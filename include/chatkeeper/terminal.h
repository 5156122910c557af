/* The catch-up reading in a terminal: a session directory's messages grouped
 * by question, threads indented, wrapped to the terminal's width.
 *
 * A terminal obeys what it is sent: ESC sequences can retitle the window,
 * rewrite the screen, or on some terminals answer back as typed input, and
 * bidi overrides make text read as something else. Every string that came
 * from a message or the session file goes through ck_term_clean first. */
#ifndef CHATKEEPER_TERMINAL_H
#define CHATKEEPER_TERMINAL_H

#include <stddef.h>
#include <stdio.h>

#include "chatkeeper/error.h"

/* s with everything a terminal would act on removed: C0 controls but '\n'
 * ('\t' becomes a space), DEL, C1 controls (U+0080-U+009F), bidi embeddings,
 * overrides, isolates and marks (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069); invalid UTF-8 becomes U+FFFD. s may be NULL (gives "").
 * New string (free with free()), or NULL on out of memory. */
char *ck_term_clean(const char *s);

/* Write text (already clean) to out, wrapped so that indent + a line's width
 * is at most width columns; width counts code points, and a UTF-8 sequence is
 * never split. Words longer than a line are broken; runs of spaces collapse;
 * '\n' starts a new line, and blank lines collapse to one. Each line starts
 * with indent spaces. width must exceed indent. */
void ck_term_wrap(FILE *out, const char *text, size_t indent, size_t width);

struct ck_catchup_opts {
    int question; /* only this question; 0 for all */
    int width;    /* columns, at least 20 */
};

/* Print dir's catch-up reading to out from dir/session.json (title, zone,
 * question texts) and dir/messages.jsonl: the transcript's sections with the
 * transcript's headings and counts ("N messages from M people"): a heading per
 * question, its messages oldest first with replies indented under their
 * parent (the question's own post is its heading, not a message), times in
 * the session's zone; boosts left out. Messages without "questions" (not
 * grouped yet) are shown as one group; messages under no question as
 * "Before and between the questions" after the questions. Lines of
 * messages.jsonl that are not records are
 * reported on stderr and skipped. Returns 0, CK_ENOTFOUND (no messages.jsonl
 * or session.json), CK_ECONFIG (session.json does not load), CK_EINVAL (no
 * such question), CK_ENOMEM or an I/O error. */
int ck_catchup_render(FILE *out, const char *dir, const struct ck_catchup_opts *o,
                      struct ck_error *err);

#endif
