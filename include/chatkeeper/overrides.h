/* overrides.json: what a person decided about a chat's messages, written by
 * hand in the session directory:
 *
 *   {"move": {"ID": [3], "ID2": []}, "hide": ["ID"], "opt_out": ["@user@domain"]}
 *
 * move puts a message under these questions ([] under none), hide leaves a
 * message out of every output, opt_out leaves out everything a person wrote.
 * It is read like the session file: every error names file:line:column and
 * the field, unknown keys get a "did you mean", and a question the session
 * does not have is an error (CK_ECONFIG, exit status 2).
 *
 * An id no captured message has is only a warning (with file:line:column):
 * overrides may be written during the chat, before the end sweep has fetched
 * the message, and refusing to build any outputs for that would hide every
 * other message from latecomers; the override simply takes effect once the
 * message is there. */
#ifndef CHATKEEPER_OVERRIDES_H
#define CHATKEEPER_OVERRIDES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "chatkeeper/error.h"
#include "chatkeeper/group.h"

/* One message id the file names, and where. */
struct ck_override_ref {
    char *id;   /* owned */
    char *path; /* owned: "move.123" or "hide[0]" */
    int line, col;
    bool found; /* set by ck_overrides_unknown */
};

struct ck_overrides {
    json_t *doc; /* the checked document (owned), as ck_group_assign takes it */
    char *name;  /* the file's name, for messages (owned) */
    struct ck_override_ref *refs;
    size_t n_refs;
};

/* Parse and check text, the contents of the file called name, for a session
 * with questions 1..n_questions. On success *out owns everything (finish
 * with ck_overrides_finish). Returns 0, CK_ECONFIG (err names
 * name:line:column and the field) or CK_ENOMEM; on error *out is empty. */
int ck_overrides_parse(const char *name, const char *text, size_t len, int n_questions,
                       struct ck_overrides *out, struct ck_error *err);

/* Read path. A missing file is no overrides: 0 with out->doc NULL.
 * Otherwise as ck_overrides_parse, or a negative errno / CK_EIO. */
int ck_overrides_load(const char *path, int n_questions, struct ck_overrides *out,
                      struct ck_error *err);

/* Called with one warning line ("file:line:col: field 'hide[0]': ..."). */
typedef void (*ck_overrides_warn_cb)(const char *line, void *arg);

/* Mark the ids the file names that are among msgs[0..n), and warn (through
 * cb, or ck_warn when cb is NULL) about each one that is not. Returns how
 * many were warned about. O(n log refs). */
size_t ck_overrides_unknown(struct ck_overrides *ov, const struct ck_group_msg *msgs, size_t n,
                            ck_overrides_warn_cb cb, void *arg);

/* ov may be empty or finished already. */
void ck_overrides_finish(struct ck_overrides *ov);

#endif
